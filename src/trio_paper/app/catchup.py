"""The one resume flow: a core from a run's checkpoint, the inputs after it, the journal's tail.

A replay (fresh, or resumed after a kill) and start-up recovery do the same thing: rebuild the
core the run's manifest describes from its last checkpoint, run every input after the
checkpoint through it, append the records the journal does not hold yet (by ``seq``), close the
session if it is still open, sync, and save a checkpoint. Doing it in one place is what makes a
killed replay end byte for byte like an uninterrupted one — the crash harness proves it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Any

import attrs

from ..config import Config
from ..core import Core
from ..engine.strategies import Strategy
from ..inputs import Input
from ..logs import log_notices
from ..store.checkpoint import Checkpoint, CheckpointStore, checkpoint_of
from ..store.journal import ResumedJournal
from .lifecycle import Run

log = logging.getLogger("trio_paper.catchup")
FLUSH_EVERY = 512
"""Inputs between flushes of the journal to the OS (not fsyncs): a killed replay loses little
(a few milliseconds of work), and a run of frames with a record now and then is not a write
of a record at a time."""


@attrs.frozen
class Restored:
    """A run's core as its last checkpoint left it (a fresh one without a checkpoint)."""

    run: Run
    core: Core
    checkpoint: Checkpoint | None

    @property
    def after(self) -> int:
        """The last input the checkpoint covers: inputs up to it are already in the core."""
        return self.checkpoint.input_seq if self.checkpoint else 0


def restore(
    run: Run,
    store: CheckpointStore,
    started: tuple[Config, Strategy[Any, Any]] | None = None,
) -> Restored:
    """Rebuild the core of ``run`` from ``store`` with the config and strategy it started with:
    ``started`` when the caller holds them (a run it has just created), else the manifest's."""
    checkpoint = store.load()
    state = Core.restore_state(checkpoint.core) if checkpoint else None
    config, strategy = started or (run.manifest.run_config(), run.manifest.run_strategy())
    core = Core(config, strategy, state)
    return Restored(run, core, checkpoint)


@attrs.define
class Progress:
    """What a catch-up did: inputs run, records appended."""

    items: int = 0
    records: int = 0


def catch_up(
    restored: Restored,
    inputs: Iterable[Input],
    journal: ResumedJournal,
    store: CheckpointStore,
    checkpoint_every: int | None = None,
) -> Progress:
    """Run the inputs after the checkpoint through the core, appending what the journal lacks.

    ``checkpoint_every`` N inputs, the journal is synced and a checkpoint saved, so a killed
    catch-up resumes from there.
    """
    core, after, run_id = restored.core, restored.after, restored.run.id
    on_item, append_new, notices = core.on_item, journal.append_new, core.notices
    done = Progress()
    previous = after  # the seq of the last input run (an input may be a run of bars)
    for item in inputs:
        seq = item.seq
        if seq <= after:
            continue
        done.items += seq - previous
        # Most inputs produce no record and no notice: these checks keep their cost to that.
        out = on_item(item).records
        if out:
            done.records += append_new(out)
        if notices:
            log_notices("replay", notices)  # a strategy's traceback, a bad frame
        if journal.pending and seq // FLUSH_EVERY != previous // FLUSH_EVERY:
            journal.flush()  # to the OS: survives a killed process, not a power cut
        if checkpoint_every and seq // checkpoint_every != previous // checkpoint_every:
            journal.sync()
            store.save(checkpoint_of(run_id, core))
        previous = seq
    return done


def close(restored: Restored, journal: ResumedJournal, store: CheckpointStore, reason: str) -> int:
    """End the session if it is open, make the journal durable, save the checkpoint; return the
    records appended."""
    core = restored.core
    appended = journal.append_new(core.end(core.engine.t, reason).records)
    journal.sync()
    store.save(checkpoint_of(restored.run.id, core))
    return appended
