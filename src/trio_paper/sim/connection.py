"""One client's socket on the simulated exchange: Bitunix's public protocol, and the faults.

Two tasks per socket. The reader answers the client (JSON ping, subscribe, unsubscribe) and
enforces the rules: an idle socket, a client over the message rate, or a protocol ping as the
first frame ends it. The player walks the shared timeline from the moment the socket opened and
sends each due push the client subscribed to (in its messages, or in its URL where the venue's
``Dialect`` names streams there), through whatever faults are in force. Where the rules say so,
a third task pings the client and drops it if it does not answer, and the socket is closed at
its maximum age (Binance's 24 h). ``binance_socket`` answers Binance's client messages.
"""

from __future__ import annotations

import enum
import math
import random
from collections import Counter, deque
from collections.abc import Awaitable, Callable
from typing import Any

import trio

from ..codec import MalformedMessage, dumps, loads_object
from ..venues.bitunix import server as frames
from .dialect import Dialect, Route
from .faults import FaultKind, FaultWindows
from .rules import ExchangeRules
from .stats import SimStats
from .timeline import Position, Timeline
from .wire import ClientClose, ProtocolPing, ServerWebSocket, WireClosed


class Ending(enum.Enum):
    """Why a socket ended; it decides how the simulator hangs up."""

    CLIENT_CLOSED = "client closed"
    GONE = "client gone"
    IDLE = "idle"
    RATE_LIMIT = "rate limit"
    PROTOCOL_PING = "protocol ping first"
    FAULT_CLOSE = "fault: close"
    FAULT_DROP = "fault: drop"
    MAX_AGE = "max age"
    NO_PONG = "no pong"


