"""Recovery on start: the last good checkpoint, then the recording's tail re-run through the core.

The journal and recording of the run the checkpoint belongs to may be ahead of it: inputs and
records made durable after the checkpoint was saved. Re-running the recorded inputs after the
checkpoint through the same core rebuilds exactly the state an uninterrupted run had at the
crash; records the journal already holds are skipped by ``seq``, missing ones appended. The run
is then closed (``session_end``, reports) and a fresh checkpoint saved, so the next session
resumes the same account — no fill lost, none duplicated.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import attrs
import orjson

from ..codec import config_converter, structure
from ..config import Config
from ..core import Core
from ..engine.strategies import load as load_strategy
from ..report import write_reports
from .appendlog import truncate_torn_tail
from .checkpoint import CheckpointStore, checkpoint_of, now_iso
from .journal import ResumedJournal
from .recording import RecordingReader
from .rundir import RunDir, runs_root

log = logging.getLogger("trio_paper.recovery")


@attrs.frozen
class Recovery:
    """What recovery found and did; ``core`` is the state to resume from."""

    run_id: str
    replayed: int
    appended: int
    interrupted: bool
    strategy: dict[str, Any]
    core: dict[str, Any]


def run_config(run: RunDir) -> tuple[Config, dict[str, Any]]:
    """The config and strategy a run was started with, from its manifest."""
    manifest = orjson.loads(run.manifest.read_bytes())
    config = structure(manifest["config"], Config, "manifest.config", using=config_converter)
    return config, manifest["strategy"]


def recover(home: Path, store: CheckpointStore) -> Recovery | None:
    """Bring the account up to where the last run stopped; None for a brand-new account."""
    checkpoint = store.load()
    if checkpoint is None:
        return None
    run = RunDir(runs_root(home) / checkpoint.run_id)
    if not run.manifest.exists():
        log.warning(
            "run %s of the last checkpoint is gone; resuming from the checkpoint alone",
            checkpoint.run_id,
        )
        return Recovery(checkpoint.run_id, 0, 0, False, {}, checkpoint.core)
    config, strategy_spec = run_config(run)
    strategy = load_strategy(strategy_spec["name"], strategy_spec["params"])
    core = Core(config, strategy, Core.restore_state(checkpoint.core))
    _report_cut(run.recording, truncate_torn_tail(run.recording))
    replayed = appended = 0
    with ResumedJournal(run.events) as journal:
        _report_cut(run.events, journal.cut)
        durable = journal.durable
        if durable < checkpoint.journal_seq:
            log.error(
                "%s ends at record %d but the checkpoint covers up to %d: records %d–%d are "
                "missing (the journal was damaged after it was synced); the account is intact",
                run.events, durable, checkpoint.journal_seq, durable + 1, checkpoint.journal_seq,
            )  # fmt: skip
        if run.recording.exists():
            with RecordingReader(run.recording) as reader:
                for item in reader:
                    if item.seq <= checkpoint.input_seq:
                        continue
                    replayed += 1
                    appended += journal.append_new(core.on_item(item))
        interrupted = not core.engine.state.ended
        if interrupted:
            appended += journal.append_new(
                core.end(core.engine.t, "interrupted; recovered at the next start")
            )
        journal.sync()
    saved = checkpoint_of(run.id, core)
    store.save(saved)
    if appended:
        write_reports(run)
    if interrupted:
        manifest = orjson.loads(run.manifest.read_bytes())
        manifest.update(exit_reason="interrupted; recovered at the next start", ended=now_iso())
        run.write_manifest(manifest)
        log.warning(
            "run %s had stopped abruptly: re-ran %d recorded inputs, appended %d journal records",
            run.id, replayed, appended,
        )  # fmt: skip
    return Recovery(run.id, replayed, appended, interrupted, strategy_spec, saved.core)


def _report_cut(path: Path, cut: int) -> None:
    if cut:
        log.warning("%s: cut a torn last line of %d bytes left by a crash", path, cut)
