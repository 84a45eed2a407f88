"""Exit codes, and the one exception base whose subclasses carry them.

Every failure a user can meet is a ``TrioPaperError`` subclass with its exit code here; the
command line prints its message as one line and exits with ``exit_code_of(exc)``. README and
``trio-paper --help`` list ``Exit`` from this file.
"""

from __future__ import annotations

import enum
from typing import ClassVar


class Exit(enum.IntEnum):
    """Process exit codes; each member's description is what ``--help`` and README say."""

    OK = 0
    ERROR = 1
    USAGE = 2
    FATAL_IO = 3
    KILLED = 4
    LOCKED = 5
    BAD_STATE = 6
    STRATEGY_FAILED = 7
    INTERRUPTED = 130

    @property
    def description(self) -> str:
        return _DESCRIPTIONS[self]


_DESCRIPTIONS = {
    Exit.OK: "the deadline passed, a stop was requested, or the command finished",
    Exit.ERROR: "an unexpected error (a bug): logs/system.jsonl has the traceback",
    Exit.USAGE: "bad arguments, config, strategy or input file",
    Exit.FATAL_IO: "a write or fsync failed (disk full, I/O error): state up to the last sync "
    "is safe",
    Exit.KILLED: "the kill switch stopped the session",
    Exit.LOCKED: "another trio-paper holds this home's lock",
    Exit.BAD_STATE: "the saved state cannot be used (every checkpoint damaged): see --fresh",
    Exit.STRATEGY_FAILED: "a replay's strategy raised until it was disabled: the journal and "
    "logs/system.jsonl have its errors",
    Exit.INTERRUPTED: "a second Ctrl-C (or SIGTERM) stopped the process at once; the next start "
    "recovers the run and writes its report",
}


def exit_codes_text() -> str:
    """``0 …; 1 …`` for ``--help`` epilogs."""
    return "\n".join(f"  {int(code):>3}  {code.description}" for code in Exit)


class TrioPaperError(Exception):
    """Base of every error trio-paper reports to its user; ``exit`` is the process exit code."""

    exit: ClassVar[Exit] = Exit.ERROR


class UsageError(TrioPaperError):
    """Something the user can fix: arguments, config, strategy, an input file."""

    exit = Exit.USAGE


class FatalIO(TrioPaperError):
    """A write or fsync failed; the message says which file and why. Never retried."""

    exit = Exit.FATAL_IO


class Locked(TrioPaperError):
    """Another live process holds the home's lock."""

    exit = Exit.LOCKED


class BadState(TrioPaperError):
    """The saved state cannot be used: every checkpoint is damaged."""

    exit = Exit.BAD_STATE


def exit_code_of(exc: BaseException) -> Exit:
    """The one table from an exception to the process's exit code."""
    if isinstance(exc, TrioPaperError):
        return exc.exit
    if isinstance(exc, OSError):
        return Exit.FATAL_IO
    if isinstance(exc, KeyboardInterrupt):
        return Exit.INTERRUPTED
    return Exit.ERROR
