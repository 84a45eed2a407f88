"""A live session: one root nursery, every component one task in it.

::

    feed ─┐
    ticks ├─▶ inputs channel ─▶ engine task: record → core → journal    (buffered)
    backfills                                 │           ┆
    kill file ┘                               │           writer task: group commit → checkpoint
                                              └─▶ gap → backfill request; kill → stop

The engine task is the only consumer: it numbers each input, records it, then hands it to the
core, so the recording's order is the order the core saw. Its writer task (``Durable.run``)
commits what it buffered meanwhile; only a fill, an exit or the start waits for the disk.
Producers run under a cancel scope whose deadline is ``--minutes``; when it expires (or
``request_stop``, or the kill switch), the session sends one ``stop`` input, the engine writes
``session_end``, commits and checkpoints — shielded, and bounded by ``stop_grace_s``.

The session owns no process-wide state: signals, the exit code's meaning and the run folder
are the application's (``app/run.py``), so a test runs a whole session in-process.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Awaitable, Callable
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path
from typing import Any

import attrs
import httpx
import trio

from ..config import Config
from ..core import Core, Outcome
from ..engine.records import MONEY_MOVES, RecordType
from ..errors import Exit
from ..inputs import (
    Backfill,
    FeedConnected,
    FeedDisconnected,
    FeedStale,
    Item,
    KillSwitch,
    SessionStart,
    StopRequested,
    Subscribed,
    Tick,
)
from ..store.checkpoint import Checkpoint, checkpoint_of
from ..times import ms_to_iso
from ..venues import Socket
from .backfill import RestKlines
from .durable import Durable
from .feed import Connector, Feed, FeedSettings, FeedStatus
from .panel import StatusBoard
from .watchers import Watchers, WatchPlan, WatchSources

log = logging.getLogger("trio_paper.session")
INPUT_LOG_EVERY = 1000


GAP_RETRIES = 4
"""A gap's failed REST request is tried this many more times, 1, 2, 4, 8 s apart."""


def wall_ms() -> int:
    return time.time_ns() // 1_000_000


@attrs.frozen
class SessionPlan:
    """Everything a session needs that is decided before it starts."""

    config: Config
    run_id: str
    minutes: float
    ws_url: str
    rest_url: str
    state_dir: Path
    resume: dict[str, Any] | None = None
    warmup_bars: int = 200
    clock_ms: Callable[[], int] = wall_ms
    connect: Callable[[Socket], Connector] | None = None
    """How to dial each socket (default: a real WebSocket); tests dial memory streams."""
    http: httpx.AsyncBaseTransport | None = None
    """How REST requests travel (default: the network); tests hand them to the simulator."""
    status_tty: bool = False
    mode: str = "live"
    """``live`` or ``sim``: what the panel says it trades."""
    watch: WatchPlan | None = None


