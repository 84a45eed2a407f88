"""Golden bytes: replays of the shipped recordings and real candle files never change by accident.

Each case replays a file through the whole command (``trio-paper replay``, in-process) and pins
the SHA-256 of ``events.jsonl`` and ``summary.json``. A change that alters either on purpose says
so in its commit and updates ``tests/golden/hashes.json`` (``TRIO_PAPER_GOLDEN=update``).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path

import pytest

from tests.conftest import DEMO_RECORDING, RECORDINGS, SHARED
from trio_paper.cli import main

HASHES = Path(__file__).parent / "golden" / "hashes.json"
CANDLES = SHARED / "data" / "candles"
CASES = {
    "demo": (DEMO_RECORDING, "ema_cross"),
    "demo-binance": (
        DEMO_RECORDING.with_name("binance_usdm-btcusdt-2025-05-08-demo.jsonl.gz"),
        "ema_cross",
    ),
    "day": (RECORDINGS / "bitunix-btcusdt-2025-05-08-day.jsonl.gz", "ema_cross"),
    "candles-ema": (CANDLES / "binance_usdm_BTCUSDT_1m.csv.gz", "ema_cross"),
    "candles-pullback": (CANDLES / "btc_perp_2022-01_1m.csv.gz", "pullback"),
}


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(CASES))
def test_replay_bytes_are_pinned(case: str, tmp_path: Path) -> None:
    path, strategy = CASES[case]
    argv = ["--home", str(tmp_path), "replay", "--file", str(path), "--strategy", strategy]
    assert main([*argv, "--run-id", case]) == 0
    run = tmp_path / "runs" / case
    got = {"events": _digest(run / "events.jsonl"), "summary": _digest(run / "summary.json")}
    pinned = json.loads(HASHES.read_text()) if HASHES.exists() else {}
    if os.environ.get("TRIO_PAPER_GOLDEN") == "update":
        pinned[case] = got
        HASHES.write_text(json.dumps(pinned, indent=2, sort_keys=True) + "\n")
    assert got == pinned.get(case), f"{case}: journal or summary bytes changed"
