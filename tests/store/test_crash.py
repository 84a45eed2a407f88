"""The kill harness: a real replay process, SIGKILLed at seeded random moments and restarted,
must end with the journal and the account an uninterrupted replay of the same input has: each
venue's demo recording, a recording big enough to be read ahead by a second process, and a
candle file big enough to be reported by one.

CI runs ``TRIO_PAPER_CRASH_KILLS`` (default 20) kill points; ``make crash-test N=1000`` more.
Two kill points are aimed rather than random: the moment a killed replay resumes, and the
moment a replay's manifest says it ended (its reports being written).
"""

from __future__ import annotations

import gzip
import itertools
import os
import random
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import orjson
import pytest

from tests.app.followerkit import alive, follower_of
from tests.conftest import DAY_RECORDING, DEMOS
from trio_paper.store.checkpoint import CheckpointStore
from trio_paper.store.readahead import SECOND_PROCESS_BYTES, cpus
from trio_paper.store.recording import RecordingReader

KILLS = int(os.environ.get("TRIO_PAPER_CRASH_KILLS", "20"))
SEED = int(os.environ.get("TRIO_PAPER_CRASH_SEED", "20261124"))
SPEED = {".gz": "400", ".jsonl": "4400", ".csv": "360000"}
"""The 12-minute demo recordings replay in about 1.8 s, the first 2.5 hours of the day
recording in about 2 s, the 15,000 candles in about 2.5 s."""
READ_AHEAD_LINES = 40_000
"""The day recording's first lines, over 8 MiB as plain text: read ahead (``RecordingReader``)."""
CANDLE_ROWS = 15_000
"""Over 1 MiB of CSV: the replay starts its report process (``report_process.worth_it``)."""


def replay(path: Path, home: Path, run_id: str) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "trio_paper", "replay", "--file", str(path), "--home", str(home),
        "--run-id", run_id, "--speed", SPEED[path.suffix], "--checkpoint-every", "97",
    ]  # fmt: skip
    log = (home / f"{run_id}.stderr").open("ab")
    with log:
        return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=log)


def finished(home: Path, run_id: str) -> bool:
    """Ended, and both reports written (a kill can land between the two)."""
    run = home / "runs" / run_id
    manifest = run / "manifest.json"
    return (
        manifest.exists()
        and "ended" in orjson.loads(manifest.read_bytes())
        and (run / "summary.json").exists()
        and (run / "summary.html").exists()
    )


def account(home: Path, run_id: str) -> dict[str, object]:
    checkpoint = CheckpointStore(home / "runs" / run_id / "state").load()
    assert checkpoint is not None
    broker = checkpoint.core["engine"]["broker"]
    return {
        "account": broker["account"],
        "position": broker["position"],
        "seq": checkpoint.journal_seq,
    }


def reports_settle(run: Path) -> None:
    """Wait for the report process a killed candle replay may leave behind. Killed after it was
    told the run is finished, it still writes both reports (killed before, it writes nothing);
    a replay started meanwhile would find the run complete."""
    deadline = time.monotonic() + 60
    while (pid := follower_of(run)) is not None and alive(pid):
        assert time.monotonic() < deadline, f"the report process of {run} never ended"
        time.sleep(0.01)


def kill_and_resume(
    recording: Path, home: Path, run_id: str, rng: random.Random, budget: int
) -> list[int]:
    """Replay ``run_id`` to the end, SIGKILLing it up to ``budget`` times; return where each
    kill landed: the input its newest checkpoint covers (0: before the first)."""
    landed: list[int] = []
    while not finished(home, run_id):
        process = replay(recording, home, run_id)
        try:
            code = process.wait(timeout=rng.uniform(0.05, 2.4) if len(landed) < budget else 120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=30)
            reports_settle(home / "runs" / run_id)
            saved = CheckpointStore(home / "runs" / run_id / "state").load()
            landed.append(saved.input_seq if saved else 0)
        else:
            assert code == 0, (home / f"{run_id}.stderr").read_text()
    return landed


def candle_file(shared_data: Path, tmp_path: Path) -> Path:
    """The first ``CANDLE_ROWS`` one-minute candles of the shared Binance file, as plain CSV."""
    with gzip.open(shared_data / "candles" / "binance_usdm_BTCUSDT_1m.csv.gz", "rt") as source:
        rows = list(itertools.islice(source, CANDLE_ROWS + 1))  # and the header
    path = tmp_path / "candles.csv"
    path.write_text("".join(rows))
    assert path.stat().st_size >= SECOND_PROCESS_BYTES
    return path


