"""A trio-websocket client for tests against the simulator over real loopback."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from urllib.parse import urlsplit

import trio
from trio_websocket import ConnectionRejected, WebSocketConnection, wrap_client_stream


@asynccontextmanager
async def websocket(url: str) -> AsyncIterator[WebSocketConnection]:
    """A trio-websocket client on a TCP stream we own: trio-websocket 0.12 leaves its socket
    open when the server closes first (cleanly or not), so it is closed here."""
    parts = urlsplit(url)
    assert parts.hostname is not None
    assert parts.port is not None
    stream = await trio.open_tcp_stream(parts.hostname, parts.port)
    try:
        async with trio.open_nursery() as nursery:
            resource = parts.path + (f"?{parts.query}" if parts.query else "")
            ws = await wrap_client_stream(
                nursery, stream, parts.hostname, resource, message_queue_size=10_000
            )
            try:
                yield ws
            finally:
                with trio.move_on_after(1, shield=True):
                    await ws.aclose()
                nursery.cancel_scope.cancel()
    finally:
        await trio.aclose_forcefully(stream)


async def handshake_status(url: str) -> int:
    """The HTTP status the WebSocket handshake got: 101 when accepted."""
    status = 101
    try:
        async with websocket(url):
            pass
    except* ConnectionRejected as group:
        rejected = group.exceptions[0]
        assert isinstance(rejected, ConnectionRejected)
        status = rejected.status_code
    return status
