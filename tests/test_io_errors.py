"""I/O errors outside the session loop end with exit 3 and one line naming the file, never a
traceback (issue 11, item 12): a read-only home, a full disk under the manifest, a full disk
under recovery's checkpoint. Real tmpfs mounts; skipped where mounting is not allowed."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.store.test_full_disk import fill

REPLAY = ["replay", "--file"]


def trio_paper(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    command = [sys.executable, "-m", "trio_paper", "--home", str(home), *args]
    return subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode == 3, result.stderr
    assert "Traceback" not in result.stderr
    lines = [line for line in result.stderr.splitlines() if line.startswith("trio-paper:")]
    assert len(lines) == 1, result.stderr
    return lines[0]


@pytest.fixture
def read_only_home(tmp_path: Path) -> Iterator[Path]:
    mount = tmp_path / "ro"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(mount)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here ({done.stderr.strip()})")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_read_only_home_is_exit_3_in_one_line(read_only_home: Path, demo_recording: Path) -> None:
    line = one_line(trio_paper(read_only_home, *REPLAY, str(demo_recording)))
    assert "Read-only file system" in line
    assert str(read_only_home) in line


def test_a_full_disk_under_the_manifest_is_exit_3_naming_it(
    tiny_disk: Path, demo_recording: Path
) -> None:
    home = tiny_disk / "home"
    home.mkdir()
    fill(tiny_disk)
    line = one_line(trio_paper(home, *REPLAY, str(demo_recording)))
    assert "No space left on device" in line
    assert "manifest.json" in line


def test_a_full_disk_under_recoverys_checkpoint_is_exit_3(
    tiny_disk: Path, demo_recording: Path
) -> None:
    """A replay killed mid-way leaves a run to recover; with the disk full, its checkpoint
    cannot be saved: one line, exit 3, and the next start (with room) recovers it."""
    home = tiny_disk / "home"
    home.mkdir()
    process = subprocess.Popen(
        [sys.executable, "-m", "trio_paper", "--home", str(home), *REPLAY, str(demo_recording),
         "--run-id", "r", "--speed", "100", "--checkpoint-every", "50"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    try:
        process.wait(timeout=1.5)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=30)
    state = home / "runs" / "r" / "state"
    if not (state / "checkpoint.json").exists():
        pytest.fail("the replay saved no checkpoint before the kill")
    filler = fill(tiny_disk)
    resumed = trio_paper(home, *REPLAY, str(demo_recording), "--run-id", "r")
    if resumed.returncode == 0:
        pytest.skip("the replay had finished before the kill")
    line = one_line(resumed)
    assert "No space left on device" in line
    filler.unlink()
    again = trio_paper(home, *REPLAY, str(demo_recording), "--run-id", "r")
    assert again.returncode == 0, again.stderr
