"""Two paper accounts per home, never mixed: ``state/live/`` trades the exchange's prices,
``state/sim/`` the simulator's (a recording from another day). ``run`` picks by ``--sim``;
``status`` and ``reset`` show the live one unless told ``--sim``.

The lock (``state/lock``, one session per home) and the kill file (``state/KILL``) stay shared.
A home from before the split keeps its account: ``state/checkpoint*.json`` moves to the folder
of the mode its last run had (its manifest says).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from ..store.checkpoint import CURRENT, PREVIOUS, CheckpointStore, decode
from ..store.files import fsync_dir, private_dir
from .lifecycle import Run

log = logging.getLogger("trio_paper.accounts")
MODES = ("live", "sim")


def mode_of(sim: bool) -> str:
    return "sim" if sim else "live"


def account_dir(home: Path, mode: str) -> Path:
    return home / "state" / mode


def account_store(home: Path, mode: str) -> CheckpointStore:
    """The checkpoints of the ``mode`` account (its folder made private if it is new)."""
    _migrate(home)
    return CheckpointStore(private_dir(account_dir(home, mode)))


def _migrate(home: Path) -> None:
    state = home / "state"
    legacy = state / CURRENT
    if not legacy.exists():
        return
    mode = "live"
    try:
        run = Run.find(home, decode(legacy.read_bytes(), legacy).run_id)
    except (ValueError, OSError):  # a damaged checkpoint: the store reports it from its new home
        run = None
    if run is not None and run.manifest.kind in MODES:
        mode = run.manifest.kind
    target = private_dir(account_dir(home, mode))
    for name in (PREVIOUS, CURRENT):
        if (state / name).exists() and not (target / name).exists():
            os.replace(state / name, target / name)
    fsync_dir(target)
    fsync_dir(state)
    log.warning("moved the %s account's checkpoints into %s", mode, target)
