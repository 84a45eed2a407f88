"""Binance keeps a socket alive with protocol pings (every 3 min; no pong in 10 min closes it),
and ``ws.Client.ping`` sends nothing: trio-websocket must answer by itself. It does, while the
connection's reader runs; it stops reading (and answering) once a message waits behind a full
queue, which is why the feed pumps every message into its own channel at once.

Real trio-websocket on both ends of ``memory_stream_pair``, under the autojump mock clock.
"""

from __future__ import annotations

import trio
import trio.testing
from trio_websocket import WebSocketConnection, wrap_client_stream, wrap_server_stream

from trio_paper.venues.binance_usdm.ws import Client

THREE_MINUTES = 180.0
TEN_MINUTES = 600.0


async def _pings_answered(pushes_between: int, app_reads: bool) -> list[bool]:
    """Server: three pings three minutes apart, ``pushes_between`` pushes before each. Client
    app: sends nothing, and reads messages only if ``app_reads``. Which pings got a pong?"""
    answered: list[bool] = []
    received: list[str] = []
    async with trio.open_nursery() as nursery:
        near, far = trio.testing.memory_stream_pair()

        async def server() -> None:
            request = await wrap_server_stream(nursery, far)
            ws = await request.accept()
            for n in range(3):
                for i in range(pushes_between):
                    await ws.send_message(f'{{"push":{n},"i":{i}}}')
                await trio.sleep(THREE_MINUTES)
                with trio.move_on_after(TEN_MINUTES) as waited:
                    await ws.ping(b"binance %d" % n)
                answered.append(not waited.cancelled_caught)
            nursery.cancel_scope.cancel()

        async def pump(ws: WebSocketConnection) -> None:
            while True:
                received.append(str(await ws.get_message()))

        nursery.start_soon(server)
        # trio-websocket annotates SocketStream but wraps any trio Stream, as its tests do
        ws = await wrap_client_stream(nursery, near, "localhost", "/market/stream")  # type: ignore[arg-type]
        assert Client("BTCUSDT").ping(0) is None  # nothing of ours goes on the wire
        if app_reads:
            nursery.start_soon(pump, ws)
    if app_reads:
        assert len(received) == 3 * pushes_between
    return answered


async def test_pings_are_answered_on_an_idle_socket(autojump_clock: trio.abc.Clock) -> None:
    with trio.fail_after(3600):
        assert await _pings_answered(pushes_between=0, app_reads=False) == [True, True, True]


async def test_pings_are_answered_between_pushes_the_app_reads(
    autojump_clock: trio.abc.Clock,
) -> None:
    with trio.fail_after(3600):
        assert await _pings_answered(pushes_between=50, app_reads=True) == [True, True, True]


async def test_pings_go_unanswered_once_unread_pushes_fill_the_queue(
    autojump_clock: trio.abc.Clock,
) -> None:
    """The trap, pinned: one push fits trio-websocket's queue, the second stops its reader."""
    with trio.fail_after(3 * (THREE_MINUTES + TEN_MINUTES) + 60):
        assert await _pings_answered(pushes_between=2, app_reads=False) == [False, False, False]
