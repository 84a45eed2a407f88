"""``config.yaml`` → a frozen ``Config``; every key is known, typed and checked before start.

Units are in the key names: ``_s`` seconds, ``_pct`` percent (1 means 1 %), ``_usdt`` USDT.
A missing file means the defaults below, which are also what ``config.yaml`` in the repository
spells out with a comment per key. Secrets never live here: see ``secrets.py``.
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import cattrs
from attrs.validators import ge, gt, in_, le

from .codec import MalformedMessage, config_converter, converter, structure
from .errors import UsageError
from .secrets import is_secret_name
from .times import INTERVAL_MS

D = Decimal


class ConfigError(UsageError):
    """A config file that cannot be used; the message names the file and the key."""


@attrs.frozen
class VenueConfig:
    """Which exchange, where, and what to trade. ``name`` picks a folder of ``venues/`` (checked
    against the registry when the config is loaded); empty URLs mean that venue's own."""

    name: str = "bitunix"
    ws_url: str | None = None
    rest_url: str | None = None
    symbol: str = "BTCUSDT"
    interval: str = attrs.field(default="1min", validator=in_(list(INTERVAL_MS)))
    # Secrets: from the environment only (``with_env_secrets``), never shown or saved in clear.
    api_key: str | None = attrs.field(
        default=None, repr=False, metadata={"secret": True, "env": "BITUNIX_API_KEY"}
    )
    api_secret: str | None = attrs.field(
        default=None, repr=False, metadata={"secret": True, "env": "BITUNIX_API_SECRET"}
    )


@attrs.frozen
class FeedConfig:
    ping_interval_s: float = attrs.field(default=15.0, validator=[gt(0.2), le(50.0)])
    pong_timeout_s: float = attrs.field(default=5.0, validator=gt(0))
    stale_after_s: float = attrs.field(default=10.0, validator=gt(0))
    connect_timeout_s: float = attrs.field(default=10.0, validator=gt(0))
    backoff_initial_s: float = attrs.field(default=0.5, validator=gt(0))
    backoff_max_s: float = attrs.field(default=30.0, validator=gt(0))
    healthy_after_s: float = attrs.field(default=60.0, validator=ge(0))
    queue_size: int = attrs.field(default=10_000, validator=gt(0))
    max_message_bytes: int = attrs.field(default=4 * 1024 * 1024, validator=gt(0))
    bar_grace_s: float = attrs.field(default=2.0, validator=ge(0))
    tick_interval_s: float = attrs.field(default=1.0, validator=gt(0))
    warmup_bars: int = attrs.field(default=200, validator=ge(0))
    max_clock_skew_s: float = attrs.field(default=300.0, validator=gt(0))


@attrs.frozen
class InstrumentConfig:
    tick_size: Decimal = attrs.field(default=D("0.1"), validator=gt(D(0)))
    lot_step: Decimal = attrs.field(default=D("0.0001"), validator=gt(D(0)))
    min_notional_usdt: Decimal = attrs.field(default=D("5"), validator=ge(D(0)))
    max_price_usdt: Decimal = attrs.field(default=D("10000000"), validator=gt(D(0)))
    max_funding_rate_pct: Decimal = attrs.field(default=D("5"), validator=gt(D(0)))


@attrs.frozen
class AccountConfig:
    starting_cash_usdt: Decimal = attrs.field(default=D("10000"), validator=gt(D(0)))
    leverage: int = attrs.field(default=10, validator=[ge(1), le(125)])


@attrs.frozen
class BrokerConfig:
    taker_fee_pct: Decimal = attrs.field(default=D("0.06"), validator=ge(D(0)))
    maker_fee_pct: Decimal = attrs.field(default=D("0.02"), validator=ge(D(0)))
    slippage_pct: Decimal = attrs.field(default=D("0.01"), validator=ge(D(0)))
    max_quote_age_s: float = attrs.field(default=5.0, validator=gt(0))
    participation_pct: Decimal = attrs.field(default=D("10"), validator=[gt(D(0)), le(D(100))])
    limit_ttl_s: float = attrs.field(default=300.0, validator=gt(0))
    maintenance_margin_pct: Decimal = attrs.field(default=D("0.5"), validator=[ge(D(0)), le(D(50))])
    fill_at: str = attrs.field(default="close", validator=in_(["close", "next_open"]))


