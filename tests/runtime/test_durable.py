"""Durable: group commits beside the engine task, in the durability order, under a mock clock.

The disk is real (real files, real fsyncs, on the event loop); ``SlowDisk`` makes each call
take virtual time before and after it, as an fsync takes wall time, so inputs arrive while a
commit is in flight.
"""

from __future__ import annotations

import errno
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import orjson
import pytest
import trio
import trio.testing

from tests.store.checkpointkit import account
from trio_paper.errors import FatalIO
from trio_paper.inputs import Tick
from trio_paper.runtime.durable import CheckpointDue, Durable
from trio_paper.store.checkpoint import Checkpoint, CheckpointStore
from trio_paper.store.files import private_dir
from trio_paper.store.journal import JournalWriter
from trio_paper.store.recording import Header, RecordingWriter

from .diskkit import SlowDisk

HEADER = Header("bitunix", "BTCUSDT", ["market_kline_1min"], "1min", "2030-01-02T03:04Z")


class FullJournal(JournalWriter):
    """A journal whose ``fails``-th sync finds the disk full."""

    def __init__(self, path: Path, fails: int) -> None:
        super().__init__(path)
        self.fails = fails
        self.syncs = 0

    def sync_taken(self, taken: list[bytes]) -> None:
        self.syncs += 1
        if self.syncs == self.fails:
            raise OSError(errno.ENOSPC, "No space left on device")
        super().sync_taken(taken)


def make(tmp_path: Path, disk: SlowDisk, journal: JournalWriter | None = None) -> Durable:
    return Durable(
        RecordingWriter(tmp_path / "recording.jsonl", HEADER),
        journal or JournalWriter(tmp_path / "events.jsonl"),
        CheckpointStore(private_dir(tmp_path / "state")),
        disk,
    )


def take_input(durable: Durable, seq: int) -> None:
    """What the engine task does with an input: record it, journal its record."""
    durable.recorder.write(Tick(seq, seq))
    durable.journal.append([{"seq": seq, "ts": seq, "type": "feed", "event": "tick"}])


async def one_in_flight(durable: Durable) -> None:
    """Input 1 goes with a batch now on its way to the disk; input 2 is taken meanwhile."""
    take_input(durable, 1)
    durable.request()
    await trio.sleep(0.005)  # the writer took input 1 and is on its way to the disk
    take_input(durable, 2)  # the engine goes on meanwhile


@asynccontextmanager
async def writing(durable: Durable, due: CheckpointDue) -> AsyncIterator[None]:
    """``durable``'s writer task, running for the block and stopped after it."""
    async with trio.open_nursery() as nursery:
        await nursery.start(durable.run, due)
        yield
        nursery.cancel_scope.cancel()


def on_disk(path: Path) -> list[int]:
    return [
        orjson.loads(line)["seq"] for line in path.read_bytes().splitlines() if b'"seq"' in line
    ]


def checkpoint(input_seq: int) -> Checkpoint:
    return Checkpoint("run", input_seq, input_seq, "2030-01-02T03:04:05.000Z", account("10000"))


