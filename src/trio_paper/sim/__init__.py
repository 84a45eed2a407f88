"""The exchange simulator: a recording served over a venue's own protocol on loopback, with
faults on demand. ``rules``, ``faults``, ``tape`` and ``timeline`` are sans-IO (what the
exchange does, and when); ``connection``, ``wire`` and ``rest`` are the thin Trio pump around
them; ``simulator`` puts them together; ``synth`` builds recordings from real candles."""

from __future__ import annotations

from contextlib import AbstractContextManager
from importlib import resources
from pathlib import Path

from ..errors import UsageError
from .faults import Fault, FaultError, FaultKind, FaultPlan
from .rules import ExchangeRules
from .simulator import Simulator, open_simulator
from .tape import Tape, load_tape

__all__ = [
    "ExchangeRules", "Fault", "FaultError", "FaultKind", "FaultPlan", "Simulator", "Tape",
    "demo_recording", "load_tape", "open_simulator",
]  # fmt: skip

DEMOS = {
    venue: f"{venue}-btcusdt-2025-05-08-demo.jsonl.gz" for venue in ("bitunix", "binance_usdm")
}
"""The recording ``run --sim`` serves for each venue, shipped inside the package."""


def demo_recording(venue: str) -> AbstractContextManager[Path]:
    """The shipped demo recording of ``venue`` as a file, for as long as the block lasts
    (``importlib.resources``: a plain path for a regular install, a temporary copy otherwise)."""
    if venue not in DEMOS:
        raise UsageError(f"no demo recording for venue {venue!r}; give one with --sim-file")
    return resources.as_file(resources.files(__name__) / "recordings" / DEMOS[venue])
