"""The market-data feed: connect, subscribe, pump, keep alive, notice silence, reconnect.

One connection at a time, each in its own nursery with three tasks:

- the **pump** reads every message (trio-websocket's own queue is tiny, so nothing else may
  block its reader) and hands each, stamped with its receive time, to the session;
- the **heartbeat** sends the venue's keepalive (Bitunix: a JSON ping) every ``ping_interval``
  and waits ``pong_timeout`` for the pong — or any frame, or a pump busy handing frames to the
  engine (under a flood the pong waits behind the backlog); where the server pings instead
  (Binance), trio-websocket answers and there is no heartbeat;
- the **watchdog** is a cancel scope around the connection whose deadline every market frame
  pushes forward: if no market frame arrives for ``stale_after``, it expires and the connection
  is dropped.

Whatever ends a connection, the session hears about it (``FeedDisconnected`` or ``FeedStale``)
and the feed redials after a capped, jittered backoff. Every frame and every one of these events
goes to the session's input channel, which records it before the engine sees it.

The feed never parses a frame itself: the venue's sans-IO ``Client`` does, once, and says
whether it was market data for our symbol (the watchdog's business) or our pong; the parsed
result travels on with the raw text, so the core does not parse it again.
"""

from __future__ import annotations

import logging
import random
import ssl
import urllib.parse
from collections.abc import Awaitable, Callable
from typing import Any

import attrs
import trio
from trio_websocket import (
    ConnectionClosed,
    ConnectionRejected,
    HandshakeError,
    WebSocketConnection,
    wrap_client_stream,
)

from ..inputs import FeedConnected, FeedDisconnected, FeedStale, Frame, Item, Subscribed
from ..venues import Client, Socket, Venue
from .backoff import Backoff

log = logging.getLogger("trio_paper.feed")

Connector = Callable[[trio.Nursery], Awaitable[tuple[WebSocketConnection, trio.abc.Stream]]]
"""Dial: a WebSocket running in the nursery, and the stream under it, which the feed closes."""
Emit = Callable[[Item], Awaitable[None]]
CLOSE_TIMEOUT = 2.0


class PongTimeout(Exception):
    pass


@attrs.frozen
class FeedSettings:
    """One socket of one venue, and the timings of ``config.feed``."""

    venue: Venue
    socket: Socket
    symbol: str
    ping_interval: float = 15.0
    pong_timeout: float = 5.0
    stale_after: float = 10.0
    connect_timeout: float = 10.0
    backoff_initial: float = 0.5
    backoff_max: float = 30.0
    healthy_after: float = 60.0
    max_message_bytes: int = 4 * 1024 * 1024


@attrs.define
class FeedStatus:
    """What the status panel shows about the feed."""

    connected: bool = False
    connects: int = 0
    frames: int = 0
    last_frame: float | None = None  # trio time
    last_error: str | None = None


def websocket_connector(settings: FeedSettings) -> Connector:
    """Open a real WebSocket to ``settings.url``, on a TCP (or TLS) stream of our own.

    Owning the stream lets the feed close it: trio-websocket 0.12 leaves the socket open when
    the server closes first.
    """
    host, port, resource, tls = websocket_address(settings.socket.url)

    async def connect(nursery: trio.Nursery) -> tuple[WebSocketConnection, trio.abc.Stream]:
        stream: trio.SocketStream | trio.SSLStream[trio.SocketStream]
        if tls:
            stream = await trio.open_ssl_over_tcp_stream(
                host, port, ssl_context=ssl.create_default_context(), https_compatible=True
            )
        else:
            stream = await trio.open_tcp_stream(host, port)
        try:
            ws = await wrap_client_stream(
                nursery, stream, host if port in (80, 443) else f"{host}:{port}", resource,
                message_queue_size=16, max_message_size=settings.max_message_bytes,
            )  # fmt: skip
        except BaseException:
            await trio.aclose_forcefully(stream)
            raise
        return ws, stream

    return connect


