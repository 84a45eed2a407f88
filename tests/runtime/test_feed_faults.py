"""The feed under hostile servers: one record per close whatever ended it, which side closed
it, and no false "no pong" under a flood (issue 11, items 6, 11 and 17).

Scripted servers on ``memory_stream_pair`` under ``MockClock`` (see ``test_feed.py``)."""

from __future__ import annotations

import itertools
import random

import attrs
import pytest
import trio
import trio.testing
from trio_websocket import WebSocketConnection, wrap_client_stream

from tests.runtime.test_feed import KLINE, SETTINGS, Script, Server, answer_pings, of
from trio_paper.inputs import FeedConnected, FeedDisconnected, FeedStale, Frame, Item
from trio_paper.runtime.feed import Connector, Feed, FeedSettings


def connector(server: Server, server_nursery: trio.Nursery, max_bytes: int) -> Connector:
    """``test_feed.connector`` with the feed's ``max_message_bytes``, as the real one has."""

    async def connect(nursery: trio.Nursery) -> tuple[WebSocketConnection, trio.abc.Stream]:
        client, far = trio.testing.memory_stream_pair()
        server_nursery.start_soon(server.serve, far)
        # trio-websocket annotates SocketStream but wraps any trio Stream, as its tests do
        wrap = wrap_client_stream
        ws = await wrap(nursery, client, "localhost", "/public/", max_message_size=max_bytes)  # type: ignore[arg-type]
        return ws, client

    return connect


async def run_feed(
    server: Server, seconds: float, settings: FeedSettings, emit_delay: float = 0.0
) -> list[tuple[float, Item]]:
    """Like ``test_feed.run_feed``; ``emit_delay`` is a slow engine behind the feed."""
    events: list[tuple[float, Item]] = []

    async def emit(item: Item) -> None:
        events.append((trio.current_time(), item))
        if emit_delay and isinstance(item, Frame):
            await trio.sleep(emit_delay)

    def clock_ms() -> int:
        return int(trio.current_time() * 1000)

    async with trio.open_nursery() as nursery:
        feed = Feed(
            settings,
            emit,
            clock_ms,
            connector(server, nursery, settings.max_message_bytes),
            random.Random(1),
        )
        with trio.move_on_after(seconds):
            await feed.run()
        nursery.cancel_scope.cancel()
    return events


async def closes(ws: WebSocketConnection, server: Server) -> None:
    await ws.send_message(KLINE % int(trio.current_time() * 1000))
    await trio.sleep(1)
    await ws.aclose(code=4000, reason="maintenance")


async def silent(ws: WebSocketConnection, server: Server) -> None:
    while True:
        await server.receive(ws)


async def too_big(ws: WebSocketConnection, server: Server) -> None:
    await trio.sleep(1)
    await ws.send_message("x" * 4096)
    await silent(ws, server)


FAULTS: dict[str, tuple[Script, FeedSettings, str]] = {
    "closed by the server": (closes, SETTINGS, "closed by the server (code 4000: maintenance)"),
    "stale": (silent, SETTINGS, ""),
    "no pong": (silent, attrs.evolve(SETTINGS, stale_after=60.0), "no pong within 5 s"),
    "too big": (too_big, attrs.evolve(SETTINGS, max_message_bytes=1024), "closed by us"),
}


@pytest.mark.parametrize("fault", list(FAULTS))
async def test_every_close_is_journaled_once(
    fault: str, autojump_clock: trio.testing.MockClock
) -> None:
    """Before: the ``return`` after ``aclose_forcefully`` was skipped by the cancellation, and
    every close became two records (a stale one a ``stale`` and a ``disconnected``)."""
    script, settings, reason = FAULTS[fault]
    with trio.fail_after(600):
        events = await run_feed(Server(script), 100, settings)
    connects = len(of(events, FeedConnected))
    ends = of(events, FeedDisconnected) + of(events, FeedStale)
    assert connects >= 3
    assert connects - 1 <= len(ends) <= connects  # the last may still be up at the deadline
    order = [type(e).__name__ for _, e in events if not isinstance(e, Frame)]
    for before, after in itertools.pairwise(order):
        assert not (before in ("FeedDisconnected", "FeedStale") and after == "FeedDisconnected")
    if reason:
        assert all(isinstance(e, FeedDisconnected) for _, e in ends)
        assert all(reason in e.reason for _, e in ends if isinstance(e, FeedDisconnected))
    else:
        assert all(isinstance(e, FeedStale) for _, e in ends)


async def test_a_flood_behind_a_slow_engine_is_no_false_no_pong(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """12,000 frames at once, an engine taking 2 ms each: the pong to the 15 s ping waits
    behind ~7,500 of them and arrives at ~24 s, past the 5 s timeout. Frames flowing are a
    sign of life: the connection stays up. (Before: dropped for "no pong" at 20 s.)"""

    async def flood(ws: WebSocketConnection, server: Server) -> None:
        for _ in range(12_000):
            await ws.send_message(KLINE % int(trio.current_time() * 1000))
        await answer_pings(ws, server, push_every=None)

    settings = attrs.evolve(SETTINGS, stale_after=60.0)
    with trio.fail_after(600):
        server = Server(flood)
        events = await run_feed(server, 30, settings, emit_delay=0.002)
    assert server.connections == 1
    assert of(events, FeedDisconnected) == []
    assert len(of(events, Frame)) > 12_000  # the whole flood, and the pongs after it
