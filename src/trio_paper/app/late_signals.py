"""SIGTERM and SIGHUP outside the session loop: noted, never fatal, until the process exits.

Inside ``trio.run`` the session's signal watcher turns them into a clean stop. Before and after
it — recovery, the final checkpoint, the manifest and the reports — Python's default would kill
the process mid-write with -15 while the manifest says exit 0. ``hold_late_signals`` installs a
handler that logs the signal and lets the work finish; trio's receiver saves it and puts it back
when the session ends, so it covers the process to its last line. SIGINT keeps its default: a
person at the terminal can still interrupt, and the next start writes any missing report.
"""

from __future__ import annotations

import logging
import signal
from types import FrameType

log = logging.getLogger("trio_paper.run")
HELD = (signal.SIGTERM, signal.SIGHUP)


def hold_late_signals() -> None:
    """From now on, SIGTERM and SIGHUP only log (main thread only, as ``signal`` requires)."""
    for signum in HELD:
        signal.signal(signum, _note)


def _note(signum: int, frame: FrameType | None) -> None:
    name = signal.Signals(signum).name
    log.warning("%s outside the session: finishing the run's files first", name)
