"""Recovery on start: the last good checkpoint, then the recording's tail re-run through the core.

The journal and recording of the run the checkpoint belongs to may be ahead of it: inputs and
records made durable after the checkpoint was saved. Re-running the recorded inputs after the
checkpoint through the same core (``catchup``) rebuilds exactly the state an uninterrupted run
had at the crash; records the journal already holds are skipped by ``seq``, missing ones
appended. The run is then closed (``session_end``, reports) and a fresh checkpoint saved, so the
next session resumes the same account — no fill lost, none duplicated.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import attrs

from ..store.appendlog import truncate_torn_tail
from ..store.checkpoint import CheckpointStore
from ..store.journal import ResumedJournal
from ..store.recording import RecordingReader
from .catchup import catch_up, close, restore
from .lifecycle import Run

log = logging.getLogger("trio_paper.recovery")
INTERRUPTED = "interrupted; recovered at the next start"


@attrs.frozen
class Recovery:
    """What recovery found and did; ``core`` is the state to resume from."""

    run_id: str
    replayed: int
    appended: int
    interrupted: bool
    strategy: dict[str, Any]
    core: dict[str, Any]
    venue: str | None = None
    """The venue the account traded on (None if the last run's folder is gone)."""


def recover(home: Path, store: CheckpointStore) -> Recovery | None:
    """Bring the account up to where the last run stopped; None for a brand-new account."""
    checkpoint = store.load()
    if checkpoint is None:
        return None
    try:
        run = Run.find(home, checkpoint.run_id)
    except ValueError as exc:  # a damaged manifest: the account is in the checkpoint
        log.error("%s", exc)
        run = None
    if run is None:
        log.warning(
            "run %s of the last checkpoint is gone or damaged; resuming from the checkpoint alone",
            checkpoint.run_id,
        )
        return Recovery(checkpoint.run_id, 0, 0, False, {}, checkpoint.core)
    restored = restore(run, store)
    recording = run.dir.recording
    _report_cut(recording, truncate_torn_tail(recording))
    with ResumedJournal(run.dir.events) as journal:
        _report_cut(run.dir.events, journal.cut)
        if journal.durable < restored.core.engine.state.seq:
            log.error(
                "%s ends at record %d but the checkpoint covers up to %d: records %d–%d are "
                "missing (the journal was damaged after it was synced); the account is intact",
                run.dir.events, journal.durable, restored.core.engine.state.seq,
                journal.durable + 1, restored.core.engine.state.seq,
            )  # fmt: skip
        replayed = appended = 0
        if recording.exists():
            with RecordingReader(recording) as reader:
                done = catch_up(restored, reader, journal, store)
            replayed, appended = done.items, done.records
        interrupted = not restored.core.engine.state.ended
        appended += close(restored, journal, store, INTERRUPTED)
    if interrupted:
        # A run that died of an error it could name (a failed fsync, a bug) keeps it.
        ended, code = run.manifest.exit_reason, run.manifest.exit_code
        run.finish(INTERRUPTED if ended is None else f"{ended}; recovered at the next start", code)
        log.warning(
            "run %s had stopped abruptly: re-ran %d recorded inputs, appended %d journal records",
            run.id, replayed, appended,
        )  # fmt: skip
    elif appended or not run.reported:
        run.finish(run.manifest.exit_reason or "ended", run.manifest.exit_code)
    saved = restored.core.snapshot()
    return Recovery(
        run.id, replayed, appended, interrupted, run.manifest.strategy, saved, run.manifest.venue
    )


def _report_cut(path: Path, cut: int) -> None:
    if cut:
        log.warning("%s: cut a torn last line of %d bytes left by a crash", path, cut)
