"""Where secrets come from: secret-looking names, ``.env``, and never ``config.yaml``."""

from __future__ import annotations

from pathlib import Path

import pytest

from trio_paper.codec import converter
from trio_paper.config import Config, ConfigError, evolve, load, with_env_secrets
from trio_paper.secrets import (
    is_secret_name,
    is_secret_variable,
    load_dotenv,
    secret_fields,
    secret_values,
    words,
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("BITUNIX_API_KEY", ["bitunix", "api", "key"]),
        ("apiKey", ["api", "key"]),
        ("X-BAPI-SIGN", ["x", "bapi", "sign"]),
        ("HTTPToken", ["http", "token"]),
        ("venue.api_secret", ["venue", "api", "secret"]),
    ],
)
def test_words(name: str, expected: list[str]) -> None:
    assert words(name) == expected


@pytest.mark.parametrize(
    "name",
    [
        "BITUNIX_API_KEY", "BITUNIX_API_SECRET", "MY_TOKEN", "DB_PASSWORD", "PGPASSWORD",
        "apiKey", "api-key", "secretKey", "clientSecret", "passphrase", "sign", "signature",
        "Authorization", "AWS_ACCESS_KEY_ID", "GOOGLE_CREDENTIALS", "PRIVATE_KEY", "session_cookie",
    ],
)  # fmt: skip
def test_secret_names(name: str) -> None:
    assert is_secret_name(name)
    assert is_secret_variable(name)


@pytest.mark.parametrize(
    "name",
    [
        "KEYBOARD", "MONKEY", "TURNKEY", "GIT_AUTHOR_NAME", "TOKENIZERS_PARALLELISM", "signal",
        "design", "PASSENGER", "symbol", "interval", "risk_per_trade_pct", "max_tokens",
        "KeyError", "TokenError", "InvalidSignatureException", "SecretWarning", "",
    ],
)  # fmt: skip
def test_names_that_only_look_alike(name: str) -> None:
    assert not is_secret_name(name)


@pytest.mark.parametrize(
    "name", ["SSH_AUTH_SOCK", "BITUNIX_API_KEY_FILE", "GNUPG_SECRET_DIR", "PWD", "OLDPWD"]
)
def test_variables_that_say_where_a_secret_is_are_not_secrets(name: str) -> None:
    assert not is_secret_variable(name)


def test_dotenv_never_overrides_the_environment(tmp_path: Path) -> None:
    (tmp_path / ".env").write_text(
        "# comment\nBITUNIX_API_KEY=from-dotenv\nBITUNIX_API_SECRET='quoted value'\nEMPTY=\n"
    )
    environ = {"BITUNIX_API_KEY": "from-environment"}
    added = load_dotenv(tmp_path / ".env", environ)
    assert added == ["BITUNIX_API_SECRET", "EMPTY"]
    assert environ == {
        "BITUNIX_API_KEY": "from-environment",
        "BITUNIX_API_SECRET": "quoted value",
        "EMPTY": "",
    }


def test_no_dotenv_adds_nothing(tmp_path: Path) -> None:
    environ: dict[str, str] = {}
    assert load_dotenv(tmp_path / ".env", environ) == []
    assert environ == {}


# --- config ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("yaml", "key", "env"),
    [
        ("venue:\n  api_key: abc123\n", "venue.api_key", "BITUNIX_API_KEY"),
        ("venue:\n  api_secret: abc123\n", "venue.api_secret", "BITUNIX_API_SECRET"),
        ("strategy:\n  params:\n    password: hunter2\n", "strategy.params.password", None),
        ("extra:\n  - {name: x, token: 7}\n", "extra[0].token", None),
        ("secret: 'x'\n", "secret", None),
    ],
)
def test_a_secret_in_config_yaml_is_refused(
    tmp_path: Path, yaml: str, key: str, env: str | None
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(yaml)
    with pytest.raises(ConfigError) as caught:
        load(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: {key} looks like a secret")
    assert "environment" in message
    assert ".env" in message
    if env:
        assert env in message
    assert "abc123" not in message
    assert "hunter2" not in message


def test_an_empty_secret_key_is_ignored(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("venue:\n  api_key:\n  api_secret: ''\n  symbol: ETHUSDT\n")
    config = load(path)
    assert config.venue.symbol == "ETHUSDT"
    assert config.venue.api_key is None
    assert config.venue.api_secret is None


def test_secret_fields_come_from_the_environment() -> None:
    environ = {"BITUNIX_API_KEY": "key-from-env-1\n", "BITUNIX_API_SECRET": ""}
    config = with_env_secrets(Config(), environ)
    assert config.venue.api_key == "key-from-env-1"
    assert config.venue.api_secret is None
    assert with_env_secrets(Config(), {}) == Config()


def test_secret_fields_are_never_shown_or_saved_in_clear() -> None:
    config = evolve(Config(), venue={"api_key": "key-abcdef-123", "api_secret": "sec-abcdef-456"})
    assert "abcdef" not in repr(config)
    venue = converter.unstructure(config)["venue"]
    assert venue["api_key"] == venue["api_secret"] == "***"
    assert venue["symbol"] == "BTCUSDT"
    assert converter.unstructure(Config())["venue"]["api_key"] is None
    assert dict(secret_fields(config)) == {
        "venue.api_key": "key-abcdef-123",
        "venue.api_secret": "sec-abcdef-456",
    }
    assert secret_values(config) == ["key-abcdef-123", "sec-abcdef-456"]
    assert secret_values(Config()) == []
