"""The real Binance USD-M frames of ``../shared/data/binance_usdm/``, for the tests beside this."""

from __future__ import annotations

import gzip
import json
from pathlib import Path
from typing import Any

from tests.conftest import SHARED

DATA = SHARED / "data" / "binance_usdm"
RECORDING = DATA / "ws_recording_2021-07-22.jsonl.gz"
SAMPLES = DATA / "btcusdt_frames_samples.jsonl"
DOCS = DATA / "docs_fixtures.jsonl"
EXCHANGE_INFO = DATA / "exchangeinfo_2021-07-22.raw.txt.gz"


def _lines(path: Path) -> list[dict[str, Any]]:
    if not path.exists():  # the shared_data fixture reports it; collection must not crash
        return []
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rt", encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def recorded() -> list[str]:
    """The raw text of every inbound frame of the 2021 capture, in order."""
    return [line["raw"] for line in _lines(RECORDING) if line["dir"] == "in"]


def samples() -> list[dict[str, Any]]:
    """The BTCUSDT samples (``msg`` of each line), by index; tardis marks synthesized ones."""
    return [line["msg"] for line in _lines(SAMPLES)]


def docs() -> list[dict[str, Any]]:
    """The docs' example payloads (bare, no envelope)."""
    return [line["msg"] for line in _lines(DOCS)]


def real_samples() -> list[dict[str, Any]]:
    """The samples Binance sent: all but those tardis synthesized (``generated``)."""
    return [msg for msg in samples() if not msg.get("generated")]


def text(frame: dict[str, Any]) -> str:
    return json.dumps(frame, separators=(",", ":"))
