"""The session's disk: recording, journal and checkpoints, written by one worker thread.

The order is the durability rule (docs/durability.md): an input is made durable no later than
the journal records that depend on it (recording synced first, then journal), and a checkpoint
is saved only after both, so it never covers anything the files do not hold. A failed write or
fsync raises ``FatalIO`` and is never retried: the data written before it is safe, and the next
start recovers from it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import trio

from ..errors import FatalIO
from ..store.checkpoint import Checkpoint, CheckpointStore
from ..store.journal import JournalWriter
from ..store.recording import RecordingWriter

Offload = Callable[..., Awaitable[Any]]
"""Runs a blocking call off the event loop: ``trio.to_thread.run_sync`` in a session."""


async def inline(function: Callable[..., Any], *args: Any, limiter: object = None) -> Any:
    """An ``Offload`` that runs the call on the event loop itself: for a session under
    ``MockClock``, whose autojump would otherwise move time on while a thread fsyncs."""
    await trio.lowlevel.checkpoint()
    return function(*args)


class Durable:
    """The session's only writer: commits (recording, then journal, fsync'd) and checkpoints,
    one at a time, off the event loop."""

    def __init__(
        self,
        recorder: RecordingWriter,
        journal: JournalWriter,
        store: CheckpointStore,
        offload: Offload = trio.to_thread.run_sync,
    ) -> None:
        self.recorder = recorder
        self.journal = journal
        self.store = store
        self._offload = offload
        self._writer = trio.CapacityLimiter(1)
        self.commits = 0
        self.checkpoints = 0
        self.last_checkpoint: float | None = None  # trio time

    async def commit(self) -> None:
        """Make everything buffered durable: the recording, then the journal."""
        await self._offload(self._sync, limiter=self._writer)
        self.commits += 1

    async def checkpoint(self, checkpoint: Checkpoint) -> None:
        try:
            await self._offload(self.store.save, checkpoint, limiter=self._writer)
        except OSError as exc:
            raise FatalIO(f"cannot save the checkpoint in {self.store.dir}: {exc}") from exc
        self.checkpoints += 1
        self.last_checkpoint = trio.current_time()

    def close(self) -> None:
        for writer in (self.recorder, self.journal):
            with contextlib.suppress(OSError):  # already reported by the commit that failed
                writer.close()

    def _sync(self) -> None:
        for writer in (self.recorder, self.journal):
            try:
                writer.sync()
            except OSError as exc:
                raise FatalIO(f"cannot write {writer.path}: {exc}") from exc
