"""One session per home: a live holder blocks, a dead one never does."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from trio_paper.store.lock import LockHeld, StateLock, holder

HOLD = """
import sys, time
from pathlib import Path
from trio_paper.store.lock import StateLock
StateLock(Path(sys.argv[1])).acquire()
print("locked", flush=True)
time.sleep(60)
"""


def hold_in_child(state: Path) -> subprocess.Popen[str]:
    child = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(state)], stdout=subprocess.PIPE, text=True
    )
    assert child.stdout is not None
    assert child.stdout.readline().strip() == "locked"
    return child


def test_a_live_holder_blocks_a_second_instance_with_its_pid(tmp_path: Path) -> None:
    child = hold_in_child(tmp_path)
    try:
        assert holder(tmp_path) == child.pid
        with pytest.raises(LockHeld, match=f"pid {child.pid}"):
            StateLock(tmp_path).acquire()
    finally:
        child.kill()
        child.wait()
        assert child.stdout is not None
        child.stdout.close()


def test_a_lock_left_by_a_killed_process_does_not_block(tmp_path: Path) -> None:
    child = hold_in_child(tmp_path)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    assert child.stdout is not None
    child.stdout.close()
    assert (tmp_path / "lock").read_text().strip() == str(child.pid), (
        "the stale file is still there"
    )
    assert holder(tmp_path) is None
    with StateLock(tmp_path):
        assert holder(tmp_path) == os.getpid()
    assert holder(tmp_path) is None
