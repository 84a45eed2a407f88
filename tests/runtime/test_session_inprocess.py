"""A whole session in-process, under ``MockClock(autojump_threshold=0)``, against the simulator.

The session's sockets are ``memory_stream_pair``s to ``Simulator.serve_websocket`` (real
trio-websocket on both ends, no real socket for the mock clock to jump over), its REST requests
go to the simulator's own kline endpoint through an httpx transport, and its files are real
files with real fsyncs. Nothing of ours is mocked: the test drives what the application layer
drives (``request_stop``, ``kill``) and audits what is on disk while the session runs.

The disk is slow (``SlowDisk``: 20 ms of virtual time before and after each fsync or checkpoint),
so the engine task takes inputs while a group commit is in flight, as it does live. The audit
knows exactly what each fsync made durable (``SyncedRecorder``, ``SyncedJournal``) and checks,
besides the files every virtual second: an input that asked for ``durable`` (a fill, an exit,
the start) was synced before the next input reached the core; an input taken while a commit was
in flight was not in that commit; a checkpoint is saved only once the inputs and records it
covers are synced.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx
import orjson
import pytest
import trio
import trio.testing
import trio_websocket

from trio_paper.config import Config, from_dict
from trio_paper.core import Core, Outcome
from trio_paper.engine.strategies import load as load_strategy
from trio_paper.errors import Exit, FatalIO
from trio_paper.inputs import Input
from trio_paper.runtime.durable import Durable
from trio_paper.runtime.feed import Connector
from trio_paper.runtime.session import Session, SessionPlan
from trio_paper.sim import FaultPlan, Simulator, Tape, load_tape, open_simulator
from trio_paper.store.checkpoint import Checkpoint, CheckpointStore
from trio_paper.store.files import private_dir
from trio_paper.store.journal import JournalWriter, read_journal
from trio_paper.store.recording import Header, RecordingReader, RecordingWriter
from trio_paper.times import iso_to_ms
from trio_paper.venues import Socket

from .diskkit import SlowDisk

BASE_MS = iso_to_ms("2030-01-02T03:04:30Z")
CONFIG = {
    "feed": {
        "ping_interval_s": 3, "pong_timeout_s": 1.5, "stale_after_s": 2.5,
        "connect_timeout_s": 2, "backoff_initial_s": 0.2, "backoff_max_s": 2,
        "healthy_after_s": 5, "warmup_bars": 30,
    },
    "session": {"checkpoint_interval_s": 2, "status_interval_s": 30},
    "strategy": {"name": "ema_cross", "params": {"fast": 2, "slow": 3}},
}  # fmt: skip


def wall_ms() -> int:
    return BASE_MS + round(trio.current_time() * 1000)


@pytest.fixture(scope="module")
def tape(demo_recording: Path) -> Tape:
    return load_tape(demo_recording)


class SimTransport(httpx.AsyncBaseTransport):
    """httpx requests answered by the simulator's kline endpoint, with no socket."""

    def __init__(self, sim: Simulator) -> None:
        self.sim = sim

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        status, body = self.sim.rest_response(request.method, request.url.raw_path.decode())
        return httpx.Response(status, content=body)


def dial(sim: Simulator) -> Callable[[Socket], Connector]:
    def connector_for(socket: Socket) -> Connector:
        async def connect(nursery: trio.Nursery) -> tuple[Any, trio.abc.Stream]:
            client, server = trio.testing.memory_stream_pair()
            nursery.start_soon(sim.serve_websocket, server)
            # trio-websocket annotates SocketStream but wraps any trio Stream, as its tests do
            ws = await trio_websocket.wrap_client_stream(
                nursery, client, "127.0.0.1", "/public/", message_queue_size=16,  # type: ignore[arg-type]
            )  # fmt: skip
            return ws, client

        return connect

    return connector_for


def synced_seqs(taken: list[bytes]) -> list[int]:
    """The ``seq`` of each line handed to ``sync_taken`` (a recording's header has none); a
    piece of the buffer may hold several lines (a run of bar lines is one)."""
    lines = (orjson.loads(line) for line in b"".join(taken).splitlines())
    return [line["seq"] for line in lines if "seq" in line]


class SyncedRecorder(RecordingWriter):
    """A recording that knows the last input its fsyncs made durable."""

    synced = 0

    def sync_taken(self, taken: list[bytes]) -> None:
        super().sync_taken(taken)
        self.synced = max([self.synced, *synced_seqs(taken)])


