"""Process exit codes, as the README documents them."""

from __future__ import annotations

import enum


class Exit(enum.IntEnum):
    OK = 0  # the deadline passed, a stop was requested, or the command finished
    ERROR = 1  # an unexpected error (a bug): the log has the traceback
    USAGE = 2  # bad arguments, config, strategy or input file
    FATAL_IO = (
        3  # a write or fsync failed (disk full, I/O error): state up to the last sync is safe
    )
    KILLED = 4  # the kill switch stopped the session
    LOCKED = 5  # another trio-paper holds the lock on this home's state/
    BAD_STATE = 6  # the saved state cannot be used (every checkpoint damaged): see --fresh
