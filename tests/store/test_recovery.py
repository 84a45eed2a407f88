"""Recovery: the checkpoint plus the recording's tail rebuilds exactly the uninterrupted state."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson
import pytest

from trio_paper.app.lifecycle import Run
from trio_paper.app.recover import recover
from trio_paper.codec import dumps
from trio_paper.config import Config
from trio_paper.core import Core
from trio_paper.engine.strategies import load
from trio_paper.inputs import SessionStart
from trio_paper.store.appendlog import truncate_torn_tail
from trio_paper.store.checkpoint import Checkpoint, CheckpointStore
from trio_paper.store.files import private_dir
from trio_paper.store.recording import RecordingReader, RecordingWriter, read_header
from trio_paper.store.rundir import RunDir

STRATEGY = {"name": "ema_cross", "params": {"fast": 3, "slow": 8, "stop_pct": "0.3"}}


@pytest.mark.parametrize(
    ("content", "kept"),
    [
        (b"", b""),
        (b'{"a":1}\n', b'{"a":1}\n'),
        (b'{"a":1}\n{"b":', b'{"a":1}\n'),
        (b'{"b":', b""),
        (b'{"a":1}\n' + b"x" * 10_000, b'{"a":1}\n'),
    ],
)
def test_a_torn_last_line_is_cut_and_nothing_else(
    tmp_path: Path, content: bytes, kept: bytes
) -> None:
    path = tmp_path / "events.jsonl"
    path.write_bytes(content)
    assert truncate_torn_tail(path) == len(content) - len(kept)
    assert path.read_bytes() == kept


def live_run(
    home: Path, demo_recording: Path, stop_after: int, checkpoint_at: int
) -> tuple[RunDir, list[bytes]]:
    """Act out a live run of the demo recording that crashed: its recording has the first
    ``stop_after`` items, a checkpoint was saved at ``checkpoint_at``. Returns the run and the
    journal an uninterrupted core writes for those items (which the test then damages)."""
    config = Config()
    strategy = load(STRATEGY["name"], dict(STRATEGY["params"]))  # type: ignore[arg-type]
    run = Run.create(home, "live", config, strategy).dir
    core = Core(config, strategy)
    store = CheckpointStore(private_dir(home / "state"))
    lines: list[bytes] = []
    header = read_header(demo_recording)
    with (
        RecordingReader(demo_recording) as reader,
        RecordingWriter(run.recording, header) as writer,
    ):
        for recorded in reader:
            if recorded.seq > stop_after:
                break
            item = SessionStart(1, recorded.t, run.id) if recorded.seq == 1 else recorded
            writer.write(item)
            lines += [dumps(record) for record in core.on_item(item).records]
            if item.seq == checkpoint_at:
                snapshot = core.snapshot()
                saved = Checkpoint(
                    run.id, item.seq, core.engine.state.seq, "2026-11-24T00:00:00Z", snapshot
                )
                store.save(saved)
    return run, lines


def test_recovery_appends_what_the_journal_lacks_and_closes_the_run(
    tmp_path: Path, demo_recording: Path
) -> None:
    run, expected = live_run(tmp_path, demo_recording, stop_after=2500, checkpoint_at=900)
    saved = CheckpointStore(tmp_path / "state").load()
    assert saved is not None
    assert saved.journal_seq < len(expected) - 10, "the test needs records after the checkpoint"
    # durable journal: what the checkpoint covers and more, then a line torn by the crash
    durable = (saved.journal_seq + len(expected)) // 2
    run.events.write_bytes(b"\n".join(expected[:durable]) + b"\n" + expected[durable][:17])
    recovery = recover(tmp_path, CheckpointStore(tmp_path / "state"))
    assert recovery is not None
    assert recovery.interrupted
    assert recovery.replayed == 2500 - 900
    journal = run.events.read_bytes().splitlines()
    assert journal[: len(expected)] == expected, "records lost, duplicated or changed"
    last = orjson.loads(journal[-1])
    assert last["type"] == "session_end"
    assert last["reason"].startswith("interrupted")
    assert len(journal) == len(expected) + 1
    seqs = [orjson.loads(line)["seq"] for line in journal]
    assert seqs == list(range(1, len(seqs) + 1))
    # a second start finds the run closed and appends nothing
    again = recover(tmp_path, CheckpointStore(tmp_path / "state"))
    assert again is not None
    assert (again.replayed, again.appended, again.interrupted) == (0, 0, False)
    assert run.events.read_bytes().splitlines() == journal


def test_recovery_without_journal_records_past_the_checkpoint(
    tmp_path: Path, demo_recording: Path
) -> None:
    run, expected = live_run(tmp_path, demo_recording, stop_after=1800, checkpoint_at=1800)
    run.events.write_bytes(b"\n".join(expected) + b"\n")
    shutil.copy(run.recording, tmp_path / "copy")
    recovery = recover(tmp_path, CheckpointStore(tmp_path / "state"))
    assert recovery is not None
    assert recovery.replayed == 0
    assert run.events.read_bytes().splitlines()[:-1] == expected
    assert run.recording.read_bytes() == (tmp_path / "copy").read_bytes()