class SyncedJournal(JournalWriter):
    """A journal that knows the last record its fsyncs made durable; ``fails`` (1, 2, ...) is
    the sync that finds the disk full."""

    synced = 0
    syncs = 0
    fails = 0

    def sync_taken(self, taken: list[bytes]) -> None:
        self.syncs += 1
        if self.syncs == self.fails:
            raise OSError(28, "No space left on device")
        super().sync_taken(taken)
        self.synced = max([self.synced, *synced_seqs(taken)])


class Home:
    """A run's real files: recording, journal, checkpoints, on a slow disk."""

    def __init__(self, root: Path, config: Config) -> None:
        self.state = private_dir(root / "state")
        self.recording = root / "recording.jsonl"
        self.events = root / "events.jsonl"
        self.store = CheckpointStore(self.state)
        header = Header("bitunix", "BTCUSDT", ["market_kline_1min"], "1min", "2030-01-02T03:04Z")
        self.recorder = SyncedRecorder(self.recording, header)
        self.journal = SyncedJournal(self.events)
        # fsyncs on the event loop (no thread for the mock clock to skip), taking virtual time
        self.disk = SlowDisk(0.02, 0.02)
        self.durable = Durable(self.recorder, self.journal, self.store, self.offload)
        self.urgent = (0, 0)  # the last input that asked for durable, and its last record
        self.overlapped: list[int] = []  # inputs taken while a commit was in flight
        self.checkpoints_checked = 0

    def records(self) -> list[dict[str, Any]]:
        return list(read_journal(self.events))

    def audit(self) -> None:
        """A checkpoint on disk never covers an input or a record that is not on disk."""
        checkpoint = self.store.load()
        if checkpoint is None:
            return
        last_record = max((r["seq"] for r in read_journal(self.events)), default=0)
        with RecordingReader(self.recording) as reader:
            last_input = max((item.seq for item in reader), default=0)
        assert checkpoint.journal_seq <= last_record, "checkpoint ahead of the journal"
        assert checkpoint.input_seq <= last_input, "checkpoint ahead of the recording"

    async def offload(self, function: Any, *args: Any, limiter: object = None) -> Any:
        if function == self.store.save:
            self._check_checkpoint(args[0])
        if function.__name__ != "_sync":
            return await self.disk(function, *args)
        flight_starts = len(self.overlapped)
        result = await self.disk(function, *args)
        later = self.overlapped[flight_starts:]
        assert all(seq > self.recorder.synced for seq in later), "an input joined a commit late"
        return result

    def _check_checkpoint(self, checkpoint: Checkpoint) -> None:
        assert checkpoint.input_seq <= self.recorder.synced, "checkpoint of an unsynced input"
        assert checkpoint.journal_seq <= self.journal.synced, "checkpoint of an unsynced record"
        self.checkpoints_checked += 1

    def watch(self, core: Core) -> None:
        """Check, as each input reaches the core, that the last one that asked for durable is."""
        on_item = core.on_item

        def audited(item: Input) -> Outcome:
            urgent_input, urgent_record = self.urgent
            assert self.recorder.synced >= urgent_input, "next input before a fill's input synced"
            assert self.journal.synced >= urgent_record, "next input before a fill was synced"
            outcome = on_item(item)
            if self.disk.busy:
                self.overlapped.append(item.seq)
            if outcome.durable:
                last = max((r["seq"] for r in outcome.records), default=urgent_record)
                self.urgent = (item.seq, last)
            return outcome

        core.on_item = audited  # type: ignore[method-assign]


async def run_session(
    tmp_path: Path,
    tape: Tape,
    faults: FaultPlan,
    minutes: float,
    drive: Callable[[Session, Home], Awaitable[None]] | None = None,
    home: Home | None = None,
) -> tuple[Exit, Session, Home]:
    config = from_dict(CONFIG, "test")
    strategy = load_strategy(config.strategy.name, config.strategy.params)
    home = home or Home(tmp_path, config)
    audits = 0
    async with open_simulator(tape, faults=faults, wall_ms=wall_ms, seed=7) as sim:
        plan = SessionPlan(
            config, "inprocess", minutes, sim.ws_url, sim.rest_url, home.state,
            warmup_bars=config.feed.warmup_bars, clock_ms=wall_ms, connect=dial(sim),
            http=SimTransport(sim),
        )  # fmt: skip
        session = Session(plan, Core(config, strategy), home.durable)
        home.watch(session.core)
        async with trio.open_nursery() as nursery:

            async def auditor() -> None:
                nonlocal audits
                while True:
                    await trio.sleep(1.0)
                    home.audit()
                    audits += 1

            nursery.start_soon(auditor)
            if drive is not None:
                nursery.start_soon(drive, session, home)
            code = await session.run()
            nursery.cancel_scope.cancel()
    home.durable.close()
    home.audit()
    assert audits > 10
    return code, session, home


