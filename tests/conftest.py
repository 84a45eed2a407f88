"""Shared fixtures: where the shipped recordings and ../shared/data are."""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
RECORDINGS = REPO / "recordings"
DEMOS = REPO / "src" / "trio_paper" / "sim" / "recordings"
"""The shipped demo recordings (package data), ``<venue>-btcusdt-2025-05-08-demo.jsonl.gz``."""
DEMO_RECORDING = DEMOS / "bitunix-btcusdt-2025-05-08-demo.jsonl.gz"
DAY_RECORDING = RECORDINGS / "bitunix-btcusdt-2025-05-08-day.jsonl.gz"


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """``../shared/data``: CI places ``shared/`` beside the clone, as in a developer's tree."""
    data = SHARED / "data"
    if not data.is_dir():
        pytest.fail(f"{data} is missing: clone trio-paper next to the shared/ folder")
    return data


@pytest.fixture(scope="session")
def demo_recording() -> Path:
    return DEMO_RECORDING


@pytest.fixture(scope="session")
def day_recording() -> Path:
    return DAY_RECORDING


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 8 MiB tmpfs, to fill to the last byte; skipped where mounting is not allowed."""
    mount = tmp_path / "disk"
    mount.mkdir()
    done = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mount)],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if done.returncode != 0:
        pytest.skip(
            f"cannot mount a tmpfs here ({done.stderr.strip()}): needs root or CAP_SYS_ADMIN"
        )
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)
