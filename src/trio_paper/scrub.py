"""Scrubbing: secrets replaced by ``***`` in everything written to a file or the terminal.

Every sink calls it: ``AppendLog`` (journal and recording), the manifest, the reports, the log
formatters and the CLI's stdout and stderr (``scrubbing_terminal``). What goes:

- the values of secret-looking environment variables (``.env`` included) and of the config's
  secret fields, at least ``MIN_SECRET_LENGTH`` characters long, also as they appear
  JSON-escaped, escaped twice (a frame inside a recording line), URL-quoted or in a ``repr``;
- the value in ``key=value``, ``key: value``, ``"key": "value"`` and ``'key': 'value'`` when the
  key looks secret (``api_key``, ``apiKey``, ``sign``, ``password``, ``Authorization`` ...,
  see ``secrets.is_secret_name``), which covers query parameters (``?apiKey=...&sign=...``);
- ``Bearer <token>``; the user and password in a URL (``wss://user:pass@host`` →
  ``wss://***@host``).

There is no rule for "anything long and random": ids, hashes, UUIDs and prices pass intact.
A line with nothing to scrub costs one regex search (for a secret value, a URL with ``@`` or a
``TRIGGERS`` word) and comes back as the very same object: scrubbing changes a journal or a
recording only where a secret was, so a replay's journal stays byte-identical to the live one.
"""

from __future__ import annotations

import json
import os
import re
import sys
import urllib.parse
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TextIO, cast

from .secrets import is_secret_name, secret_variables

MASK = "***"
MIN_SECRET_LENGTH = 8
"""Shorter values are not scrubbed by value: a ``1`` would erase every digit."""

TRIGGERS = ("key", "secret", "token", "pass", "pwd", "auth", "sig", "cred", "private", "cookie")
"""A substring of every secret word: a line without one (and without ``bearer``, a URL with
``@`` or a secret value) has nothing the rules below could match."""
_TRIGGERS = "|".join((*TRIGGERS, "bearer"))
_USERINFO = r"[^\s/?#@\"'\\]{1,2048}@"
_URL_USERINFO = "://" + _USERINFO
# Bounded and anchored at the start of a word, so that a long line cannot make it quadratic.
URL_USERINFO = re.compile(
    r"(?<![A-Za-z0-9+.-])(?P<scheme>[A-Za-z][A-Za-z0-9+.-]{0,31}://)" + _USERINFO
)
BEARER = re.compile(r"(?i)(?P<head>\bbearer\s+)[A-Za-z0-9._~+/-]{8,}=*")
"""A token: 8 characters or more, so that "Bearer of bad news" stays."""
PAIR_KEY = re.compile(
    r"""(?<![\w.-])(?P<key>[A-Za-z_][\w.-]*)
        (?P<sep>(?P<quote>\\*["'])?[ \t]*[:=][ \t]*(?:(?i:bearer|basic|token|digest)[ \t]+)?)""",
    re.VERBOSE,
)
"""A key, its closing quote if quoted, ``:`` or ``=``, and an auth scheme if any."""
PAIR_VALUE = re.compile(
    r"""(?P<quote>\\*")[^"\\\n]+|(?P<single>\\*')[^'\\\n]+|[^\s"'\\&#,;()\[\]{}<>]+"""
)
"""A quoted value up to its closing quote or a backslash (the mask then ends where the value
did, so JSON stays JSON), or a bare one up to a delimiter."""
NOTHING = frozenset({"null", "true", "false", "None", "True", "False"})


def _mask_pairs(text: str) -> str:
    parts: list[str] = []
    done = 0
    for key in PAIR_KEY.finditer(text):
        if key.start() < done or not is_secret_name(key["key"]):
            continue
        value = PAIR_VALUE.match(text, key.end())
        if value is None or value[0] in NOTHING:
            continue
        if (quote := value["quote"] or value["single"]) is not None:  # "key": "v" → "key": "***"
            mask = quote + MASK
        elif key["quote"] is not None:  # "key": 123 → "key": "***", still JSON
            mask = f"{key['quote']}{MASK}{key['quote']}"
        else:  # key=value
            mask = MASK
        parts += (text[done : key.end()], mask)
        done = value.end()
    parts.append(text[done:])
    return "".join(parts)


def _json_escapes(value: str) -> set[str]:
    return {json.dumps(value, ensure_ascii=False)[1:-1], json.dumps(value)[1:-1]}


def variants(value: str) -> set[str]:
    """``value`` as it may appear in our files: raw, JSON-escaped (once, and twice for a frame
    inside a recording line; non-ASCII kept or escaped), URL-quoted, and inside a ``repr``."""
    once = _json_escapes(value)
    twice = {form for escaped in once for form in _json_escapes(escaped)}
    quoted = {urllib.parse.quote(value, safe=""), urllib.parse.quote_plus(value, safe="")}
    return {value, *once, *twice, *quoted, repr(value)[1:-1]}


