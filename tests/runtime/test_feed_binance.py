"""A Binance feed under a mock clock, over in-memory streams: no JSON keepalive to send or wait
for (the server pings at the protocol level and trio-websocket answers), so the heartbeat must
neither spin nor drop a healthy connection; and a socket that sends nothing is stale."""

from __future__ import annotations

import random
from decimal import Decimal

import trio
import trio.testing
from trio_websocket import (
    ConnectionClosed,
    WebSocketConnection,
    wrap_client_stream,
    wrap_server_stream,
)

from trio_paper.inputs import FeedConnected, FeedDisconnected, FeedStale, Frame, Item
from trio_paper.model import Quote
from trio_paper.runtime.feed import Connector, Feed, FeedSettings
from trio_paper.venues import Socket
from trio_paper.venues.binance_usdm import VENUE as BINANCE_USDM
from trio_paper.venues.binance_usdm import server as frames

QUOTES, MARKET = BINANCE_USDM.sockets("ws://test", "BTCUSDT", "1min")[::-1]


def settings(socket: Socket) -> FeedSettings:
    return FeedSettings(
        venue=BINANCE_USDM, socket=socket, symbol="BTCUSDT",
        ping_interval=15.0, pong_timeout=5.0, stale_after=10.0, connect_timeout=10.0,
        backoff_initial=0.5, backoff_max=30.0, healthy_after=60.0,
    )  # fmt: skip


def quote(t: int) -> str:
    one = Decimal(1)
    return frames.book_ticker_frame(Quote("BTCUSDT", t, Decimal(100), one, Decimal(101), one), t)


async def run_feed(
    socket: Socket, push_every: float | None, seconds: float
) -> tuple[list[Item], list[str], int]:
    """A feed of ``socket`` against a server that pushes a quote every ``push_every`` s (never
    if None) and records what the client sends; the items, the client's messages, the dials."""
    items: list[Item] = []
    sent: list[str] = []
    dials = 0

    async def serve(stream: trio.abc.Stream) -> None:
        nonlocal dials
        async with trio.open_nursery() as nursery:
            ws = await (await wrap_server_stream(nursery, stream)).accept()
            dials += 1
            nursery.start_soon(listen, ws)
            try:
                while push_every is not None:
                    await ws.send_message(quote(int(trio.current_time() * 1000)))
                    await trio.sleep(push_every)
                await trio.sleep_forever()
            except ConnectionClosed:
                pass
            nursery.cancel_scope.cancel()

    async def listen(ws: WebSocketConnection) -> None:
        try:
            while True:
                sent.append(str(await ws.get_message()))
        except ConnectionClosed:
            pass

    async def emit(item: Item) -> None:
        items.append(item)

    async with trio.open_nursery() as servers:

        async def connect(nursery: trio.Nursery) -> tuple[WebSocketConnection, trio.abc.Stream]:
            client, far = trio.testing.memory_stream_pair()
            servers.start_soon(serve, far)
            ws = await wrap_client_stream(nursery, client, "test", "/public/stream")  # type: ignore[arg-type]
            return ws, client

        connector: Connector = connect
        feed = Feed(
            settings(socket), emit, lambda: int(trio.current_time() * 1000), connector,
            random.Random(1),
        )  # fmt: skip
        with trio.move_on_after(seconds):
            await feed.run()
        servers.cancel_scope.cancel()
    return items, sent, dials


async def test_a_healthy_binance_socket_is_never_pinged_nor_dropped(
    autojump_clock: trio.testing.MockClock,
) -> None:
    with trio.fail_after(600):
        items, sent, dials = await run_feed(QUOTES, push_every=1.0, seconds=300)
    assert sent == []  # no JSON ping, no subscribe: the streams are in the URL
    assert dials == 1
    assert not [i for i in items if isinstance(i, FeedDisconnected | FeedStale)]
    assert len([i for i in items if isinstance(i, Frame)]) >= 290
    (connected,) = [i for i in items if isinstance(i, FeedConnected)]
    assert connected.url == QUOTES.url


async def test_a_socket_that_sends_nothing_is_stale_and_redialled(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """What Binance's legacy unrouted URL does: accepts, then never sends."""
    with trio.fail_after(600):
        items, sent, dials = await run_feed(MARKET, push_every=None, seconds=35)
    stale = [i for i in items if isinstance(i, FeedStale)]
    assert len(stale) >= 2
    assert all(s.silent_ms == 10_000 for s in stale)
    assert dials in (len(stale), len(stale) + 1)  # the last dial may still be waiting
    assert sent == []
