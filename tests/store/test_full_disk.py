"""A real full disk: a small tmpfs filled to the last byte, during a checkpoint, during a journal
append, and under a live session. Where mounting is not allowed the tests say so and skip;
``/dev/full`` (ENOSPC on every write, no privileges needed) still covers the journal append."""

from __future__ import annotations

import errno
import os
from pathlib import Path

import pytest

from tests.store.checkpointkit import account
from trio_paper.store.appendlog import truncate_torn_tail
from trio_paper.store.checkpoint import Checkpoint, CheckpointStore
from trio_paper.store.journal import JournalWriter, read_journal


def fill(disk: Path, leave: int = 0) -> Path:
    """Fill ``disk`` until only ``leave`` bytes are free; return the filler file."""
    filler = disk / "filler"
    with filler.open("wb") as handle:
        while True:
            free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
            if free <= leave:
                break
            try:
                handle.write(b"\0" * min(65536, free - leave))
                handle.flush()
            except OSError as exc:
                if exc.errno != errno.ENOSPC:
                    raise
                break
    return filler


def record(seq: int) -> dict[str, object]:
    return {"seq": seq, "ts": 1_000 + seq, "type": "bar", "close": "99123.4", "pad": "x" * 200}


def test_a_checkpoint_on_a_full_disk_fails_and_leaves_the_last_one_good(tiny_disk: Path) -> None:
    store = CheckpointStore(tiny_disk)
    store.save(Checkpoint("run-1", 10, 3, "2026-11-24T00:00:00Z", account("100")))
    fill(tiny_disk)
    padded = account("200")
    padded["engine"]["strategy"] = {"pad": "y" * 100_000}
    big = Checkpoint("run-1", 20, 6, "2026-11-24T00:00:01Z", padded)
    with pytest.raises(OSError, match="No space left") as raised:
        store.save(big)
    assert raised.value.errno == errno.ENOSPC
    loaded = store.load()
    assert loaded is not None
    assert (loaded.input_seq, loaded.core) == (10, account("100"))
    assert sorted(p.name for p in tiny_disk.iterdir()) == ["checkpoint.json", "filler"]


def test_a_journal_append_on_a_full_disk_fails_and_keeps_what_was_synced(tiny_disk: Path) -> None:
    path = tiny_disk / "events.jsonl"
    journal = JournalWriter(path)
    journal.append(record(seq) for seq in range(1, 11))
    journal.sync()
    fill(tiny_disk, leave=100)
    journal.append(record(seq) for seq in range(11, 500))
    with pytest.raises(OSError, match="No space left") as failed:
        journal.sync()
    assert failed.value.filename == str(path)  # the message names the file
    with pytest.raises(OSError, match="No space left"):
        journal.close()
    truncate_torn_tail(path)
    seqs = [r["seq"] for r in read_journal(path)]
    assert seqs[:10] == list(range(1, 11)), "what was synced before the disk filled is intact"
    assert seqs == list(range(1, len(seqs) + 1))


def test_dev_full_gives_the_same_clear_error_without_privileges() -> None:
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    journal = JournalWriter(Path("/dev/full"), create=False)
    journal.append([record(1)])
    with pytest.raises(OSError, match="No space left") as raised:
        journal.sync()
    assert raised.value.errno == errno.ENOSPC
    with pytest.raises(OSError, match="No space left"):
        journal.close()
