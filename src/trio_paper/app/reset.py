"""``trio-paper reset``: lift a risk halt, or the kill switch, in the saved account by hand.

The breaker and the daily loss limit lift themselves at the next UTC day; the kill switch never
does. This edits the last checkpoint while no session runs (it takes the lock), and the next
session starts from the edited state — which its recording carries, so replays stay exact.
"""

from __future__ import annotations

import argparse

from ..core import Core
from ..errors import Exit, UsageError
from ..store.checkpoint import Checkpoint, now_iso
from ..store.lock import StateLock
from .accounts import account_store, mode_of
from .settings import home_of


def reset_command(args: argparse.Namespace) -> int:
    state_dir = home_of(args) / "state"
    if not (args.halt or args.kill):
        raise UsageError("say what to reset: --halt, --kill, or both")
    kill_file = state_dir / "KILL"
    if args.kill and kill_file.exists():
        raise UsageError(f"remove {kill_file} first, or the next session stops again")
    with StateLock(state_dir):
        store = account_store(home_of(args), mode_of(args.sim))
        checkpoint = store.load()
        if checkpoint is None:
            print("nothing to reset: there is no account yet")
            return Exit.OK
        state = Core.restore_state(checkpoint.core)
        risk = state.engine.risk
        done = []
        if args.halt and risk.halted_until is not None:
            done.append(f"lifted the halt ({risk.halt_reason})")
            risk.halted_until = risk.halt_reason = None
            risk.losses_in_a_row = 0
        if args.kill and risk.killed:
            done.append("turned the kill switch off")
            risk.killed = False
        if not done:
            print("nothing to reset: no halt and no kill switch in the saved account")
            return Exit.OK
        core = Core.snapshot_state(state)
        store.save(Checkpoint(
            checkpoint.run_id, checkpoint.input_seq, checkpoint.journal_seq, now_iso(), core,
        ))  # fmt: skip
    print("; ".join(done) + ". The next session starts from here.")
    return Exit.OK