def read_ahead_recording(tmp_path: Path) -> Path:
    """The first ``READ_AHEAD_LINES`` lines of the day recording, as a plain recording."""
    with gzip.open(DAY_RECORDING, "rb") as source:
        lines = list(itertools.islice(source, READ_AHEAD_LINES + 1))  # and the header
    path = tmp_path / "day-start.jsonl"
    path.write_bytes(b"".join(lines))
    assert RecordingReader(path).ahead == (cpus() > 1)
    return path


@pytest.mark.slow
@pytest.mark.parametrize("source", ["bitunix", "binance_usdm", "read ahead", "candles"])
def test_killed_replays_end_exactly_like_an_uninterrupted_one(
    source: str, shared_data: Path, tmp_path: Path
) -> None:
    if source == "candles":
        replayed = candle_file(shared_data, tmp_path)
    elif source == "read ahead":
        replayed = read_ahead_recording(tmp_path)
    else:
        replayed = DEMOS / f"{source}-btcusdt-2025-05-08-demo.jsonl.gz"
    assert replay(replayed, tmp_path, "uninterrupted").wait(timeout=120) == 0
    expected = (tmp_path / "runs" / "uninterrupted" / "events.jsonl").read_bytes()
    fills = [r for r in map(orjson.loads, expected.splitlines()) if r["type"] == "fill"]
    assert fills, "the input should trade"
    rng = random.Random(SEED)
    landed: list[int] = []
    attempt = 0
    while len(landed) < KILLS:
        run_id = f"killed-{attempt}"
        landed += kill_and_resume(replayed, tmp_path, run_id, rng, KILLS - len(landed))
        actual = (tmp_path / "runs" / run_id / "events.jsonl").read_bytes()
        assert actual == expected, f"{run_id}: a killed and resumed replay wrote another journal"
        assert account(tmp_path, run_id) == account(tmp_path, "uninterrupted")
        attempt += 1
    assert len(landed) == KILLS
    # the kills landed all through the run, not only before it started: in every third of it
    items = int(
        orjson.loads((tmp_path / "runs" / "uninterrupted" / "manifest.json").read_bytes())["items"]
    )
    thirds = {min(2, position * 3 // items) for position in landed}
    assert thirds == {0, 1, 2}, sorted(landed)


def manifest_says(home: Path, run_id: str, key: str) -> bool:
    manifest = home / "runs" / run_id / "manifest.json"
    try:
        return key in orjson.loads(manifest.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return False


def kill_when(process: subprocess.Popen[bytes], ready: Callable[[], bool]) -> None:
    """SIGKILL ``process`` the moment ``ready()`` holds (polled every 2 ms)."""
    deadline = time.monotonic() + 60
    while not ready() and process.poll() is None and time.monotonic() < deadline:
        time.sleep(0.002)
    process.kill()
    process.wait(timeout=30)


@pytest.mark.slow
@pytest.mark.parametrize("point", ["at resume", "during the reports"])
def test_aimed_kills_end_exactly_like_an_uninterrupted_replay(
    demo_recording: Path, tmp_path: Path, point: str
) -> None:
    assert replay(demo_recording, tmp_path, "uninterrupted").wait(timeout=120) == 0
    expected = (tmp_path / "runs" / "uninterrupted" / "events.jsonl").read_bytes()
    state = tmp_path / "runs" / "killed" / "state"
    if point == "at resume":
        first = replay(demo_recording, tmp_path, "killed")
        kill_when(first, lambda: CheckpointStore(state).load() is not None)
        second = replay(demo_recording, tmp_path, "killed")
        kill_when(second, lambda: manifest_says(tmp_path, "killed", "resumes"))
    else:
        first = replay(demo_recording, tmp_path, "killed")
        kill_when(first, lambda: manifest_says(tmp_path, "killed", "ended"))
    while not finished(tmp_path, "killed"):
        code = replay(demo_recording, tmp_path, "killed").wait(timeout=120)
        assert code == 0, (tmp_path / "killed.stderr").read_text()
    assert (tmp_path / "runs" / "killed" / "events.jsonl").read_bytes() == expected
    assert account(tmp_path, "killed") == account(tmp_path, "uninterrupted")
