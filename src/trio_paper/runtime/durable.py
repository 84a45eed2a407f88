"""The session's disk: recording, journal and checkpoints, written by one worker thread.

The order is the durability rule (docs/durability.md): an input is made durable no later than
the journal records that depend on it (recording synced first, then journal), and a checkpoint
is saved only after both, so it never covers anything the files do not hold. A failed write or
fsync raises ``FatalIO`` and is never retried: the data written before it is safe, and the next
start recovers from it.

Group commits run in a task of their own (``run``), so the engine task goes on taking inputs
while the disk works. A commit is a ``Batch``: on the event loop, between two inputs, the writer
takes the lines the recording and the journal have buffered (their buffers start afresh) and,
when one is due, the checkpoint of the core as it stands — it covers exactly the inputs taken
with it. Then, in the thread, it writes and fsyncs the recording's lines, the journal's, and
saves the checkpoint. Batches are written one at a time, in the order taken; an input buffered
while a batch is in flight goes with the next one, and counts as durable only when that one is
synced.
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import trio

from ..errors import FatalIO
from ..store.checkpoint import Checkpoint, CheckpointStore
from ..store.journal import JournalWriter
from ..store.recording import RecordingWriter

Offload = Callable[..., Awaitable[Any]]
"""Runs a blocking call off the event loop: ``trio.to_thread.run_sync`` in a session."""

CheckpointDue = Callable[[], Checkpoint | None]
"""Asked as each batch is taken: the checkpoint to save after it (the core's state now), or
None when none is due. The session's policy: after a fill, every ``checkpoint_interval_s``."""


async def inline(function: Callable[..., Any], *args: Any, limiter: object = None) -> Any:
    """An ``Offload`` that runs the call on the event loop itself: for a session under
    ``MockClock``, whose autojump would otherwise move time on while a thread fsyncs."""
    await trio.lowlevel.checkpoint()
    return function(*args)


@attrs.frozen
class Batch:
    """One group commit: the lines buffered since the one before, and the checkpoint taken
    with them, if one was due."""

    number: int
    recording: list[bytes]
    journal: list[bytes]
    checkpoint: Checkpoint | None


class Durable:
    """The session's only writer: commits (recording, then journal, fsync'd) and checkpoints,
    one at a time, off the event loop.

    ``run`` is the writer task; ``request`` asks it for a group commit and returns at once;
    ``commit`` waits until everything buffered so far is synced (a fill, an exit, the start);
    ``finish`` writes the rest and the last checkpoint, in the calling task.
    """

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
        self._taken = 0  # batches taken off the buffers
        self._synced = 0  # ...of which the recording and the journal are fsync'd
        self._done = 0  # ...and the checkpoint, if any, saved
        self._wanted = trio.Event()
        self._moved = trio.Event()  # set, and replaced, whenever a batch moves on or fails
        self._failed: BaseException | None = None
        self._closing = False

    # --- on the event loop ---------------------------------------------------------------------

    def request(self) -> None:
        """Ask for a group commit of everything buffered; do not wait for it."""
        self._wanted.set()

    async def commit(self) -> None:
        """Make everything buffered so far durable, and return when it is: the next batch
        takes it (a batch in flight was taken before it, and does not count)."""
        target = self._taken + 1
        self._wanted.set()
        while self._synced < target:
            await self._progress()

    async def run(
        self,
        checkpoint_due: CheckpointDue,
        *,
        task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED,
    ) -> None:
        """The writer task: a batch whenever one is requested, until ``finish``. A batch once
        taken is written even if the task is cancelled meanwhile (its lines are in no buffer
        any more); a failure is raised here, and to whoever waits on a commit."""
        task_status.started()
        try:
            while True:
                await self._wanted.wait()
                if self._closing:
                    return
                self._wanted = trio.Event()
                batch = self._take(checkpoint_due)
                with trio.CancelScope(shield=True):
                    await self._write(batch)
        except Exception as exc:
            self._failed = exc
            self._wake()
            raise

    async def finish(self, checkpoint_due: CheckpointDue) -> None:
        """The last commit and checkpoint, in the calling task (the session shields it): the
        writer takes no more batches; the one in flight ends first, then the rest is written."""
        self._closing = True
        self._wanted.set()
        while self._done < self._taken:
            await self._progress()
        await self._write(self._take(checkpoint_due))

    def close(self) -> None:
        for writer in (self.recorder, self.journal):
            if isinstance(self._failed, FatalIO):
                # Nothing is written after a failed commit: the inputs buffered since would
                # follow a batch the disk refused (a hole, or a torn line, in the journal).
                writer.take()
            with contextlib.suppress(OSError):  # already reported by the commit that failed
                writer.close()

    def _take(self, checkpoint_due: CheckpointDue) -> Batch:
        """Between two inputs: what the buffers hold, and the core's checkpoint if due."""
        checkpoint = checkpoint_due()  # first: if it fails, the lines stay in the buffers
        self._taken += 1
        return Batch(self._taken, self.recorder.take(), self.journal.take(), checkpoint)

    async def _write(self, batch: Batch) -> None:
        try:
            await self._commit(batch)
            self._synced = batch.number
            self._wake()
            if batch.checkpoint is not None:
                await self._save(batch.checkpoint)
        except Exception as exc:
            self._failed = exc
            self._wake()
            raise
        self._done = batch.number
        self._wake()

    async def _commit(self, batch: Batch) -> None:
        """The recording's lines, then the journal's, written and fsync'd in the thread."""
        if batch.recording or batch.journal:  # an empty batch has nothing to sync
            await self._offload(self._sync, batch.recording, batch.journal, limiter=self._writer)
            self.commits += 1

    async def _save(self, checkpoint: Checkpoint) -> None:
        try:
            await self._offload(self.store.save, checkpoint, limiter=self._writer)
        except OSError as exc:
            raise FatalIO(f"cannot save the checkpoint in {self.store.dir}: {exc}") from exc
        self.checkpoints += 1
        self.last_checkpoint = trio.current_time()

    async def _progress(self) -> None:
        """Wait for the writer to move on; raise what stopped it, if it failed."""
        failed = self._failed
        if isinstance(failed, FatalIO):
            raise FatalIO(str(failed)) from failed  # the same words: one message, whoever says it
        if failed is not None:
            raise RuntimeError("the session's writer task failed") from failed
        await self._moved.wait()

    def _wake(self) -> None:
        moved, self._moved = self._moved, trio.Event()
        moved.set()

    # --- in the writer thread ------------------------------------------------------------------

    def _sync(self, recording: list[bytes], journal: list[bytes]) -> None:
        for writer, lines in ((self.recorder, recording), (self.journal, journal)):
            try:
                writer.sync_taken(lines)
            except OSError as exc:
                raise FatalIO(f"cannot write {writer.path}: {exc}") from exc