async def test_an_input_taken_while_a_commit_is_in_flight_goes_with_the_next(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    disk = SlowDisk()
    durable = make(tmp_path, disk)
    with trio.fail_after(10):
        async with writing(durable, lambda: None):
            await one_in_flight(durable)
            await trio.sleep(0.03)
            assert durable.commits == 1
            assert on_disk(tmp_path / "recording.jsonl") == [1]
            assert on_disk(tmp_path / "events.jsonl") == [1]
            await durable.commit()
            assert on_disk(tmp_path / "recording.jsonl") == [1, 2]
            assert on_disk(tmp_path / "events.jsonl") == [1, 2]
    durable.close()


async def test_a_commit_waits_for_the_batch_after_the_one_in_flight(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    disk = SlowDisk()
    durable = make(tmp_path, disk)
    with trio.fail_after(10):
        async with writing(durable, lambda: None):
            await one_in_flight(durable)  # input 2 a fill, say: durable before the next input
            await durable.commit()
            # batch 1 synced at 0.01 and returned at 0.02; batch 2, taken then, at 0.03, 0.04
            assert trio.current_time() == pytest.approx(0.04)
            assert [name for name, _ in disk.calls] == ["_sync", "_sync"]
            assert on_disk(tmp_path / "recording.jsonl") == [1, 2]
    durable.close()


async def test_the_recording_is_synced_before_the_journal_and_both_before_the_checkpoint(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    order: list[str] = []

    class Recorder(RecordingWriter):
        def sync_taken(self, taken: list[bytes]) -> None:
            super().sync_taken(taken)
            order.append("recording")

    class Journal(JournalWriter):
        def sync_taken(self, taken: list[bytes]) -> None:
            super().sync_taken(taken)
            order.append("journal")

    class Store(CheckpointStore):
        def save(self, checkpoint: Checkpoint) -> None:
            super().save(checkpoint)
            order.append(f"checkpoint {checkpoint.input_seq}")

    disk = SlowDisk()
    durable = Durable(
        Recorder(tmp_path / "recording.jsonl", HEADER), Journal(tmp_path / "events.jsonl"),
        Store(private_dir(tmp_path / "state")), disk,
    )  # fmt: skip
    seq = 0

    def due() -> Checkpoint:  # taken with the batch: it covers the inputs taken so far
        return checkpoint(seq)

    with trio.fail_after(10):
        async with writing(durable, due):
            seq = 1
            take_input(durable, 1)
            durable.request()
            await trio.sleep(0.005)
            seq = 2
            take_input(durable, 2)  # in flight: the checkpoint taken with batch 1 says 1
            await durable.commit()
            await trio.sleep(1)
    durable.close()
    assert order == [
        "recording", "journal", "checkpoint 1", "recording", "journal", "checkpoint 2",
    ]  # fmt: skip
    saved = durable.store.load()
    assert saved is not None
    assert saved.input_seq == 2


async def test_finish_lets_the_batch_in_flight_end_then_writes_the_rest_and_checkpoints(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    disk = SlowDisk()
    durable = make(tmp_path, disk)
    with trio.fail_after(10):
        async with writing(durable, lambda: checkpoint(1)):
            await one_in_flight(durable)
            with trio.CancelScope(shield=True):
                await durable.finish(lambda: checkpoint(2))
            durable.request()  # the writer is gone: nothing more is taken
            await trio.sleep(1)
    durable.close()
    assert [name for name, _ in disk.calls] == ["_sync", "save", "_sync", "save"]
    assert on_disk(tmp_path / "events.jsonl") == [1, 2]
    saved = durable.store.load()
    assert saved is not None
    assert saved.input_seq == 2  # the last checkpoint saved is the final one, not the older one


async def test_a_failed_sync_is_fatal_to_the_writer_and_its_waiters_and_never_retried(
    tmp_path: Path, autojump_clock: trio.testing.MockClock
) -> None:
    disk = SlowDisk()
    journal = FullJournal(tmp_path / "events.jsonl", fails=2)
    durable = make(tmp_path, disk, journal)
    waiter: list[BaseException] = []

    async def wait_for_commit() -> None:
        try:
            await durable.commit()
        except FatalIO as exc:
            waiter.append(exc)

    with trio.fail_after(10), pytest.RaisesGroup(FatalIO, flatten_subgroups=True) as caught:
        async with trio.open_nursery() as nursery:
            await nursery.start(durable.run, lambda: checkpoint(9))
            take_input(durable, 1)
            await durable.commit()  # the first batch: synced, its checkpoint saved
            await trio.sleep(0.1)
            take_input(durable, 2)
            nursery.start_soon(wait_for_commit)  # the second batch: the disk is full
            await trio.sleep_forever()
    take_input(durable, 3)  # buffered after the failure: never written, not even by close
    durable.close()
    (fatal,) = caught.value.exceptions
    assert "cannot write" in str(fatal)
    assert "events.jsonl" in str(fatal)
    assert [str(exc) for exc in waiter] == [str(fatal)]  # the waiter is told, in the same words
    assert journal.syncs == 2  # never retried
    assert [name for name, _ in disk.calls] == ["_sync", "save", "_sync"]  # no checkpoint after
    assert on_disk(tmp_path / "events.jsonl") == [1]
    assert on_disk(tmp_path / "recording.jsonl") == [1, 2]  # synced before the journal failed
