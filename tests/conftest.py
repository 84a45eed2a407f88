"""Shared fixtures: where the shipped recordings and ../shared/data are."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared"
RECORDINGS = REPO / "recordings"
DEMO_RECORDING = RECORDINGS / "bitunix-btcusdt-2025-05-08-demo.jsonl.gz"
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