class ExchangeSocket:
    """The exchange's side of one open WebSocket. ``run`` until it ends; ``end`` to end it."""

    def __init__(
        self,
        wire: ServerWebSocket,
        timeline: Timeline,
        rules: ExchangeRules,
        windows: FaultWindows,
        stats: SimStats,
        rng: random.Random,
        on_push: Callable[[str], None] | None = None,
    ) -> None:
        self.wire = wire
        self.dialect: Dialect = timeline.tape.dialect
        self.target = wire.path
        """The request target the client opened (path and query)."""
        self.on_push = on_push
        """Called with each push's text just before it is handed to the socket (see
        ``Simulator.on_push``)."""
        self.timeline = timeline
        self.rules = rules
        self.windows = windows
        self.stats = stats
        self.rng = rng
        self.subscriptions: dict[Route, float] = {}
        """What the client subscribed, and the ``trio.current_time()`` its data starts at."""
        self.pending: Counter[FaultKind] = Counter()
        """One-shot faults still to apply to the next pushes."""
        self.ending: Ending | None = None
        self.opened_s = timeline.now_ms() // 1000
        self._scope = trio.CancelScope()
        self._held: dict[Route, dict[str, Any]] = {}
        self._invalid_variant = 0
        self._absurd_variant = 0
        self._future_variant = 0
        self._drip_last = -math.inf

    def end(self, ending: Ending) -> None:
        """Stop the socket's tasks; the first reason given is the one that counts."""
        if self.ending is None:
            self.ending = ending
        self._scope.cancel()

    async def run(self) -> Ending:
        rules = self.rules
        with self._scope:
            async with trio.open_nursery() as nursery:
                self._nursery = nursery
                await self._guard(self._open)
                nursery.start_soon(self._guard, self._read)
                nursery.start_soon(self._guard, self._play)
                if rules.server_ping_s < math.inf:
                    nursery.start_soon(self._guard, self._ping)
                if rules.max_age_s < math.inf:
                    nursery.start_soon(self._age_out, rules.max_age_s)
        return self.ending or Ending.GONE

    async def _open(self) -> None:
        """What the exchange sends on open (Bitunix: its connect frame), and the streams the
        URL names (Binance), which start streaming after the usual subscribe delay."""
        for text in self.greeting():
            await self.wire.send_text(text)
        routes = self.dialect.url_routes(self.target)
        if routes:
            delay = self.rng.uniform(*self.rules.subscribe_delay_s)
            self._add_routes(routes, trio.current_time() + delay)

    def greeting(self) -> list[str]:
        """Frames sent as soon as the socket opens."""
        return [frames.CONNECT]

    async def _age_out(self, seconds: float) -> None:
        await trio.sleep(seconds)
        self.end(Ending.MAX_AGE)

    async def _ping(self) -> None:
        """Ping every ``server_ping_s``; no pong to any of them for ``pong_wait_s``: drop."""
        rules = self.rules
        answered_at = trio.current_time()
        seen = self.wire.pongs
        while True:
            await trio.sleep(rules.server_ping_s)
            if self.wire.pongs > seen:
                seen, answered_at = self.wire.pongs, trio.current_time()
            if trio.current_time() - answered_at > rules.pong_wait_s:
                self.end(Ending.NO_PONG)
                return
            await self.wire.ping(b"sim")

    def _add_routes(self, routes: list[Route], start: float) -> None:
        """Subscribe ``routes`` from ``start`` (those the socket's path does not deliver are
        accepted and never sent: Binance's legacy paths)."""
        for route in routes:
            if route not in self.subscriptions and self.dialect.delivers(self.target, route):
                self.subscriptions[route] = start

    async def _guard(self, task: Callable[..., Awaitable[None]], *args: Any) -> None:
        """Run one of the socket's tasks; the client hanging up ends the socket, quietly."""
        try:
            await task(*args)
        except WireClosed:
            self.end(Ending.GONE)

    # --- the client's side ---------------------------------------------------------------

    async def _read(self) -> None:
        rules = self.rules
        recent: deque[float] = deque()
        first = True
        with trio.CancelScope(deadline=trio.current_time() + rules.idle_timeout_s) as idle:
            while True:
                frame = await self.wire.receive()
                now = trio.current_time()
                idle.deadline = now + rules.idle_timeout_s
                if isinstance(frame, ClientClose):
                    self.end(Ending.CLIENT_CLOSED)
                    return
                self.stats.client_messages += 1
                recent.append(now)
                while recent[0] <= now - 1.0:
                    recent.popleft()
                if len(recent) > rules.max_messages_per_s:
                    self.end(Ending.RATE_LIMIT)
                    return
                if isinstance(frame, ProtocolPing):
                    if first and rules.protocol_ping_first_drops:
                        self.end(Ending.PROTOCOL_PING)
                        return
                    await self.wire.pong(frame.payload)
                else:
                    await self._on_message(frame)
                first = False
        if idle.cancelled_caught:
            self.end(Ending.IDLE)

    async def _on_message(self, raw: str | bytes) -> None:
        try:
            message = loads_object(raw)
        except MalformedMessage:
            self.stats.bad_client_messages += 1
            return
        op = message.get("op")
        if op == "ping":
            await self._pong(message.get("ping"))
        elif op == "subscribe":
            await self._subscribe(message.get("args"))
        elif op == "unsubscribe":
            await self._unsubscribe(message.get("args"))

    async def _pong(self, echo: object) -> None:
        now = trio.current_time()
        reply = frames.pong(echo, self.opened_s)
        if now < self.windows.pong_never_until:
            self.stats.pongs_withheld += 1
        elif now < self.windows.pong_late_until:
            late = now + self.windows.pong_delay
            self._nursery.start_soon(self._guard, self._pong_at, late, reply)
        else:
            await self.wire.send_text(reply)
            self.stats.pongs_sent += 1

    async def _pong_at(self, when: float, reply: str) -> None:
        await trio.sleep_until(when)
        await self.wire.send_text(reply)
        self.stats.pongs_sent += 1

    async def _subscribe(self, args: object) -> None:
        if type(args) is not list:
            return
        start = trio.current_time() + self.rng.uniform(*self.rules.subscribe_delay_s)
        refused = False
        unknown: dict[str, str] = {}
        for route in _routes(args):
            if route in self.subscriptions:
                continue
            if len(self.subscriptions) >= self.rules.max_channels:
                refused = True
                continue
            self.subscriptions[route] = start
            ch, symbol = route
            if symbol not in self.timeline.tape.symbols:
                unknown.setdefault(symbol, ch)
        if refused:
            await self.wire.send_text(frames.refusal(self.rules.max_channels))
        for symbol, ch in unknown.items():
            self._nursery.start_soon(self._guard, self._empty_depth_at, start, ch, symbol)

    async def _empty_depth_at(self, when: float, ch: str, symbol: str) -> None:
        await trio.sleep_until(when)
        await self.wire.send_text(frames.empty_depth(ch, symbol, self.timeline.now_ms()))

    async def _unsubscribe(self, args: object) -> None:
        if type(args) is not list:
            return
        for route in _routes(args):
            self.subscriptions.pop(route, None)
        await self.wire.send_text(frames.unsubscribe_ack(self.timeline.now_ms()))

    # --- the exchange's side -------------------------------------------------------------

    async def _play(self) -> None:
        timeline = self.timeline
        routes = timeline.tape.routes
        position = timeline.first_at(timeline.now_ms())
        while position is not None:
            await trio.sleep_until(timeline.trio_time(timeline.due(position)))
            route = routes[position[1]]
            start = self.subscriptions.get(route)
            if start is not None and trio.current_time() >= start:
                await self._deliver(route, position)
            position = timeline.after(position)
        await trio.sleep_forever()  # the recording is over; the socket stays open

    async def _deliver(self, route: Route, position: Position) -> None:
        windows = self.windows
        now = trio.current_time()
        if now < windows.stall_until:
            self.stats.frames_stalled += 1
            return
        if now < windows.drip_until:
            await trio.sleep_until(self._drip_last + 1 / windows.drip_rate)
            self._drip_last = trio.current_time()
        await self._send_push(route, self.timeline.push(position))

    async def _send_push(self, route: Route, push: dict[str, Any]) -> None:
        """Send one push, with the one-shot faults pending on this socket applied to it."""
        pending = self.pending
        send = self.wire.send_text
        if pending[FaultKind.GARBAGE]:
            for junk in frames.garbage(pending.pop(FaultKind.GARBAGE)):
                if isinstance(junk, str):
                    await send(junk)
                else:
                    await self.wire.send_bytes(junk)
        if pending[FaultKind.INVALID]:
            pending[FaultKind.INVALID] -= 1
            await send(dumps(frames.invalid_copy(push, self._invalid_variant)).decode())
            self._invalid_variant += 1
        if pending[FaultKind.ABSURD]:
            pending[FaultKind.ABSURD] -= 1
            await send(dumps(self.dialect.absurd_copy(push, self._absurd_variant)).decode())
            self._absurd_variant += 1
        if pending[FaultKind.FUTURE]:
            pending[FaultKind.FUTURE] -= 1
            await send(dumps(self.dialect.future_copy(push, self._future_variant)).decode())
            self._future_variant += 1
        if pending[FaultKind.EXTRA] and self.dialect.is_kline(route):
            pending[FaultKind.EXTRA] -= 1
            await send(dumps(frames.extra_copy(push)).decode())
        if pending[FaultKind.REORDER] and route not in self._held:
            pending[FaultKind.REORDER] -= 1
            self._held[route] = push  # sent after the next push of its route
            return
        text = dumps(push).decode()
        if self.on_push is not None:
            self.on_push(text)
        await send(text)
        self.stats.frames_sent += 1
        held = self._held.pop(route, None)
        if held is not None:
            await send(dumps(held).decode())
            self.stats.frames_sent += 1
        if pending[FaultKind.DUPLICATE]:
            pending[FaultKind.DUPLICATE] -= 1
            await send(text)
            self.stats.frames_sent += 1
        if trio.current_time() < self.windows.flood_until:
            for _ in range(self.windows.flood_copies):
                await send(text)
            self.stats.frames_sent += self.windows.flood_copies


def _routes(args: list[Any]) -> list[Route]:
    """The valid ``(ch, SYMBOL)`` pairs of a (un)subscribe's args; a missing symbol is ``""``
    and unknown channel names are left out (Bitunix does not answer them)."""
    routes = []
    for arg in args:
        if type(arg) is not dict:
            continue
        ch, symbol = arg.get("ch"), arg.get("symbol")
        if type(ch) is str and frames.is_channel(ch):
            routes.append((ch, symbol.upper() if type(symbol) is str else ""))
    return routes