class Session:
    """One trading session: feeds, clock, backfills and the kill file produce inputs; the engine
    task records each, runs it through the core, journals what it produced, and commits.

    ``run()`` returns the exit code when the deadline passes or a stop is requested.
    """

    def __init__(self, plan: SessionPlan, core: Core, durable: Durable) -> None:
        self.plan = plan
        self.config = plan.config
        self.core = core
        self.durable = durable
        self.clock_ms = plan.clock_ms
        self.stop_reason: str | None = None
        self.end_reason: str | None = None
        self.exit = Exit.OK
        self._producers: trio.CancelScope | None = None
        self._send: trio.MemorySendChannel[Item] | None = None
        self._backfill_send: trio.MemorySendChannel[tuple[str, int, int]] | None = None
        self._seq = core.state.last_seq
        self._last_checkpoint = -math.inf
        self._fills_unsaved = False
        f = self.config.feed
        v = self.config.venue
        venue = core.venue
        sockets = venue.sockets(plan.ws_url, v.symbol, v.interval)
        self.feeds = [
            Feed(
                FeedSettings(
                    venue, socket, v.symbol, f.ping_interval_s, f.pong_timeout_s,
                    f.stale_after_s, f.connect_timeout_s, f.backoff_initial_s, f.backoff_max_s,
                    f.healthy_after_s, f.max_message_bytes,
                ),
                self._emitter(socket.carries if len(sockets) > 1 else ""), self.clock_ms,
                plan.connect(socket) if plan.connect else None,
            )
            for socket in sockets
        ]  # fmt: skip
        self.feed = self.feeds[0]
        self.rest = RestKlines(venue, plan.rest_url, v.symbol, v.interval, f.connect_timeout_s)
        self.status = StatusBoard(core, self.feed_status, plan.status_tty, plan.mode)
        self.watchers = None if plan.watch is None else Watchers(
            self.config,
            WatchSources(
                self.feed_status, self.status.snapshot, core.feed_health,
                lambda: trio.current_time() - self._last_checkpoint, self.clock_ms,
            ),
            plan.watch,
        )  # fmt: skip

    # --- the task tree -------------------------------------------------------------------------

    async def run(self) -> Exit:
        """Run until the deadline or a stop; return the exit code."""
        deadline = trio.current_time() + self.plan.minutes * 60
        self.status.deadline = deadline
        send, receive = trio.open_memory_channel[Item](self.config.feed.queue_size)
        self._send = send
        engine_done = trio.Event()
        async with trio.open_nursery() as root:
            root.start_soon(self._engine, receive, engine_done)
            if self.watchers is not None:
                await root.start(self.watchers.run)
            async with send:
                await self._produce(deadline)
                reason = self.stop_reason or "deadline"
                with (
                    trio.CancelScope(shield=True),
                    trio.move_on_after(self.config.session.stop_grace_s),
                ):
                    await send.send(StopRequested(0, self.clock_ms(), reason))
            with trio.move_on_after(self.config.session.stop_grace_s) as grace:
                await engine_done.wait()
            if grace.cancelled_caught:
                log.error(
                    "the engine did not finish within %s s of the stop",
                    self.config.session.stop_grace_s,
                )
            root.cancel_scope.cancel()
        return self.exit

    async def _produce(self, deadline: float) -> None:
        backfill_send, backfill_receive = trio.open_memory_channel[tuple[str, int, int]](64)
        self._backfill_send = backfill_send
        with trio.CancelScope(deadline=deadline) as scope:
            self._producers = scope
            async with (
                httpx.AsyncClient(transport=self.plan.http) as client,
                trio.open_nursery() as producers,
            ):
                producers.start_soon(self.status.run, self.config.session.status_interval_s)
                await self._emit(
                    SessionStart(0, self.clock_ms(), self.plan.run_id, self.plan.resume)
                )
                await self._warmup(client)
                producers.start_soon(self._ticks)
                producers.start_soon(self._kill_file)
                producers.start_soon(self._backfills, backfill_receive, client)
                for feed in self.feeds:
                    producers.start_soon(feed.run)

    def feed_status(self) -> FeedStatus:
        """All sockets as one: connected only while every one is."""
        if len(self.feeds) == 1:
            return self.feed.status
        statuses = [feed.status for feed in self.feeds]
        seen = [s.last_frame for s in statuses if s.last_frame is not None]
        errors = [s.last_error for s in statuses if s.last_error]
        # connects as if one socket: the first of each is not a reconnect (the panel's count)
        reconnects = sum(max(0, s.connects - 1) for s in statuses)
        connects = reconnects + 1 if any(s.connects for s in statuses) else 0
        return FeedStatus(
            all(s.connected for s in statuses), connects,
            sum(s.frames for s in statuses), max(seen) if seen else None,
            errors[-1] if errors else None,
        )  # fmt: skip

    def request_stop(self, reason: str, code: Exit = Exit.OK) -> None:
        """Stop producing inputs, close the session cleanly; ``run`` returns ``code``."""
        if self.stop_reason is None:
            self.stop_reason = reason
            self.exit = code
            log.info("stopping: %s", reason)
        if self._producers is not None:
            self._producers.cancel()

    async def _emit(self, item: Item) -> None:
        assert self._send is not None
        await self._send.send(item)

    def _emitter(self, socket: str) -> Callable[[Item], Awaitable[None]]:
        """A feed's emit: where a venue has several sockets, its events name their socket."""
        if not socket:
            return self._emit

        async def emit(item: Item) -> None:
            if isinstance(item, FeedConnected | FeedDisconnected | FeedStale | Subscribed):
                item = attrs.evolve(item, socket=socket)
            await self._emit(item)

        return emit

    # --- producers -----------------------------------------------------------------------------

    async def _ticks(self) -> None:
        interval = self.config.feed.tick_interval_s
        while True:
            await trio.sleep(interval)
            await self._emit(Tick(0, self.clock_ms()))

    async def _kill_file(self) -> None:
        path = self.plan.state_dir / "KILL"
        while True:  # a poll: inotify is not portable, and once a second is plenty
            if await trio.Path(path).exists():
                break
            await trio.sleep(1)
        log.warning("kill switch: %s exists", path)
        await self._emit(KillSwitch(0, self.clock_ms(), f"file {path.name} in state/"))

    async def kill(self, source: str) -> None:
        """Throw the kill switch: cancel, flatten, stop (journaled like the kill file)."""
        await self._emit(KillSwitch(0, self.clock_ms(), source))

    async def _warmup(self, client: httpx.AsyncClient) -> None:
        interval = self.rest.interval_ms
        end = self.clock_ms() // interval * interval
        start = end - self.plan.warmup_bars * interval
        if self.plan.warmup_bars:
            with trio.move_on_after(self.config.feed.connect_timeout_s + 5):
                await self._fetch("warmup", start, end, client)

    async def _backfills(
        self, requests: trio.MemoryReceiveChannel[tuple[str, int, int]], client: httpx.AsyncClient
    ) -> None:
        async for reason, start, end in requests:
            await self._fetch(reason, start, end, client)

    async def _fetch(self, reason: str, start: int, end: int, client: httpx.AsyncClient) -> None:
        retries = 0 if reason == "warmup" else GAP_RETRIES  # the warm-up is bounded by the start
        for page in await self.rest.pages(start, end, client, retries):
            if page.error and reason == "warmup":
                log.error(
                    "cannot fetch the warm-up bars from %s (%s). No network, or the exchange "
                    "blocked from here? `trio-paper run --sim` runs the same session offline. "
                    "Going on: the strategy warms up on live bars.",
                    self.plan.rest_url, page.error,
                )  # fmt: skip
            elif page.error:
                log.warning("backfill %s [%s, %s): %s", reason, page.start, page.end, page.error)
            await self._emit(
                Backfill(0, self.clock_ms(), reason, page.start, page.end, page.body, page.error)
            )

    # --- the engine task -----------------------------------------------------------------------

    async def _engine(self, receive: trio.MemoryReceiveChannel[Item], done: trio.Event) -> None:
        """Take inputs while the writer task commits them; on the stop, the last commit and
        checkpoint — shielded, in this task. A failed commit cancels the loop (no retry)."""
        try:
            async with trio.open_nursery() as writer:
                await writer.start(self.durable.run, self._checkpoint_due)
                await self._take_inputs(receive)
                with trio.CancelScope(shield=True):
                    await self.durable.finish(self._checkpoint_now)
                writer.cancel_scope.cancel()
        finally:
            done.set()

    async def _take_inputs(self, receive: trio.MemoryReceiveChannel[Item]) -> None:
        """Handle inputs until the channel closes. A group commit is requested
        ``commit_interval_ms`` after the first input it will cover and runs beside this loop;
        an input that asks for ``durable`` (a fill, an exit, the start) waits for its commit
        before the next input is taken."""
        commit_every = self.config.session.commit_interval_ms / 1000
        due = math.inf
        async with receive:
            while True:
                with trio.move_on_at(due) as timer:
                    try:
                        item = await receive.receive()
                    except trio.EndOfChannel:
                        return
                if timer.cancelled_caught:
                    self.durable.request()
                    due = math.inf
                elif self._handle(item):
                    await self.durable.commit()
                    due = math.inf
                elif due == math.inf:
                    due = trio.current_time() + commit_every

    def _handle(self, item: Item) -> bool:
        """Number, record and run one input; True when it must be made durable right away."""
        self._seq += 1
        item = attrs.evolve(item, seq=self._seq)
        self.durable.recorder.write(item)
        outcome = self.core.on_item(item)
        self.durable.journal.append(outcome.records)
        for notice in self.core.notices:
            log.warning("%s", notice)
        self.core.notices.clear()
        if outcome.records:
            self._follow(outcome)
            if self.watchers is not None:
                self.watchers.on_records(outcome.records)
        return outcome.durable

    def _follow(self, outcome: Outcome) -> None:
        """Log, fetch, stop: what the shell does about an input's records."""
        for record in outcome.records:
            kind = record["type"]
            if kind in _LOGGED:
                log.info("%s %s", kind, _brief(record))
        if outcome.filled:
            self._fills_unsaved = True
        for start, end in outcome.backfills:
            self._request_backfill(start, end)
        if outcome.ended is not None:
            self.end_reason = outcome.ended
        if outcome.kill is not None:
            self.request_stop(f"kill switch ({outcome.kill})", Exit.KILLED)
        self.status.on_records(outcome.records)

    def _request_backfill(self, start: int, end: int) -> None:
        if self._backfill_send is None:
            return
        try:
            self._backfill_send.send_nowait(("gap", start, end))
        except (trio.WouldBlock, trio.ClosedResourceError, trio.BrokenResourceError):
            log.warning("backfill queue full or closed: gap [%d, %d) not fetched", start, end)

    def _checkpoint_due(self) -> Checkpoint | None:
        """Asked by the writer as it takes each batch (the core's state is exactly the inputs
        in it): a checkpoint after a fill, and every ``checkpoint_interval_s``."""
        every = self.config.session.checkpoint_interval_s
        if self._fills_unsaved or trio.current_time() - self._last_checkpoint >= every:
            return self._checkpoint_now()
        return None

    def _checkpoint_now(self) -> Checkpoint:
        checkpoint = checkpoint_of(self.plan.run_id, self.core)
        self._fills_unsaved = False
        self._last_checkpoint = trio.current_time()
        return checkpoint


_LOGGED = MONEY_MOVES | {
    RecordType.RISK,
    RecordType.REJECT,
    RecordType.FUNDING,
    RecordType.STRATEGY,
    RecordType.FEED,
}


_MONEY = frozenset({
    "amount", "cash", "equity", "fee", "fees", "funding", "net", "pnl", "realized", "gross",
})  # fmt: skip
_TIMES = frozenset({"opened", "start", "end", "until", "settled", "time"})
CENT = Decimal("0.01")


def _brief(record: dict[str, Any]) -> str:
    """A record as a log line people read: times as UTC ISO, money to the cent (the journal
    keeps every digit)."""
    return " ".join(
        f"{key}={_readable(key, value)}"
        for key, value in record.items()
        if key not in ("seq", "ts", "type")
    )


def _readable(key: str, value: Any) -> Any:
    if key in _MONEY and isinstance(value, Decimal):
        return value.quantize(CENT, ROUND_HALF_EVEN)
    if key in _TIMES and type(value) is int:
        return ms_to_iso(value)
    return value
