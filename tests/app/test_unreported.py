"""A run that ended but died before its reports gets them from whoever opens it next
(issue 11, item 5): a resumed replay, or recovery at the next ``run``."""

from __future__ import annotations

from pathlib import Path

import pytest

from trio_paper.app.recover import recover
from trio_paper.app.replay import replay
from trio_paper.config import Config
from trio_paper.engine.strategies import load
from trio_paper.store.checkpoint import CheckpointStore


@pytest.mark.parametrize("lost", ["summary.html", "both"])
def test_a_resumed_replay_writes_the_missing_reports(
    demo_recording: Path, tmp_path: Path, lost: str
) -> None:
    """Before: "run … is complete; choose another --run-id", and the reports never came."""
    first = replay(demo_recording, Config(), load("ema_cross", {}), tmp_path, run_id="r")
    events = first.run.events.read_bytes()
    html = first.run.summary_html.read_bytes()
    first.run.summary_html.unlink()
    if lost == "both":
        first.run.summary_json.unlink()
    again = replay(demo_recording, Config(), load("ema_cross", {}), tmp_path, run_id="r")
    assert again.records == 0
    assert first.run.events.read_bytes() == events
    assert first.run.summary_json.exists()
    assert len(first.run.summary_html.read_bytes()) == pytest.approx(len(html), rel=0.01)


def test_recovery_writes_a_missing_html_report(demo_recording: Path, tmp_path: Path) -> None:
    """Before: recovery looked at ``summary.json`` only."""
    done = replay(demo_recording, Config(), load("ema_cross", {}), tmp_path, run_id="r")
    done.run.summary_html.unlink()
    recovery = recover(tmp_path, CheckpointStore(done.run.path / "state"))
    assert recovery is not None
    assert recovery.interrupted is False
    assert done.run.summary_html.exists()