def websocket_address(url: str) -> tuple[str, int, str, bool]:
    """``wss://host:port/path?q`` → host, port, resource, TLS; anything else is a ValueError."""
    parts = urllib.parse.urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.hostname:
        raise ValueError(f"not a WebSocket URL (ws:// or wss://): {url}")
    tls = parts.scheme == "wss"
    resource = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return parts.hostname, parts.port or (443 if tls else 80), resource, tls


class Feed:
    """One socket's life: dial, subscribe, pump, keep alive, notice silence, redial; forever.

    Everything it sees or does becomes an input item sent through ``emit``: frames with their
    receive time, and connected / subscribed / stale / disconnected events.
    """

    def __init__(
        self,
        settings: FeedSettings,
        emit: Emit,
        clock_ms: Callable[[], int],
        connector: Connector | None = None,
        rng: random.Random | None = None,
    ) -> None:
        self.settings = settings
        self.emit = emit
        self.clock_ms = clock_ms
        self.connector = connector or websocket_connector(settings)
        self.backoff = Backoff(
            settings.backoff_initial, settings.backoff_max, settings.healthy_after,
            rng or random.Random(),
        )  # fmt: skip
        self.status = FeedStatus()
        self._watchdog: trio.CancelScope | None = None
        self._pong = trio.Event()
        self._client: Client | None = None
        self._send_gap = 1 / max(1.0, settings.venue.max_client_messages_per_s - 1)
        """Spacing between our own messages: safely under the venue's limit."""
        self._last_send = -1e9
        self._last_market_ms = 0
        self._heard = -1e9
        """When the pump last read a frame (trio time)."""
        self._emitting = False

    async def run(self) -> None:
        """Connect and reconnect until cancelled."""
        s = self.settings
        while True:
            started = trio.current_time()
            reason = await self._connect_once()
            lasted = trio.current_time() - started
            self.status.connected = False
            self.status.last_error = reason
            self.backoff.connection_ended(lasted)
            first_failure = self.status.connects == 0 and self.backoff.attempt == 0
            delay = self.backoff.next_delay()
            if first_failure:  # one line per failure: this one says what to do about it
                log.error(
                    "cannot reach %s (%s). No network, or the exchange blocked from here? "
                    "`trio-paper run --sim` runs the same session offline. Retrying until the "
                    "deadline; next attempt in %.1f s.", s.socket.url, reason, delay,
                )  # fmt: skip
            else:
                log.warning(
                    "feed down: %s; reconnecting in %.1f s (attempt %d)",
                    reason, delay, self.backoff.attempt,
                )  # fmt: skip
            await trio.sleep(delay)

    async def _connect_once(self) -> str:
        """One connection from dial to drop; returns why it ended (it never raises for that)."""
        s = self.settings
        failure: str | None = None
        reported = False  # _serve journaled how it ended: the close is not journaled twice
        try:
            async with trio.open_nursery() as nursery:
                try:
                    with trio.fail_after(s.connect_timeout):
                        ws, stream = await self.connector(nursery)
                except trio.TooSlowError:
                    failure = f"connect timed out after {s.connect_timeout:g} s"
                except (HandshakeError, OSError) as exc:
                    failure = f"cannot connect to {s.socket.url}: {_describe(exc)}"
                if failure is None:
                    try:
                        failure = await self._serve(ws)
                        reported = True
                    finally:
                        with trio.CancelScope(shield=True), trio.move_on_after(CLOSE_TIMEOUT):
                            await ws.aclose()  # needs the reader task: cancel the nursery after
                        nursery.cancel_scope.cancel()
                        await trio.aclose_forcefully(stream)
                    return failure
        except* (ConnectionClosed, HandshakeError, OSError) as group:
            failure = f"connection lost: {_describe(group.exceptions[0])}"
        assert failure is not None
        return failure if reported else await self._down(failure)

    async def _serve(self, ws: WebSocketConnection) -> str:
        """Subscribe and pump until something ends the connection; return what did."""
        s = self.settings
        self.status.connected = True
        self.status.connects += 1
        self._last_send = -1e9
        self._emitting = False
        self._last_market_ms = connected = self.clock_ms()
        self._client = client = s.venue.client(s.socket, s.symbol)
        await self.emit(FeedConnected(0, connected, s.socket.url))
        ending: str | None = None
        with trio.CancelScope(deadline=trio.current_time() + s.stale_after) as watchdog:
            self._watchdog = watchdog
            try:
                for text in client.opening():
                    await self._send(ws, text)
                await self.emit(Subscribed(0, self.clock_ms(), list(s.socket.channels)))
                async with trio.open_nursery() as tasks:
                    tasks.start_soon(self._heartbeat, ws)
                    await self._pump(ws)
            except* ConnectionClosed as group:
                ending = _closed(group.exceptions[0], s.max_message_bytes)
            except* PongTimeout:
                ending = f"no pong within {s.pong_timeout:g} s"
            finally:
                self._watchdog = None
        if watchdog.cancelled_caught:
            silent = self.clock_ms() - self._last_market_ms
            await self.emit(FeedStale(0, self.clock_ms(), silent))
            return f"stale: no market data for {silent / 1000:.1f} s"
        assert ending is not None
        return await self._down(ending)

    async def _pump(self, ws: WebSocketConnection) -> None:
        """Market data pushes the watchdog; a pong resolves the heartbeat; bad frames do neither."""
        stale_after = self.settings.stale_after
        assert self._client is not None
        receive = self._client.receive
        while True:
            raw = await ws.get_message()
            t = self.clock_ms()
            self.status.frames += 1
            self.status.last_frame = self._heard = trio.current_time()
            received = receive(raw)
            if received.market and self._watchdog is not None:
                self._watchdog.deadline = trio.current_time() + stale_after
                self._last_market_ms = t
            if received.pong:
                self._pong.set()
            self._emitting = True  # blocked here, the backlog is ours, not the server's
            await self.emit(Frame(0, t, raw, received.parsed or received.error))
            self._emitting = False

    async def _heartbeat(self, ws: WebSocketConnection) -> None:
        s = self.settings
        assert self._client is not None
        while True:
            await trio.sleep(s.ping_interval)
            ping = self._client.ping(self.clock_ms())
            if ping is None:
                return  # the server pings; the WebSocket layer answers
            self._pong = trio.Event()
            await self._send(ws, ping)
            sent = trio.current_time()
            with trio.move_on_after(s.pong_timeout):
                await self._pong.wait()
            # Any frame is a sign of life: under a flood the pong waits behind the backlog.
            if not (self._pong.is_set() or self._heard > sent or self._emitting):
                raise PongTimeout

    async def _send(self, ws: WebSocketConnection, text: str) -> None:
        wait = self._last_send + self._send_gap - trio.current_time()
        if wait > 0:
            await trio.sleep(wait)
        self._last_send = trio.current_time()
        await ws.send_message(text)

    async def _down(self, reason: str) -> str:
        await self.emit(FeedDisconnected(0, self.clock_ms(), reason))
        return reason


def _describe(exc: BaseException) -> str:
    if isinstance(exc, ConnectionRejected):
        body = exc.body.decode(errors="replace").strip() if exc.body else ""
        return f"the server refused the handshake: HTTP {exc.status_code} {body}".rstrip()
    cause = exc.__cause__ or exc.__context__
    text = str(exc) or type(exc).__name__
    if isinstance(exc, HandshakeError) and cause is not None:
        text = f"{type(cause).__name__}: {cause}"
    return text


def _closed(exc: BaseException, max_message_bytes: int) -> str:
    """Why a ``ConnectionClosed`` ended the connection, and which side closed it: 1009 is
    trio-websocket refusing a frame over ``max_message_bytes`` (we send none that big)."""
    reason: Any = getattr(exc, "reason", None)
    if getattr(reason, "code", None) == 1009:
        return f"closed by us: a frame over {max_message_bytes} bytes ({_close_reason(exc)})"
    return f"closed by the server ({_close_reason(exc)})"


def _close_reason(exc: BaseException) -> str:
    reason: Any = getattr(exc, "reason", None)
    code = getattr(reason, "code", None)
    text = getattr(reason, "reason", None)
    return f"code {code}" + (f": {text}" if text else "")
