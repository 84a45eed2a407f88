"""``trio-paper reset`` lifts a halt or the kill switch in the saved account, and only then."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import orjson

from trio_paper.app.replay import replay
from trio_paper.config import Config
from trio_paper.engine.strategies import load
from trio_paper.store.checkpoint import Checkpoint, CheckpointStore


def trio_paper(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "trio_paper", "--home", str(home), *args],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def halted_home(tmp_path: Path, demo_recording: Path) -> Path:
    """A home whose account is the demo replay's: three losses in a row tripped the breaker."""
    result = replay(demo_recording, Config(), load("ema_cross", {}), tmp_path / "replays")
    home = tmp_path / "home"
    (home / "runs").mkdir(parents=True)
    shutil.copytree(result.run.path, home / "runs" / result.run.id)
    (home / "state").mkdir()
    shutil.copy(result.run.path / "state" / "checkpoint.json", home / "state")
    return home


def risk(home: Path) -> dict[str, object]:
    status = trio_paper(home, "status", "--json")
    assert status.returncode == 0, status.stderr
    result: dict[str, object] = orjson.loads(status.stdout)["risk"]
    return result


def test_reset_lifts_the_breaker_and_keeps_the_account(
    tmp_path: Path, demo_recording: Path
) -> None:
    home = halted_home(tmp_path, demo_recording)
    assert str(risk(home)["halt_reason"]).startswith("breaker: 3 losing trades")
    cash_before = orjson.loads(trio_paper(home, "status", "--json").stdout)["account"]["cash"]
    done = trio_paper(home, "reset", "--halt")
    assert done.returncode == 0, done.stderr
    assert "lifted the halt" in done.stdout
    assert risk(home) == {
        "halted_until": None,
        "halt_reason": None,
        "killed": False,
        "losses_in_a_row": 0,
    }
    assert (
        orjson.loads(trio_paper(home, "status", "--json").stdout)["account"]["cash"] == cash_before
    )
    again = trio_paper(home, "reset", "--halt")
    assert "nothing to reset" in again.stdout


def test_reset_turns_the_kill_switch_off_only_once_the_file_is_gone(
    tmp_path: Path, demo_recording: Path
) -> None:
    home = halted_home(tmp_path, demo_recording)
    store = CheckpointStore(home / "state")
    saved = store.load()
    assert saved is not None
    saved.core["engine"]["risk"]["killed"] = True
    store.save(
        Checkpoint(saved.run_id, saved.input_seq, saved.journal_seq, saved.saved_at, saved.core)
    )
    (home / "state" / "KILL").touch()
    refused = trio_paper(home, "reset", "--kill")
    assert refused.returncode == 2
    assert "remove" in refused.stderr
    assert risk(home)["killed"] is True
    (home / "state" / "KILL").unlink()
    done = trio_paper(home, "reset", "--kill")
    assert done.returncode == 0, done.stderr
    assert risk(home)["killed"] is False
    assert trio_paper(home, "reset").returncode == 2