@attrs.frozen
class RiskConfig:
    risk_per_trade_pct: Decimal = attrs.field(default=D("1"), validator=[gt(D(0)), le(D(100))])
    max_risk_per_trade_pct: Decimal = attrs.field(default=D("2"), validator=[gt(D(0)), le(D(100))])
    default_stop_pct: Decimal = attrs.field(default=D("1"), validator=[gt(D(0)), le(D(50))])
    max_leverage: Decimal = attrs.field(default=D("5"), validator=gt(D(0)))
    max_notional_usdt: Decimal = attrs.field(default=D("50000"), validator=gt(D(0)))
    max_orders_per_minute: int = attrs.field(default=6, validator=gt(0))
    min_entry_interval_s: float = attrs.field(default=50.0, validator=ge(0))
    breaker_losses: int = attrs.field(default=3, validator=gt(0))
    breaker_drawdown_pct: Decimal = attrs.field(default=D("5"), validator=[gt(D(0)), le(D(100))])
    daily_loss_limit_pct: Decimal = attrs.field(default=D("3"), validator=[gt(D(0)), le(D(100))])


@attrs.frozen
class StrategyConfig:
    name: str = "ema_cross"
    params: dict[str, Any] = attrs.Factory(dict)


def _address(instance: object, attribute: attrs.Attribute[Any], value: str) -> None:
    host, sep, port = value.rpartition(":")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ValueError(f"{attribute.name}: not host:port: {value!r}")


ALERT_MODES = ["on", "silent", "off"]
"""``silent``: sent without a sound where the channel can (Telegram); ``off``: not sent."""


def _mode(default: str) -> Any:
    return attrs.field(default=default, validator=in_(ALERT_MODES))


@attrs.frozen
class AlertEventsConfig:
    session: str = _mode("on")
    kill: str = _mode("on")
    halt: str = _mode("on")
    feed_down: str = _mode("on")
    feed_up: str = _mode("silent")
    degraded: str = _mode("on")
    fatal: str = _mode("on")
    fill: str = _mode("off")


@attrs.frozen
class AlertsConfig:
    """Where alerts go is a secret (``TRIO_PAPER_ALERT_URLS``); what and how often is here."""

    down_after_s: float = attrs.field(default=60.0, validator=ge(0))
    max_per_event: int = attrs.field(default=5, validator=gt(0))
    per_s: float = attrs.field(default=3600.0, validator=gt(0))
    send_timeout_s: float = attrs.field(default=10.0, validator=gt(0))
    events: AlertEventsConfig = attrs.Factory(AlertEventsConfig)


@attrs.frozen
class SessionConfig:
    minutes: float = attrs.field(default=10.0, validator=[gt(0), le(366 * 24 * 60)])
    checkpoint_interval_s: float = attrs.field(default=30.0, validator=gt(0))
    commit_interval_ms: int = attrs.field(default=50, validator=[ge(1), le(1000)])
    status_interval_s: float = attrs.field(default=30.0, validator=gt(0))
    stop_grace_s: float = attrs.field(default=10.0, validator=gt(0))
    # ``host:port`` for the live page, /healthz and /metrics (``run --serve`` overrides).
    serve: str | None = attrs.field(default=None, validator=attrs.validators.optional(_address))


@attrs.frozen
class LogConfig:
    level: str = attrs.field(default="INFO", validator=in_(["DEBUG", "INFO", "WARNING", "ERROR"]))
    max_bytes: int = attrs.field(default=10 * 1024 * 1024, validator=gt(1024))
    backups: int = attrs.field(default=5, validator=ge(1))


@attrs.frozen
class Config:
    """Everything ``config.yaml`` can say, checked whole before anything starts (``load``);
    every section has its defaults, spelled out in the repository's ``config.yaml``."""

    venue: VenueConfig = attrs.Factory(VenueConfig)
    feed: FeedConfig = attrs.Factory(FeedConfig)
    instrument: InstrumentConfig = attrs.Factory(InstrumentConfig)
    account: AccountConfig = attrs.Factory(AccountConfig)
    broker: BrokerConfig = attrs.Factory(BrokerConfig)
    risk: RiskConfig = attrs.Factory(RiskConfig)
    strategy: StrategyConfig = attrs.Factory(StrategyConfig)
    session: SessionConfig = attrs.Factory(SessionConfig)
    logging: LogConfig = attrs.Factory(LogConfig)
    alerts: AlertsConfig = attrs.Factory(AlertsConfig)


