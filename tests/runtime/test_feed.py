"""Feed timing — watchdog, heartbeat, backoff — under a mock clock, over in-memory streams.

Each test scripts a small Bitunix-like server on the other end of ``memory_stream_pair`` (real
trio-websocket on both sides, real frames), runs the real ``Feed`` against it, and checks *when*
things happen in virtual time.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Awaitable, Callable

import attrs
import orjson
import pytest
import trio
import trio.testing
from trio_websocket import (
    ConnectionClosed,
    WebSocketConnection,
    wrap_client_stream,
    wrap_server_stream,
)

from trio_paper.inputs import FeedConnected, FeedDisconnected, FeedStale, Frame, Item, Subscribed
from trio_paper.runtime.backoff import Backoff
from trio_paper.runtime.feed import Connector, Feed, FeedSettings
from trio_paper.venues import Socket
from trio_paper.venues.bitunix import VENUE as BITUNIX

KLINE = (
    '{"ch":"market_kline_1min","symbol":"BTCUSDT","ts":%d,'
    '"data":{"o":"1","c":"1","h":"1","l":"1","b":"1","q":"1"}}'
)
Script = Callable[[WebSocketConnection, "Server"], Awaitable[None]]


@attrs.define
class Server:
    """The server side: counts what it saw from the client."""

    script: Script
    connections: int = 0
    pings: list[float] = attrs.Factory(list)
    messages: list[tuple[float, str]] = attrs.Factory(list)

    async def serve(self, stream: trio.abc.Stream) -> None:
        async with trio.open_nursery() as nursery:
            request = await wrap_server_stream(nursery, stream)
            ws = await request.accept()
            self.connections += 1
            await ws.send_message('{"op":"connect","data":{"result":true}}')
            try:
                await self.script(ws, self)
            except* ConnectionClosed:
                pass  # the client hung up: the script is over
            nursery.cancel_scope.cancel()

    async def receive(self, ws: WebSocketConnection) -> dict[str, object]:
        text = await ws.get_message()
        self.messages.append((trio.current_time(), str(text)))
        message: dict[str, object] = orjson.loads(text)
        if message.get("op") == "ping":
            self.pings.append(trio.current_time())
        return message


def connector(server: Server, server_nursery: trio.Nursery) -> Connector:
    async def connect(nursery: trio.Nursery) -> tuple[WebSocketConnection, trio.abc.Stream]:
        client, far = trio.testing.memory_stream_pair()
        server_nursery.start_soon(server.serve, far)
        # trio-websocket annotates SocketStream but wraps any trio Stream, as its tests do
        ws = await wrap_client_stream(nursery, client, "localhost", "/public/")  # type: ignore[arg-type]
        return ws, client

    return connect


SETTINGS = FeedSettings(
    venue=BITUNIX, socket=Socket("ws://test/public/", "bars", ("market_kline_1min",)),
    symbol="BTCUSDT",
    ping_interval=15.0, pong_timeout=5.0, stale_after=10.0, connect_timeout=10.0,
    backoff_initial=0.5, backoff_max=30.0, healthy_after=60.0,
)  # fmt: skip


async def run_feed(
    server: Server, seconds: float, settings: FeedSettings = SETTINGS, seed: int = 1
) -> list[tuple[float, Item]]:
    """Run a feed against ``server`` for ``seconds`` of virtual time; return what it emitted."""
    events: list[tuple[float, Item]] = []

    async def emit(item: Item) -> None:
        events.append((trio.current_time(), item))

    def clock_ms() -> int:
        return int(trio.current_time() * 1000)

    async with trio.open_nursery() as nursery:
        feed = Feed(settings, emit, clock_ms, connector(server, nursery), random.Random(seed))
        with trio.move_on_after(seconds):
            await feed.run()
        nursery.cancel_scope.cancel()
    return events


def of(events: list[tuple[float, Item]], kind: type) -> list[tuple[float, Item]]:
    return [(t, e) for t, e in events if isinstance(e, kind)]


async def answer_pings(ws: WebSocketConnection, server: Server, push_every: float | None) -> None:
    """Answer every JSON ping; push a kline frame every ``push_every`` seconds if given."""
    async with trio.open_nursery() as nursery:
        if push_every is not None:

            async def push() -> None:
                while True:
                    await ws.send_message(KLINE % int(trio.current_time() * 1000))
                    await trio.sleep(push_every)

            nursery.start_soon(push)
        while True:
            message = await server.receive(ws)
            if message.get("op") == "ping":
                await ws.send_message(
                    orjson.dumps({"op": "ping", "pong": message["ping"], "ping": 0}).decode()
                )


async def test_silent_server_is_stale_after_the_threshold_and_redialled(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Subscribed, then nothing: stale exactly ``stale_after`` later, then a reconnect."""

    async def silent(ws: WebSocketConnection, server: Server) -> None:
        while True:
            await server.receive(ws)

    with trio.fail_after(600):
        server = Server(silent)
        start = trio.current_time()
        events = await run_feed(server, 60)
    stale = of(events, FeedStale)
    connected = of(events, FeedConnected)
    assert stale, "the watchdog never fired"
    first_stale_at, first_stale = stale[0]
    assert first_stale_at - start == pytest.approx(SETTINGS.stale_after, abs=0.01)
    assert isinstance(first_stale, FeedStale)
    assert first_stale.silent_ms == pytest.approx(10_000, abs=10)
    # the redial comes within the first backoff ceiling (0.5 s) of the stale
    assert connected[1][0] - first_stale_at <= SETTINGS.backoff_initial + 0.01
    assert server.connections >= 2
    assert of(events, Subscribed), "no subscribe after connecting"


