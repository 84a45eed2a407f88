"""A session killed outright, or starved of disk, and the same command run again.

The account must resume where it was: same position, same cash to the cent, the killed run
closed with its journal whole, and ``trio-paper status`` telling the truth before and after.
"""

from __future__ import annotations

import os
import signal
from pathlib import Path
from typing import Any

import orjson
import pytest

from tests.runtime.sessionkit import finish, make_home, newest_run, run, start, wait_for

pytestmark = pytest.mark.slow

HOLD = '''
"""Buy on the first live quote, hold: a position to survive a crash."""
from decimal import Decimal

from trio_paper.engine.intents import Enter
from trio_paper.engine.strategies.base import Strategy
from trio_paper.model import Side


class Hold(Strategy):
    name = "hold"

    def on_quote(self, quote, view):
        if view.position or not view.live:
            return ()
        return (Enter(Side.BUY, stop=view.price(quote.bid * Decimal("0.9"))),)
'''


@pytest.fixture
def strategy_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> str:
    package = tmp_path / "strategies"
    package.mkdir()
    (package / "hold.py").write_text(HOLD)
    monkeypatch.setenv("PYTHONPATH", f"{package}{os.pathsep}{os.environ.get('PYTHONPATH', '')}")
    return "hold:Hold"


def status(home: Path) -> dict[str, Any]:
    done = run(home, "status", "--sim", "--json", timeout=30)
    assert done.code == 0, done.stderr
    result: dict[str, Any] = orjson.loads(done.stdout)
    return result


def journal(run_dir: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in (run_dir / "events.jsonl").read_bytes().splitlines()]


@pytest.mark.parametrize("venue", ["bitunix", "binance_usdm"])
def test_kill_9_then_the_same_command_resumes_the_same_account(
    tmp_path: Path, strategy_path: str, venue: str
) -> None:
    home = make_home(tmp_path)
    command = ("run", "--venue", venue, "--sim", "--minutes", "2", "--strategy", strategy_path)
    process = start(home, *command)
    wait_for(
        lambda: status(home).get("position", {}).get("qty") not in (None, "0"), 60, "a position"
    )
    before = status(home)
    first_run = newest_run(home)
    process.send_signal(signal.SIGKILL)
    process.communicate(timeout=30)
    assert process.returncode == -signal.SIGKILL

    after_kill = status(home)
    assert after_kill["running"] is False
    assert after_kill["position"] == before["position"]
    assert after_kill["account"]["cash"] == before["account"]["cash"]

    other = "bitunix" if venue == "binance_usdm" else "binance_usdm"
    refused = run(home, "run", "--venue", other, "--sim", "--minutes", "0.1", timeout=60)
    assert refused.code == 2, refused.stderr
    assert f"holds an account trading on {venue}" in refused.stderr
    assert "Traceback" not in refused.stderr
    again = run(home, *command[:4], "--minutes", "0.15", "--strategy", strategy_path, timeout=120)
    assert again.code == 0, again.stderr
    second_run = again.run
    assert second_run != first_run
    closed = journal(first_run)
    assert closed[-1]["type"] == "session_end"
    assert closed[-1]["reason"].startswith("interrupted")
    fills = [r for r in closed if r["type"] == "fill"]
    assert len(fills) == 1, "one entry, neither lost nor duplicated"
    resumed = journal(second_run)
    assert resumed[0]["type"] == "session_start"
    assert resumed[0]["resumed"] is True
    assert resumed[0]["position"] == fills[0]["position"]
    assert resumed[0]["cash"] == fills[0]["cash"]
    assert not [r for r in resumed if r["type"] == "fill"], "the held position is not bought twice"
    final = status(home)
    assert final["position"]["qty"] == before["position"]["qty"]
    assert final["account"]["cash"] == before["account"]["cash"]

    # the recovered run's journal is what a replay of its recording writes (but the ending)
    replayed = run(tmp_path / "replay", "replay", "--file", str(first_run / "recording.jsonl"),
                   "--strategy", strategy_path, timeout=120)  # fmt: skip
    assert replayed.code == 0, replayed.stderr
    assert journal(replayed.run)[:-1] == closed[:-1]


def test_a_full_disk_stops_the_session_clearly_and_the_next_start_recovers(tiny_disk: Path) -> None:
    home = make_home(tiny_disk)
    process = start(home, "run", "--sim", "--minutes", "2")
    wait_for(lambda: b'"subscribed"' in _latest_journal(home), 30, "subscribe")
    filler = home / "filler"
    with filler.open("wb") as handle:
        try:
            while True:
                handle.write(b"\0" * 65536)
                handle.flush()
        except OSError:
            pass  # full
    finished = finish(process, home, timeout=60)
    assert finished.code == 3, finished.stderr[-2000:]
    assert "No space left" in finished.stderr
    assert "the next start recovers" in finished.stderr
    interrupted = newest_run(home)
    filler.unlink()
    again = run(home, "run", "--sim", "--minutes", "0.1", timeout=120)
    assert again.code == 0, again.stderr
    last = journal(interrupted)[-1]
    assert last["type"] == "session_end"


def _latest_journal(home: Path) -> bytes:
    try:
        events = newest_run(home) / "events.jsonl"
    except AssertionError:
        return b""
    return events.read_bytes() if events.exists() else b""