class Scrubber:
    """Replaces secrets with ``***``; build one with ``from_environ``."""

    def __init__(self, values: Iterable[str] = (), min_length: int = MIN_SECRET_LENGTH) -> None:
        """``values`` are secrets to scrub wherever they appear; shorter than ``min_length``
        they are ignored (``short`` counts them)."""
        stripped = [v.strip() for v in values if v.strip()]
        kept = {v for v in stripped if len(v) >= min_length}
        # A multi-line secret (a PEM key) may show a line at a time, in a traceback say.
        kept |= {line.strip() for v in kept for line in v.splitlines()}
        kept = {v for v in kept if len(v) >= min_length}
        self.short = sum(len(v) < min_length for v in stripped)
        literals = sorted({form for v in kept for form in variants(v)}, key=len, reverse=True)
        self._literal = re.compile("|".join(map(re.escape, literals))) if literals else None
        # The fast check runs on the line lowered (casefolded: context-free, so a secret in the
        # line is still a substring), which spares it a slow case-insensitive alternation.
        fast = [_URL_USERINFO, _TRIGGERS, *(re.escape(form.casefold()) for form in literals)]
        self._fast = re.compile("|".join(fast))
        fast_bytes = [_URL_USERINFO.encode(), _TRIGGERS.encode()]
        fast_bytes += (re.escape(form.encode().lower()) for form in literals)
        self._fast_bytes = re.compile(b"|".join(fast_bytes))
        self.names: tuple[str, ...] = ()
        """The environment variables whose values it scrubs (set by ``from_environ``)."""

    @classmethod
    def from_environ(
        cls,
        environ: Mapping[str, str],
        extra: Iterable[str] = (),
        min_length: int = MIN_SECRET_LENGTH,
    ) -> Scrubber:
        """Scrub the secret-looking variables of ``environ`` and the ``extra`` values (the
        config's secret fields: ``secrets.secret_values(config)``)."""
        found = secret_variables(environ)
        scrubber = cls([*found.values(), *extra], min_length)
        scrubber.names = tuple(sorted(found))
        return scrubber

    def scrub_text(self, text: str) -> str:
        """``text`` with its secrets masked; ``text`` itself when there are none."""
        if self._fast.search(text.casefold()) is None:
            return text
        if self._literal is not None:
            text = self._literal.sub(MASK, text)
        text = URL_USERINFO.sub(rf"\g<scheme>{MASK}@", text)
        text = BEARER.sub(rf"\g<head>{MASK}", text)
        return _mask_pairs(text)

    def scrub_bytes(self, data: bytes) -> bytes:
        """The same for bytes (UTF-8; any other byte passes through unchanged)."""
        if self._fast_bytes.search(data.lower()) is None:
            return data
        text = data.decode("utf-8", "surrogateescape")
        scrubbed = self.scrub_text(text)
        return data if scrubbed == text else scrubbed.encode("utf-8", "surrogateescape")


# --- the process-wide scrubber ------------------------------------------------------------------

_current: Scrubber | None = None


def install(scrubber: Scrubber | None) -> Scrubber | None:
    """Make ``scrubber`` the one every sink uses; return the one it replaces. The CLI installs
    one per command, after ``.env`` is loaded and the config read. None: build one from the
    environment when next needed."""
    global _current
    previous, _current = _current, scrubber
    return previous


def current() -> Scrubber:
    """The installed scrubber; until one is, one built from ``os.environ`` as it is now."""
    global _current  # noqa: PLW0603 - one per process, like logging's root
    if _current is None:
        _current = Scrubber.from_environ(os.environ)
    return _current


def scrub_text(text: str) -> str:
    """``current().scrub_text(text)``: for anything about to be written or printed."""
    return current().scrub_text(text)


def scrub_bytes(data: bytes) -> bytes:
    """``current().scrub_bytes(data)``: for anything about to be written to a file."""
    return current().scrub_bytes(data)


# --- the terminal -------------------------------------------------------------------------------


class ScrubbingStream:
    """A text stream that scrubs every ``write`` before passing it on; the rest is delegated."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream

    def write(self, text: str) -> int:
        self.stream.write(scrub_text(text))
        return len(text)

    def writelines(self, lines: Iterable[str]) -> None:
        for line in lines:
            self.write(line)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.stream, name)


@contextmanager
def scrubbing_terminal() -> Iterator[None]:
    """Scrub everything written to ``sys.stdout`` and ``sys.stderr`` inside the block: prints,
    the logs on stderr, the status panel, progress bars."""
    saved = sys.stdout, sys.stderr
    sys.stdout = cast(TextIO, ScrubbingStream(sys.stdout))
    sys.stderr = cast(TextIO, ScrubbingStream(sys.stderr))
    try:
        yield
    finally:
        sys.stdout, sys.stderr = saved
