"""A disk that takes time: for sessions and commits under ``MockClock``."""

from __future__ import annotations

from typing import Any

import trio


class SlowDisk:
    """An offload that runs the call on the event loop, ``before`` and ``after`` seconds of
    virtual time around it; it logs what ran and when."""

    def __init__(self, before: float = 0.01, after: float = 0.01) -> None:
        self.before = before
        self.after = after
        self.calls: list[tuple[str, float]] = []
        self.busy = False
        """True from the moment a call is handed over until it returns: a commit in flight."""

    async def __call__(self, function: Any, *args: Any, limiter: object = None) -> Any:
        self.busy = True
        try:
            await trio.sleep(self.before)
            self.calls.append((function.__name__, trio.current_time()))
            result = function(*args)
            await trio.sleep(self.after)
        finally:
            self.busy = False
        return result
