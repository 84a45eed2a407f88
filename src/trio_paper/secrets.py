"""Where secrets come from, and which names look like one.

Secrets live in the environment or in ``<home>/.env`` (loaded without overriding what the
environment already says), never in ``config.yaml``. A name looks secret when one of its
words — split at ``_``, ``-``, ``.`` and camelCase humps — is a secret word (``BITUNIX_API_KEY``,
``apiKey``, ``X-BAPI-SIGN``, ``db.password``) or ends in one (``PGPASSWORD``). Whole words only:
``KEYBOARD``, ``MONKEY``, ``GIT_AUTHOR_NAME`` and ``TOKENIZERS_PARALLELISM`` are not secrets, nor
is a name for a kind of thing (``KeyError``: a traceback's ``KeyError: 'symbol'`` stays).

An environment variable that names where a secret is, not the secret itself, is not scrubbed
by value: a last word of ``SOCK``, ``SOCKET``, ``PATH``, ``FILE``, ``DIR`` or ``HOME``
(``SSH_AUTH_SOCK`` is the path of the agent's socket: knowing it grants nothing to anyone who
is not already this user, and erasing every occurrence of a path from the logs would only make
them harder to read). ``PWD`` and ``OLDPWD`` are the working directory.
"""

from __future__ import annotations

import os
import re
import urllib.parse
from collections.abc import Iterator, Mapping, MutableMapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

if TYPE_CHECKING:
    from attrs import AttrsInstance

SECRET_WORDS = frozenset(
    {
        "key", "apikey", "secret", "secrets", "token", "password", "passwords", "passwd", "pass",
        "pwd", "passphrase", "auth", "authorization", "credential", "credentials", "private",
        "privatekey", "sign", "signature", "sig", "cookie", "accesskey", "secretkey",
    }
)  # fmt: skip
SECRET_SUFFIXES = ("password", "passwd", "secret", "token", "passphrase", "apikey")
"""A word ending in one of these is secret too: ``PGPASSWORD``, ``clientSecret`` → ``secret``."""
LOCATION_WORDS = frozenset({"sock", "socket", "path", "file", "dir", "home"})
KIND_WORDS = frozenset({"error", "errors", "exception", "warning"})
"""A last word that makes a name a kind of thing, not a value: ``KeyError: 'a'`` stays."""
NOT_SECRET_NAMES = frozenset({"PWD", "OLDPWD"})

_WORDS = re.compile(r"[A-Z]+(?![a-z])|[A-Z]?[a-z]+|[0-9]+")


def words(name: str) -> list[str]:
    """``X-BAPI-SIGN`` → x, bapi, sign; ``apiKey`` → api, key; ``HTTPToken`` → http, token."""
    return [w.lower() for w in _WORDS.findall(name)]


def is_secret_word(word: str) -> bool:
    return word in SECRET_WORDS or word.endswith(SECRET_SUFFIXES)


def is_secret_name(name: str) -> bool:
    """Whether a key or variable called ``name`` holds a secret."""
    parts = words(name)
    return bool(parts) and parts[-1] not in KIND_WORDS and any(map(is_secret_word, parts))


def is_secret_variable(name: str) -> bool:
    """Whether the environment variable ``name`` holds a secret (see the module docstring)."""
    if name in NOT_SECRET_NAMES:
        return False
    parts = words(name)
    return bool(parts) and parts[-1] not in LOCATION_WORDS and is_secret_name(name)


def secret_variables(environ: Mapping[str, str]) -> dict[str, str]:
    """The environment variables that look secret and have a value."""
    return {
        name: value for name, value in environ.items() if value.strip() and is_secret_variable(name)
    }


def load_dotenv(path: Path, environ: MutableMapping[str, str] | None = None) -> list[str]:
    """Add the variables ``path`` (a ``.env`` file) sets to ``environ`` (default ``os.environ``)
    unless they are set already; return the names added. A missing file adds nothing."""
    target = os.environ if environ is None else environ
    if not path.is_file():
        return []
    from dotenv import dotenv_values  # noqa: PLC0415 - only with a .env: 5 ms of every start-up

    added = []
    for name, value in dotenv_values(path).items():
        if value is not None and name not in target:
            target[name] = value
            added.append(name)
    return added


def secret_fields(obj: AttrsInstance) -> Iterator[tuple[str, Any]]:
    """``(dotted name, value)`` of every field marked ``metadata={"secret": True}`` in a tree of
    attrs instances, set or not."""
    for field in attrs.fields(type(obj)):
        value = getattr(obj, field.name)
        if field.metadata.get("secret"):
            yield field.name, value
        elif attrs.has(type(value)):
            for name, inner in secret_fields(value):
                yield f"{field.name}.{name}", inner


def secret_values(obj: AttrsInstance) -> list[str]:
    """The values of the secret fields of ``obj`` that are set: for the scrubber."""
    return [value for _, value in secret_fields(obj) if isinstance(value, str) and value]


ALERT_URLS_ENV = "TRIO_PAPER_ALERT_URLS"
"""Where the apprise URLs of the alerts come from: they hold tokens (runtime/alerts.py)."""


def alert_urls(environ: Mapping[str, str]) -> list[str]:
    """The apprise URLs in ``TRIO_PAPER_ALERT_URLS`` (comma-separated; blanks ignored)."""
    return [url.strip() for url in environ.get(ALERT_URLS_ENV, "").split(",") if url.strip()]


def secret_parts(urls: list[str]) -> list[str]:
    """Every piece of ``urls`` that may be a token, for the scrubber: each whole URL, its user
    and password, a host that is not a host name (``tgram://<bot token>/...``), each path
    segment and each query value. Short pieces are left to the scrubber's minimum length."""
    parts: list[str] = []
    for url in urls:
        split = urllib.parse.urlsplit(url)
        parts.append(url)
        userinfo, _, host = split.netloc.rpartition("@")
        parts += [p for p in userinfo.split(":") if p]
        if host and "." not in host and host != "localhost":
            parts.append(host)
        parts += [p for p in split.path.split("/") if p]
        parts += [v for _, v in urllib.parse.parse_qsl(split.query)]
    return [p for p in dict.fromkeys(parts) if p]