def _masking(cls: type, conv: cattrs.Converter) -> Any:
    """Unstructure ``cls`` with its secret fields as ``***`` when set: never saved in clear."""
    secret = [f.name for f in attrs.fields(cls) if f.metadata.get("secret")]

    def unstructure(value: Any) -> dict[str, Any]:
        data = {f.name: conv.unstructure(getattr(value, f.name)) for f in attrs.fields(cls)}
        for name in secret:
            if data[name] is not None:
                data[name] = "***"
        return data

    return unstructure


for _conv in (converter, config_converter):
    _conv.register_unstructure_hook(VenueConfig, _masking(VenueConfig, _conv))


def refuse_secrets(data: object, source: str, path: str = "") -> None:
    """A secret-looking key with a value anywhere in a config file is a ``ConfigError``."""
    if isinstance(data, dict):
        for key, value in data.items():
            dotted = f"{path}.{key}" if path else str(key)
            if isinstance(key, str) and is_secret_name(key) and value not in (None, "", [], {}):
                fields = attrs.fields_dict(VenueConfig)
                env = fields[key].metadata.get("env") if path == "venue" and key in fields else None
                where = f"the environment variable {env}" if env else "an environment variable"
                raise ConfigError(
                    f"{source}: {dotted} looks like a secret, and secrets never go in a config "
                    f"file; set {where} instead, or put it in <home>/.env (see .env.example)"
                )
            refuse_secrets(value, source, dotted)
    elif isinstance(data, list):
        for index, value in enumerate(data):
            refuse_secrets(value, source, f"{path}[{index}]")


def with_env_secrets(config: Config, environ: Mapping[str, str]) -> Config:
    """``config`` with its secret fields set from the environment variables they name."""
    values = {
        f.name: environ[f.metadata["env"]].strip()
        for f in attrs.fields(VenueConfig)
        if f.metadata.get("env") and environ.get(f.metadata["env"], "").strip()
    }
    return evolve(config, venue=values) if values else config


def from_dict(data: object, source: str) -> Config:
    """Structure a parsed config; errors name ``source`` and the dotted key."""
    if data is None:
        data = {}
    if isinstance(data, dict):  # a section whose keys are all commented out reads as null
        data = {name: {} if value is None else value for name, value in data.items()}
    refuse_secrets(data, source)
    data = _alert_modes(data)
    if isinstance(data, dict) and isinstance(data.get("venue"), dict):
        secret = [f.name for f in attrs.fields(VenueConfig) if f.metadata.get("secret")]
        data = {**data, "venue": {k: v for k, v in data["venue"].items() if k not in secret}}
    try:
        return structure(data, Config, "$", using=config_converter)
    except MalformedMessage as exc:
        key = exc.where.removeprefix("$").removeprefix(".") or "(top level)"
        raise ConfigError(f"{source}: {key}: {exc.reason}") from None
    except (ValueError, TypeError) as exc:  # an attrs validator: the message names the field
        raise ConfigError(f"{source}: {exc}") from None


def _alert_modes(data: object) -> object:
    """YAML reads a bare ``on``/``off`` as a boolean: ``alerts.events`` takes it as the word."""
    alerts = data.get("alerts") if isinstance(data, dict) else None
    events = alerts.get("events") if isinstance(alerts, dict) else None
    if not isinstance(events, dict):
        return data
    words = {k: ("on" if v else "off") if isinstance(v, bool) else v for k, v in events.items()}
    assert isinstance(data, dict)
    assert isinstance(alerts, dict)
    return {**data, "alerts": {**alerts, "events": words}}


def load(path: Path | None) -> Config:
    """Read ``path`` (YAML); ``None`` means the defaults."""
    if path is None:
        return Config()
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read ({exc})") from None
    import yaml  # noqa: PLC0415 - only with a config file: 9 ms of every start-up otherwise

    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"{path}:{mark.line + 1}:{mark.column + 1}" if mark is not None else str(path)
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"{where}: not valid YAML: {problem}") from None
    return from_dict(data, str(path))


def evolve(config: Config, **sections: dict[str, Any]) -> Config:
    """A copy with some keys replaced, e.g. ``evolve(c, venue={"ws_url": url})``."""
    return attrs.evolve(
        config,
        **{
            name: attrs.evolve(getattr(config, name), **values) for name, values in sections.items()
        },
    )
