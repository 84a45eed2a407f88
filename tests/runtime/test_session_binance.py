"""A whole Binance session in-process against the simulator: real loopback sockets, the real
clock, Binance's daily socket close compressed to seconds. Both sockets are closed at their age
(a close frame, 1000) and redialled at once; the bars on the ``market`` socket go on with no
gap to backfill, and the journal's feed records say which socket each event was about."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import attrs
import orjson
import pytest
import trio

from tests.conftest import DEMOS
from trio_paper.config import Config, evolve
from trio_paper.core import Core
from trio_paper.engine.strategies import load
from trio_paper.runtime.durable import Durable
from trio_paper.runtime.session import Session, SessionPlan
from trio_paper.sim.rules import ExchangeRules
from trio_paper.sim.simulator import open_simulator
from trio_paper.sim.tape import load_tape
from trio_paper.store.checkpoint import CheckpointStore
from trio_paper.store.journal import JournalWriter
from trio_paper.store.recording import Header, RecordingWriter

pytestmark = pytest.mark.slow

DEMO = DEMOS / "binance_usdm-btcusdt-2025-05-08-demo.jsonl.gz"


def quick_config() -> Config:
    return evolve(
        Config(),
        venue={"name": "binance_usdm"},
        feed={"stale_after_s": 2.5, "backoff_initial_s": 0.1, "backoff_max_s": 1.0,
              "connect_timeout_s": 2.0},
    )  # fmt: skip


async def test_the_daily_close_of_both_sockets_is_redialled_without_a_gap(tmp_path: Path) -> None:
    tape = load_tape(DEMO)
    rules = attrs.evolve(
        ExchangeRules.for_venue("binance_usdm"), max_age_s=5.0, subscribe_delay_s=(0.01, 0.02)
    )
    config = quick_config()
    (tmp_path / "state").mkdir()
    header = Header("binance_usdm", "BTCUSDT", [], "1min", "now", source="sim")
    durable = Durable(
        RecordingWriter(tmp_path / "recording.jsonl", header),
        JournalWriter(tmp_path / "events.jsonl"),
        CheckpointStore(tmp_path / "state"),
    )
    strategy = load(config.strategy.name, config.strategy.params)
    with trio.fail_after(60):
        async with open_simulator(tape, rules=rules) as sim:
            plan = SessionPlan(
                config, "daily", 16 / 60, sim.ws_url, sim.rest_url, tmp_path / "state",
                warmup_bars=0,
            )  # fmt: skip
            code = await Session(plan, Core(config, strategy), durable).run()
    durable.close()
    assert code == 0
    records: list[dict[str, Any]] = [
        orjson.loads(line) for line in (tmp_path / "events.jsonl").read_bytes().splitlines()
    ]
    feed = [r for r in records if r["type"] == "feed"]
    closed = [r for r in feed if r["event"] == "disconnected"]
    for socket in ("market", "quotes"):
        mine = [r for r in closed if r["socket"] == socket]
        assert len(mine) >= 2, feed
        assert all("code 1000" in r["reason"] for r in mine), mine
        connects = [r for r in feed if r["event"] == "connected" and r["socket"] == socket]
        assert len(connects) >= 3
    assert not [r for r in feed if r["event"] in ("gap", "stale")], feed
    downs = [r["down_ms"] for r in feed if r["event"] == "recovered"]
    assert downs
    assert max(downs) < 1500, downs  # redialled at once: no backoff after a clean close
    assert records[-1]["type"] == "session_end"