def of(records: list[dict[str, Any]], kind: str, event: str | None = None) -> list[Any]:
    return [r for r in records if r["type"] == kind and (event is None or r.get("event") == event)]


async def test_a_session_trades_closes_and_leaves_every_fill_durable(
    tmp_path: Path, tape: Tape, autojump_clock: trio.testing.MockClock
) -> None:
    with trio.fail_after(3600):
        code, _, home = await run_session(tmp_path, tape, FaultPlan(), minutes=8)
    assert code == Exit.OK
    records = home.records()
    assert records[0]["type"] == "session_start"
    assert records[-1]["type"] == "session_end"
    assert records[-1]["reason"] == "deadline"
    assert of(records, "fill"), "a fast EMA cross on 8 minutes of the demo should trade"
    assert of(records, "feed", "backfilled")[0]["bars"] == 30  # the warm-up, over REST
    checkpoint = home.store.load()
    assert checkpoint is not None
    assert checkpoint.journal_seq == records[-1]["seq"]  # the final checkpoint covers all
    assert home.overlapped, "no input was taken while a commit was in flight"
    assert home.checkpoints_checked > 3


async def test_a_stall_is_a_gap_and_the_gap_is_backfilled(
    tmp_path: Path, tape: Tape, autojump_clock: trio.testing.MockClock
) -> None:
    stall = FaultPlan.parse(["stall@150:90"])  # 90 s of silence: more than a bar is missed
    with trio.fail_after(3600):
        code, _, home = await run_session(tmp_path, tape, stall, minutes=6)
    assert code == Exit.OK
    records = home.records()
    assert of(records, "feed", "stale")
    gaps = of(records, "feed", "gap")
    assert gaps, "the bars missed during the stall are a gap"
    fetched = [r for r in of(records, "feed", "backfilled") if r["reason"] == "gap"]
    assert {(r["start"], r["end"]) for r in fetched} == {(g["start"], g["end"]) for g in gaps}
    first = fetched[0]
    assert (first["error"], first["bars"]) == (None, gaps[0]["bars"])  # the missed bars, closed


async def test_the_kill_switch_stops_the_session_and_stop_is_clean(
    tmp_path: Path, tape: Tape, autojump_clock: trio.testing.MockClock
) -> None:
    async def kill_later(session: Session, home: Home) -> None:
        await trio.sleep(300)
        await session.kill("test")

    with trio.fail_after(3600):
        code, session, home = await run_session(
            tmp_path, tape, FaultPlan(), minutes=10, drive=kill_later
        )
    assert code == Exit.KILLED
    records = home.records()
    kills = of(records, "risk", "kill")
    assert [k["source"] for k in kills] == ["test"]
    assert of(records[: records.index(kills[0])], "fill"), "it had traded before the kill"
    end = records[-1]
    assert end["type"] == "session_end"
    assert end["reason"] == "kill switch (test)"
    assert end["position"] == "0"  # flattened
    assert end["ts"] - BASE_MS < 301_000  # it stopped at once, not at the deadline
    assert session.end_reason == "kill switch (test)"


async def test_request_stop_ends_the_session_at_once(
    tmp_path: Path, tape: Tape, autojump_clock: trio.testing.MockClock
) -> None:
    async def stop_soon(session: Session, home: Home) -> None:
        await trio.sleep(75)
        session.request_stop("operator")

    with trio.fail_after(3600):
        code, _, home = await run_session(tmp_path, tape, FaultPlan(), minutes=10, drive=stop_soon)
    assert code == Exit.OK
    end = home.records()[-1]
    assert end["reason"] == "operator"
    assert 75_000 <= end["ts"] - BASE_MS < 76_000  # journaled as soon as it was asked for


async def test_a_full_disk_under_a_group_commit_stops_the_session_and_is_never_retried(
    tmp_path: Path, tape: Tape, autojump_clock: trio.testing.MockClock
) -> None:
    home = Home(tmp_path, from_dict(CONFIG, "test"))
    home.journal.fails = 40
    with trio.fail_after(3600), pytest.RaisesGroup(FatalIO, flatten_subgroups=True) as caught:
        await run_session(tmp_path, tape, FaultPlan(), minutes=8, home=home)
    fatal: BaseException = caught.value
    while isinstance(fatal, BaseExceptionGroup):
        fatal = fatal.exceptions[0]
    assert "events.jsonl" in str(fatal)
    assert home.journal.syncs == 40  # the failed sync was the last one tried
    home.durable.close()
    home.audit()
    checkpoint = home.store.load()
    assert checkpoint is not None
    assert checkpoint.journal_seq <= home.journal.synced
    assert not of(home.records(), "session_end")  # no final commit after the failure
