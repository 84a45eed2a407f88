"""The server end of one WebSocket, on wsproto over any trio stream.

trio-websocket's server answers protocol pings itself and always closes politely; an exchange
simulator must see a client's first frame as it came, and must be able to vanish without a
close frame or reset the TCP connection. So the simulator speaks the wire protocol itself.
"""

from __future__ import annotations

import contextlib
import socket
import struct
from collections import deque
from collections.abc import Callable

import attrs
import trio
from wsproto import ConnectionType, WSConnection
from wsproto.connection import ConnectionState
from wsproto.events import (
    AcceptConnection,
    BytesMessage,
    CloseConnection,
    Event,
    Ping,
    Pong,
    RejectConnection,
    RejectData,
    Request,
    TextMessage,
)
from wsproto.utilities import LocalProtocolError, RemoteProtocolError

_RECEIVE_BYTES = 65_536


class WireClosed(Exception):
    """The client went away, broke the protocol, or the socket was closed under us."""


@attrs.frozen
class ProtocolPing:
    """A WebSocket-protocol ping from the client (not Bitunix's JSON ping)."""

    payload: bytes


@attrs.frozen
class ClientClose:
    """The client sent a close frame (already answered)."""

    code: int


ClientFrame = str | bytes | ProtocolPing | ClientClose


class ServerWebSocket:
    """One client connection: ``handshake``, then ``receive`` / ``send_*``, then one of
    ``close`` (a close frame), ``drop`` (no close frame) or ``reset`` (a TCP reset)."""

    def __init__(self, stream: trio.abc.Stream, max_message_bytes: int = 1 << 20) -> None:
        self._stream = stream
        self._ws = WSConnection(ConnectionType.SERVER)
        self._send_lock = trio.Lock()
        self._events: deque[Event] = deque()
        self._parts: list[str | bytes] = []
        self._max = max_message_bytes
        self.path = ""
        self.pongs = 0
        """Protocol pongs the client has sent (answers to ``ping``)."""

    async def handshake(self, accepts: Callable[[str], bool], refuse: bool) -> bool:
        """Read the upgrade request; accept it if ``accepts`` its target (path and query) and it
        is not ``refuse``d (then answer 503), else 404. True when the socket is open."""
        request = await self._next_event()
        if not isinstance(request, Request):
            raise WireClosed(f"expected an upgrade request, got {type(request).__name__}")
        self.path = request.target
        if not accepts(request.target):
            await self._reject(404, b"Not Found")
            return False
        if refuse:
            await self._reject(503, b"Service Unavailable")
            return False
        await self._send(AcceptConnection())
        return True

    async def receive(self) -> ClientFrame:
        """The next whole message, ping or close from the client; ``WireClosed`` at EOF."""
        while True:
            event = await self._next_event()
            if isinstance(event, TextMessage | BytesMessage):
                data = event.data
                self._parts.append(data if isinstance(data, str) else bytes(data))
                if sum(len(p) for p in self._parts) > self._max:
                    raise WireClosed("message too big")
                if event.message_finished:
                    parts, self._parts = self._parts, []
                    if isinstance(event, TextMessage):
                        return "".join(p for p in parts if isinstance(p, str))
                    return b"".join(p for p in parts if isinstance(p, bytes))
            elif isinstance(event, Ping):
                return ProtocolPing(bytes(event.payload))
            elif isinstance(event, Pong):
                self.pongs += 1
            elif isinstance(event, CloseConnection):
                # REMOTE_CLOSING: the client's close, to be answered; OPEN: wsproto's own close
                # for a frame that broke the protocol, to be sent.
                if self._ws.state in (ConnectionState.OPEN, ConnectionState.REMOTE_CLOSING):
                    await self._send(CloseConnection(event.code, event.reason))
                return ClientClose(event.code)

    async def send_text(self, text: str) -> None:
        await self._send(TextMessage(text))

    async def send_bytes(self, data: bytes) -> None:
        await self._send(BytesMessage(data))

    async def pong(self, payload: bytes) -> None:
        await self._send(Pong(payload))

    async def ping(self, payload: bytes) -> None:
        """A protocol ping, as Binance sends every few minutes; ``pongs`` counts the answers."""
        await self._send(Ping(payload))

    async def close(self, code: int, reason: str, wait: float = 1.0) -> None:
        """Send a close frame, give the client ``wait`` seconds to answer, then hang up."""
        try:
            if self._ws.state in (ConnectionState.OPEN, ConnectionState.REMOTE_CLOSING):
                await self._send(CloseConnection(code, reason))
            with trio.move_on_after(wait):
                while self._ws.state is not ConnectionState.CLOSED:
                    await self._next_event()
        except WireClosed:
            pass
        await trio.aclose_forcefully(self._stream)

    async def drop(self) -> None:
        """Hang up without a close frame (the client sees 1006)."""
        await trio.aclose_forcefully(self._stream)

    async def reset(self) -> None:
        """Hang up with a TCP reset where the stream is a socket, else as ``drop``."""
        if isinstance(self._stream, trio.SocketStream):
            linger = struct.pack("ii", 1, 0)
            with contextlib.suppress(OSError):  # already gone
                self._stream.socket.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        await trio.aclose_forcefully(self._stream)

    async def _reject(self, status: int, body: bytes) -> None:
        headers = [
            (b"content-type", b"text/plain"),
            (b"content-length", str(len(body)).encode()),
            (b"connection", b"close"),
        ]
        await self._send(RejectConnection(status_code=status, headers=headers, has_body=True))
        await self._send(RejectData(body))

    async def _send(self, event: Event) -> None:
        async with self._send_lock:
            try:
                data = self._ws.send(event)
                await self._stream.send_all(data)
            except (LocalProtocolError, trio.BrokenResourceError, trio.ClosedResourceError) as exc:
                raise WireClosed(str(exc) or type(exc).__name__) from None

    async def _next_event(self) -> Event:
        while not self._events:
            try:
                data = await self._stream.receive_some(_RECEIVE_BYTES)
            except (trio.BrokenResourceError, trio.ClosedResourceError) as exc:
                raise WireClosed(str(exc) or type(exc).__name__) from None
            if not data:
                raise WireClosed("the client hung up")
            try:
                self._ws.receive_data(bytes(data))
                self._events.extend(self._ws.events())
            except (LocalProtocolError, RemoteProtocolError) as exc:
                raise WireClosed(f"protocol error: {exc}") from None
        return self._events.popleft()