async def test_market_frames_keep_the_watchdog_quiet(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A push every 0.5 s and answered pings: one connection for ten virtual minutes."""

    async def healthy(ws: WebSocketConnection, server: Server) -> None:
        await answer_pings(ws, server, push_every=0.5)

    with trio.fail_after(700):
        server = Server(healthy)
        events = await run_feed(server, 600)
    assert server.connections == 1
    assert not of(events, FeedStale)
    assert not of(events, FeedDisconnected)
    # a ping every 15 s: 600 / 15 = 40 pings, the first at 15 s (give or take the subscribe gap)
    assert len(server.pings) == 39 or len(server.pings) == 40
    gaps = [b - a for a, b in zip(server.pings, server.pings[1:], strict=False)]
    assert all(gap == pytest.approx(15.0, abs=0.05) for gap in gaps)
    assert len(of(events, Frame)) > 1000


async def test_unanswered_ping_drops_the_connection(autojump_clock: trio.testing.MockClock) -> None:
    """Nothing comes back after a ping (the watchdog set longer than the ping): dropped
    ``pong_timeout`` after the first ping. (While frames flow, any frame is a sign of life:
    ``test_feed_faults.py``.)"""

    async def deaf(ws: WebSocketConnection, server: Server) -> None:
        while True:
            await server.receive(ws)

    with trio.fail_after(600):
        server = Server(deaf)
        start = trio.current_time()
        events = await run_feed(server, 25, attrs.evolve(SETTINGS, stale_after=60.0))
    down = of(events, FeedDisconnected)
    assert down, "an unanswered ping went unnoticed"
    at, event = down[0]
    assert isinstance(event, FeedDisconnected)
    assert "no pong" in event.reason
    assert at - start == pytest.approx(SETTINGS.ping_interval + SETTINGS.pong_timeout, abs=0.3)
    assert not of(events, FeedStale)


async def test_refused_connections_back_off_with_a_cap(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Every dial fails: attempts spread out by full-jitter backoff, capped at ``backoff_max``."""
    attempts: list[float] = []

    async def refuse(nursery: trio.Nursery) -> tuple[WebSocketConnection, trio.abc.Stream]:
        attempts.append(trio.current_time())
        raise OSError("connection refused")

    events: list[tuple[float, Item]] = []

    async def emit(item: Item) -> None:
        events.append((trio.current_time(), item))

    with trio.fail_after(3600):
        feed = Feed(
            SETTINGS, emit, lambda: int(trio.current_time() * 1000), refuse, random.Random(7)
        )
        with trio.move_on_after(600):
            await feed.run()
    gaps = [b - a for a, b in itertools.pairwise(attempts)]
    ceilings = [min(30.0, 0.5 * 2**n) for n in range(len(gaps))]
    assert all(0 <= gap <= ceiling + 1e-6 for gap, ceiling in zip(gaps, ceilings, strict=True))
    assert max(gaps) <= 30.0
    assert sum(gaps[-5:]) > 5 * 5, "late delays should be large: the backoff grows"
    down = of(events, FeedDisconnected)
    assert len(down) == len(attempts)
    assert "connection refused" in down[0][1].reason  # type: ignore[union-attr]


def test_backoff_resets_only_after_a_healthy_connection() -> None:
    backoff = Backoff(initial=1.0, cap=8.0, healthy_after=60.0, rng=random.Random(3))
    for _ in range(5):
        backoff.next_delay()
    assert backoff.attempt == 5
    backoff.connection_ended(lasted=59.0)
    assert backoff.attempt == 5
    backoff.connection_ended(lasted=60.0)
    assert backoff.attempt == 0
    # full jitter: never above the ceiling, and not stuck at it
    delays = [
        Backoff(1.0, 8.0, 60.0, random.Random(seed), attempt=10).next_delay() for seed in range(200)
    ]
    assert max(delays) <= 8.0
    assert min(delays) < 1.0


async def test_client_messages_stay_under_the_rate_limit(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """Subscribe and pings from one connection never come closer than 1/4 s apart."""

    async def healthy(ws: WebSocketConnection, server: Server) -> None:
        await answer_pings(ws, server, push_every=0.5)

    fast = attrs.evolve(SETTINGS, ping_interval=0.21)
    with trio.fail_after(600):
        server = Server(healthy)
        await run_feed(server, 10, fast)
    times = [t for t, _ in server.messages]
    assert len(times) > 10
    assert min(b - a for a, b in itertools.pairwise(times)) >= 0.25 - 1e-9
