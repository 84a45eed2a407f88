"""``replay``: recordings and candle files through the very same engine, deterministically."""

from __future__ import annotations

import gc
import gzip
import itertools
from collections.abc import Sequence
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from pathlib import Path
from typing import Any

import pytest

from trio_paper.app.replay import COLLECT_AFTER, ReplayResult, replay
from trio_paper.config import Config, evolve
from trio_paper.engine.intents import Intent
from trio_paper.engine.strategies import load
from trio_paper.engine.strategies.base import View
from trio_paper.engine.strategies.ema_cross import EmaCross, EmaParams
from trio_paper.model import Bar
from trio_paper.store.journal import read_journal


def journal(result: ReplayResult) -> list[dict[str, Any]]:
    return list(read_journal(result.run.events))


def of_type(records: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [r for r in records if r["type"] == kind]


@pytest.fixture(scope="module")
def day_runs(
    day_recording: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, ReplayResult]:
    """The shipped day replayed with each built-in, and with ``ema_cross`` a second time."""
    home = tmp_path_factory.mktemp("home")
    return {
        run_id: replay(day_recording, Config(), load(spec, {}), home, run_id=run_id)
        for run_id, spec in [
            ("ema_cross", "ema_cross"),
            ("ema_cross-again", "ema_cross"),
            ("pullback", "pullback"),
        ]
    }


@pytest.mark.slow
@pytest.mark.parametrize("spec", ["ema_cross", "pullback"])
def test_the_shipped_day_trades_with_both_builtins(
    day_runs: dict[str, ReplayResult], spec: str
) -> None:
    """A whole recorded day: the strategy trades (at least one fill) and the session closes."""
    records = journal(day_runs[spec])
    assert records[0]["type"] == "session_start"
    assert records[0]["strategy"]["name"] == spec
    assert records[-1]["type"] == "session_end"
    assert len(of_type(records, "fill")) >= 1
    assert len(of_type(records, "bar")) >= 1440  # the day, after the warm-up backfill
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
    assert (day_runs[spec].run.path.parent / "latest").exists()


@pytest.mark.slow
def test_replaying_the_same_input_twice_writes_the_same_bytes(
    day_runs: dict[str, ReplayResult],
) -> None:
    """events.jsonl and summary.json are functions of the input alone."""
    first, second = day_runs["ema_cross"].run, day_runs["ema_cross-again"].run
    assert first.events.read_bytes() == second.events.read_bytes()
    assert first.summary_json.read_bytes() == second.summary_json.read_bytes()
    assert len(first.events.read_bytes()) > 100_000


def small_candles(shared_data: Path, out: Path, rows: int) -> Path:
    """The first ``rows`` one-minute candles of the shared Binance file, as a plain CSV."""
    source = shared_data / "candles" / "binance_usdm_BTCUSDT_1m.csv.gz"
    with gzip.open(source, "rt", encoding="utf-8") as handle:
        out.write_text("".join(itertools.islice(handle, rows + 1)), encoding="utf-8")
    return out


def test_a_candle_file_replays_bars_only_through_the_same_engine(
    shared_data: Path, tmp_path: Path
) -> None:
    """300 candles: each is a closed bar; market fills are at the close moved by the slippage
    (0.01 %, rounded to the 0.1 tick against us), and the run is deterministic."""
    candles = small_candles(shared_data, tmp_path / "candles.csv", 300)
    config = evolve(Config(), risk={"min_entry_interval_s": 0.0})
    runs = [
        replay(
            candles,
            config,
            load("ema_cross", {"fast": 3, "slow": 8}),
            tmp_path / "home",
            run_id=name,
        )
        for name in ("a", "b")
    ]
    records = journal(runs[0])
    bars = of_type(records, "bar")
    assert len(bars) == 300
    assert {b["source"] for b in bars} == {"csv"}
    orders = {r["id"]: r for r in of_type(records, "order")}
    fills = of_type(records, "fill")
    assert fills, "the strategy should trade 300 minutes of candles"
    tick = Decimal("0.1")
    last_bar: dict[str, Any] | None = None
    checked = 0
    for r in records:
        if r["type"] == "bar":
            last_bar = r
        elif r["type"] == "fill" and orders.get(r["order"], {}).get("kind") == "market":
            assert last_bar is not None
            close = Decimal(last_bar["close"])
            if r["side"] == "buy":
                expected = (close * Decimal("1.0001") / tick).to_integral_value(ROUND_CEILING)
            else:
                expected = (close * Decimal("0.9999") / tick).to_integral_value(ROUND_FLOOR)
            assert Decimal(r["price"]) == expected * tick
            checked += 1
    assert checked >= 1
    assert runs[0].run.events.read_bytes() == runs[1].run.events.read_bytes()


class _Thresholds(EmaCross):
    """``ema_cross`` noting the collector's young threshold at every bar it is asked about."""

    def __init__(self, params: EmaParams) -> None:
        super().__init__(params)
        self.seen: set[int] = set()

    def on_bar(self, bar: Bar, view: View) -> Sequence[Intent]:
        self.seen.add(gc.get_threshold()[0])
        return super().on_bar(bar, view)


@pytest.mark.parametrize("helpers", [True, False])
def test_the_collector_runs_rarely_while_a_replay_of_its_own_runs(
    shared_data: Path, tmp_path: Path, helpers: bool
) -> None:
    """A replay whose process is its own (``helpers``) has the collector's young passes every
    ``COLLECT_AFTER`` objects while it runs, and puts the setting back; a sweep's worker, one
    of many in a process, leaves it alone."""
    candles = small_candles(shared_data, tmp_path / "candles.csv", 100)
    before = gc.get_threshold()
    assert before[0] != COLLECT_AFTER
    strategy = _Thresholds(EmaParams())
    replay(candles, Config(), strategy, tmp_path / "home", helpers=helpers)
    assert strategy.seen == ({COLLECT_AFTER} if helpers else {before[0]})
    assert gc.get_threshold() == before
