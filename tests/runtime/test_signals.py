"""Signals from outside, end to end on real ``run --sim`` processes: SIGHUP is a clean stop, a
SIGTERM after the session loop (reports being written) is not fatal, and a SIGKILL at a resumed
session's start loses no record (issue 11, items 15, 5 and 2)."""

from __future__ import annotations

import signal
import time
from pathlib import Path

import orjson
import pytest

from tests.runtime.sessionkit import finish, journal_has, make_home, newest_run, start, wait_for


@pytest.mark.slow
def test_sighup_stops_the_session_like_sigterm(tmp_path: Path) -> None:
    """Before: SIGHUP killed the process with no ``session_end`` and no report."""
    home = make_home(tmp_path)
    process = start(home, "run", "--sim", "--minutes", "5")
    wait_for(lambda: journal_has(home, "session_start"), 30, "the session's start")
    process.send_signal(signal.SIGHUP)
    finished = finish(process, home, timeout=30)
    assert finished.code == 0, finished.stderr
    assert finished.records()[-1]["type"] == "session_end"
    assert finished.records()[-1]["reason"] == "signal SIGHUP"
    assert (finished.run / "summary.html").exists()


@pytest.mark.slow
def test_a_sigterm_while_the_reports_are_written_lets_them_finish(tmp_path: Path) -> None:
    """The deadline ends the session; the moment the manifest says so, SIGTERM arrives (the
    reports are being written). Before: the process died with -15, the manifest said 0, and
    ``summary.html`` was missing."""
    home = make_home(tmp_path)
    process = start(home, "run", "--sim", "--minutes", "0.1")

    def ended() -> bool:
        try:
            manifest = newest_run(home) / "manifest.json"
            return b'"ended"' in manifest.read_bytes()
        except (AssertionError, OSError):
            return False

    deadline = time.monotonic() + 60
    while not ended() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    process.send_signal(signal.SIGTERM)
    finished = finish(process, home, timeout=30)
    assert finished.code == 0, finished.stderr
    run = newest_run(home)
    manifest = orjson.loads((run / "manifest.json").read_bytes())
    assert manifest["exit_code"] == 0
    assert (run / "summary.json").exists()
    assert (run / "summary.html").exists()


@pytest.mark.slow
def test_a_kill_9_at_a_resumed_sessions_start_loses_no_record(tmp_path: Path) -> None:
    """The kill point of issue 11 item 2: a resuming session is SIGKILLed the moment its first
    checkpoint names it. Every record that checkpoint claims is in its journal (at 6401a91 the
    resumed ``session_start`` could be missing until the warm-up committed)."""
    home = make_home(tmp_path)
    first = finish(start(home, "run", "--sim", "--minutes", "0.05"), home, timeout=120)
    assert first.code == 0, first.stderr
    process = start(home, "run", "--sim", "--minutes", "5")
    checkpoint = home / "state" / "sim" / "checkpoint.json"

    def resumed_checkpoint() -> bool:
        try:
            body = checkpoint.read_bytes().split(b"\n")[1]
            return bool(orjson.loads(body)["run_id"] != first.run.name)
        except (OSError, IndexError, orjson.JSONDecodeError):
            return False

    deadline = time.monotonic() + 60
    while not resumed_checkpoint() and time.monotonic() < deadline:
        time.sleep(0.001)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    body = orjson.loads(checkpoint.read_bytes().split(b"\n")[1])
    second = home / "runs" / body["run_id"]
    records = [orjson.loads(line) for line in (second / "events.jsonl").read_bytes().splitlines()]
    assert records, "the checkpoint claims records the journal does not hold"
    assert records[0]["type"] == "session_start"
    assert records[0]["resumed"] is True
    assert records[-1]["seq"] >= body["journal_seq"]
    again = finish(start(home, "run", "--sim", "--minutes", "0.05"), home, timeout=120)
    assert again.code == 0, again.stderr
