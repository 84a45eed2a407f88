"""The exchange simulator: a recording served over a venue's own protocol on loopback, with
faults on demand. ``rules``, ``faults``, ``tape`` and ``timeline`` are sans-IO (what the
exchange does, and when); ``connection``, ``wire`` and ``rest`` are the thin Trio pump around
them; ``simulator`` puts them together; ``synth`` builds recordings from real candles."""

from __future__ import annotations

from .faults import Fault, FaultError, FaultKind, FaultPlan
from .rules import ExchangeRules
from .simulator import Simulator, open_simulator
from .tape import Tape, load_tape

__all__ = [
    "ExchangeRules", "Fault", "FaultError", "FaultKind", "FaultPlan", "Simulator", "Tape",
    "load_tape", "open_simulator",
]  # fmt: skip
