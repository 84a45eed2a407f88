"""config.yaml and its loader: the shipped file is the built-in defaults spelled out, and a bad
file stops everything with one line naming the file and the dotted key."""

from __future__ import annotations

import argparse
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs
import pytest
import yaml

from trio_paper.app.settings import config_of
from trio_paper.config import Config, ConfigError, evolve, load
from trio_paper.engine.strategies import BUILTIN
from trio_paper.engine.strategies import load as load_strategy

REPO = Path(__file__).resolve().parents[1]
CONFIG_YAML = REPO / "config.yaml"


def _leaf_keys(cls: type, prefix: str = "") -> set[str]:
    """Dotted names of every setting in ``cls`` (secrets come from the environment only)."""
    keys = set()
    for field in attrs.fields(attrs.resolve_types(cls)):
        if field.metadata.get("secret"):
            continue
        name = f"{prefix}{field.name}"
        if isinstance(field.type, type) and attrs.has(field.type):
            keys |= _leaf_keys(field.type, name + ".")
        else:
            keys.add(name)
    return keys


def _yaml_keys(data: dict[str, Any], prefix: str = "") -> set[str]:
    keys = set()
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, dict) and name != "strategy.params":
            keys |= _yaml_keys(value, name + ".")
        else:
            keys.add(name)
    return keys


def test_the_shipped_config_is_the_defaults() -> None:
    """Everything but the strategy's params equals ``Config()``; the params it spells out are
    the strategy's own defaults."""
    shipped = load(CONFIG_YAML)
    defaults = Config()
    assert attrs.evolve(shipped, strategy=defaults.strategy) == defaults
    assert shipped.strategy.name == defaults.strategy.name == "ema_cross"
    strategy = load_strategy(shipped.strategy.name, shipped.strategy.params)
    assert strategy.params == BUILTIN["ema_cross"].Params()


def test_the_shipped_config_names_every_setting_with_a_comment() -> None:
    text = CONFIG_YAML.read_text(encoding="utf-8")
    assert _yaml_keys(yaml.safe_load(text)) == _leaf_keys(Config)
    uncommented = [
        line
        for line in text.splitlines()
        if line.startswith("  ") and ":" in line and "#" not in line and not line.endswith(":")
        and not line.startswith("    ")  # strategy params: documented by the strategy
    ]  # fmt: skip
    assert uncommented == []


def test_no_file_means_the_defaults(tmp_path: Path) -> None:
    assert load(None) == Config()
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing set\n")
    assert load(empty) == Config()


def test_a_partial_file_overrides_only_what_it_names(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("broker:\n  taker_fee_pct: 0.05\naccount:\n  leverage: 3\n")
    config = load(path)
    assert config.broker.taker_fee_pct == Decimal("0.05")  # through its text, not a float
    assert config.account.leverage == 3
    assert config.broker.maker_fee_pct == Config().broker.maker_fee_pct
    assert config == evolve(Config(), broker={"taker_fee_pct": Decimal("0.05")},
                            account={"leverage": 3})  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("feed:\n  pingg: 1\n", "feed.pingg: unknown key"),
        ("bogus: 1\n", "bogus: unknown key"),
        ("feed:\n  ping_interval_s: '15'\n", "feed.ping_interval_s: expected a number, got str"),
        ("account:\n  leverage: 3.5\n", "account.leverage: expected int, got float 3.5"),
        ("account:\n  leverage: true\n", "account.leverage: expected int, got bool True"),
        ("feed:\n  queue_size: 1.0\n", "feed.queue_size: expected int, got float 1.0"),
        ("venue:\n  symbol: 5\n", "venue.symbol: expected str, got int 5"),
        ("logging:\n  level: LOUD\n", "logging.level: must be in"),
        ("account:\n  leverage: 200\n", "account.leverage: must be <= 125: 200"),
        ("feed:\n  ping_interval_s: 0.1\n", "feed.ping_interval_s: must be > 0.2: 0.1"),
        ("risk:\n  max_notional_usdt: -1\n", "risk.max_notional_usdt: must be > 0: -1"),
        ("risk:\n  max_notional_usdt: .nan\n", "risk.max_notional_usdt: not a decimal number"),
        ("venue:\n  interval: 7min\n", "venue.interval: must be in"),
        ("feed: [1]\n", "feed: expected an object, got a list of 1"),
        ("- 1\n", "(top level): expected an object"),
    ],
)
def test_a_bad_value_names_the_file_and_the_dotted_key(
    tmp_path: Path, text: str, message: str
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text)
    with pytest.raises(ConfigError) as info:
        load(path)
    assert str(info.value).startswith(f"{path}: {message}")
    assert "\n" not in str(info.value)


def test_bad_yaml(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text("feed:\n  ping_interval_s: [\n")
    with pytest.raises(ConfigError, match="not valid YAML") as info:
        load(path)
    assert str(info.value).startswith(f"{path}:3:1: ")


def test_missing_and_unreadable_files(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as info:
        load(tmp_path / "nope.yaml")
    assert str(info.value) == f"{tmp_path / 'nope.yaml'}: no such file"
    binary = tmp_path / "binary.yaml"
    binary.write_bytes(b"feed: \xff\n")
    with pytest.raises(ConfigError, match="cannot read"):
        load(binary)


def test_an_interval_the_venue_does_not_serve_names_the_venue(tmp_path: Path) -> None:
    """3-minute bars exist on Binance USD-M, not in Bitunix's REST klines (no backfill)."""
    path = tmp_path / "config.yaml"
    path.write_text("venue:\n  interval: 3min\n")
    with pytest.raises(ConfigError, match=r"venue\.interval: bitunix has no '3min' bars"):
        config_of(argparse.Namespace(config=path))
    path.write_text("venue:\n  name: binance_usdm\n  interval: 3min\n")
    assert config_of(argparse.Namespace(config=path))[0].venue.interval == "3min"
