"""The summary of a real replay agrees with the engine's own account, and is reproducible."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from trio_paper.app.replay import replay
from trio_paper.config import Config
from trio_paper.engine.strategies import load
from trio_paper.store.journal import read_journal


def test_the_summary_reconciles_with_the_account(tmp_path: Path, demo_recording: Path) -> None:
    """A fresh account's totals at ``session_end`` are this session's: the summary, summed from
    the fills, fees and funding records, must land on the same digits."""
    run = replay(demo_recording, Config(), load("ema_cross", {}), tmp_path, run_id="a").run
    s = json.loads(run.summary_json.read_text())
    *_, end = read_journal(run.events)
    assert end["type"] == "session_end"
    pnl = s["pnl"]
    assert s["complete"] is True
    assert s["exit_reason"] == end["reason"]
    assert s["trades"]["count"] == end["trades"] > 0
    assert Decimal(pnl["gross"]) == Decimal(end["realized"])
    assert Decimal(pnl["fees"]) == Decimal(end["fees"])
    assert Decimal(pnl["funding"]) == Decimal(end["funding"])
    assert Decimal(pnl["ending_equity"]) == Decimal(end["equity"])
    net = Decimal(pnl["gross"]) - Decimal(pnl["fees"]) - Decimal(pnl["funding"])
    assert Decimal(pnl["net"]) == net  # flat at both ends: nothing unrealized
    assert s["feed"]["frames"] == end["feed"]["frames"] > 0


def test_two_replays_give_the_same_summary_bytes(tmp_path: Path, demo_recording: Path) -> None:
    runs = [
        replay(demo_recording, Config(), load("ema_cross", {}), tmp_path / home).run
        for home in ("one", "two")
    ]
    assert runs[0].summary_json.read_bytes() == runs[1].summary_json.read_bytes()
