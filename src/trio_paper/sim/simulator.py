"""The exchange simulator: a recording served as its venue's public WebSocket and REST klines
(Bitunix's or Binance USD-M's, as the recording's header says; ``dialect`` holds the difference).

``open_simulator`` runs it inside the caller's Trio run (the live session's ``--sim``, tests);
``trio-paper sim`` runs it alone until Ctrl-C. How it plays a recording, which rules it
enforces, and every fault it can inject are described in ``docs/simulator.md``.
"""

from __future__ import annotations

import random
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from pathlib import Path

import trio

from .binance_socket import BinanceSocket
from .connection import Ending, ExchangeSocket
from .faults import WINDOWED, Fault, FaultKind, FaultPlan, FaultWindows
from .rest import kline_endpoint, serve_http
from .rules import ExchangeRules
from .stats import FiredFault, SimStats
from .tape import Tape, load_tape
from .timeline import Timeline
from .wire import ServerWebSocket, WireClosed

__all__ = [
    "ExchangeRules",
    "Fault",
    "FaultKind",
    "FaultPlan",
    "Simulator",
    "Tape",
    "load_tape",
    "open_simulator",
]

WS_PATH = "/public/"
"""Bitunix's path; a Binance simulator's ``ws_url`` is the base its sessions add routes to."""
_HANDSHAKE_TIMEOUT_S = 10.0


def wall_clock_ms() -> int:
    return time.time_ns() // 1_000_000


class Simulator:
    """A running simulator: where to connect, its clock, and what it has done so far."""

    def __init__(
        self,
        timeline: Timeline,
        plan: FaultPlan,
        rules: ExchangeRules,
        rng: random.Random,
        log: Callable[[str], None] | None,
    ) -> None:
        self.timeline = timeline
        self.tape = timeline.tape
        self.plan = plan
        self.rules = rules
        self.stats = SimStats()
        self.windows = FaultWindows()
        self.sockets: set[ExchangeSocket] = set()
        self.dialect = timeline.tape.dialect
        self.ws_url = ""
        """``ws://HOST:PORT/public/`` (Bitunix), ``ws://HOST:PORT`` (Binance: the base URL)."""
        self.rest_url = ""
        """``http://HOST:PORT``: the REST base, as the venue's ``rest_url``."""
        self._rest = kline_endpoint(timeline, rules, self.stats)
        self._rng = rng
        self._log = log or (lambda _: None)
        self._serial = 0
        self.on_push: Callable[[str], None] | None = None
        """Instrumentation: if set, called with the text of every data push just before it is
        handed to a socket (sockets opened after it is set). ``bench/`` stamps the send time of
        each frame with it to measure frame-to-journal latency; unset, it costs one test."""

    def exchange_now(self) -> int:
        """The simulated exchange's clock, in ms: the wall clock when aligned at speed 1."""
        return self.timeline.now_ms()

    @property
    def shift_ms(self) -> int:
        """What the first lap adds to the recording's timestamps (a whole number of minutes)."""
        return self.timeline.shift

    def seconds_since_start(self) -> float:
        return trio.current_time() - self.timeline.t0

    def inject(self, fault: Fault) -> None:
        """Apply ``fault`` now, whatever its ``at``."""
        now = trio.current_time()
        sockets = list(self.sockets)
        kind = fault.kind
        if kind in WINDOWED:
            self.windows.open(fault, now)
        if kind is FaultKind.CLOSE:
            for sock in sockets:
                sock.end(Ending.FAULT_CLOSE)
        elif kind in (FaultKind.DROP, FaultKind.REFUSE):
            for sock in sockets:
                sock.end(Ending.FAULT_DROP)
        elif kind not in WINDOWED:
            for sock in sockets:
                sock.pending[kind] += fault.count
        self.stats.faults.append(FiredFault(now - self.timeline.t0, fault, len(sockets)))
        self._log(f"fault {fault} on {len(sockets)} socket(s)")

    async def serve_websocket(self, stream: trio.abc.Stream) -> None:
        """Serve one client on ``stream`` (a TCP connection, or a memory stream in tests)."""
        wire = ServerWebSocket(stream, self.rules.max_message_bytes)
        try:
            refuse = trio.current_time() < self.windows.refuse_until
            try:
                with trio.fail_after(_HANDSHAKE_TIMEOUT_S):
                    accepted = await wire.handshake(self.dialect.accepts, refuse)
            except (WireClosed, trio.TooSlowError):
                return
            if not accepted:
                if refuse:
                    self.stats.refused += 1
                return
            await self._serve_socket(wire)
        finally:
            await trio.aclose_forcefully(stream)

    async def _serve_socket(self, wire: ServerWebSocket) -> None:
        self.stats.accepted += 1
        self._serial += 1
        serial = self._serial
        kind = BinanceSocket if self.dialect.name == "binance_usdm" else ExchangeSocket
        sock = kind(
            wire, self.timeline, self.rules, self.windows, self.stats, self._rng, self.on_push
        )
        self.sockets.add(sock)
        self._log(f"socket {serial} opened ({len(self.sockets)} open)")
        try:
            ending = await sock.run()
        finally:
            self.sockets.discard(sock)
        self.stats.endings[ending.value] += 1
        self._log(f"socket {serial} ended: {ending.value}")
        if ending in (Ending.FAULT_CLOSE, Ending.MAX_AGE):
            await wire.close(1000, "", self.rules.close_wait_s)
        elif ending is Ending.FAULT_DROP:
            await wire.reset()
        else:
            await wire.drop()

    def rest_response(self, method: str, target: str) -> tuple[int, bytes]:
        """The answer to one REST request, without a socket (an in-process session's HTTP)."""
        return self._rest.respond(method, target)

    async def serve_rest(self, stream: trio.abc.Stream) -> None:
        """Serve HTTP requests on ``stream`` until the client closes it."""
        await serve_http(stream, self._rest.respond)

    async def _run_faults(self) -> None:
        for fault in self.plan.schedule():
            await trio.sleep_until(self.timeline.t0 + fault.at)
            self.inject(fault)


@asynccontextmanager
async def open_simulator(
    recording: Path | Tape,
    *,
    host: str = "127.0.0.1",
    port: int = 0,
    rest_port: int = 0,
    speed: float = 1.0,
    faults: FaultPlan = FaultPlan(),  # noqa: B008 - frozen, so one shared default is fine
    loop: bool = True,
    align: bool = True,
    wall_ms: Callable[[], int] = wall_clock_ms,
    rules: ExchangeRules | None = None,
    seed: int | None = None,
    log: Callable[[str], None] | None = None,
) -> AsyncIterator[Simulator]:
    """Serve ``recording`` on ``host``: WebSocket on ``port``, REST on ``rest_port`` (0: any
    free port; read ``ws_url`` and ``rest_url``). Stops when the block exits.

    A path is loaded in a worker thread; pass a ``Tape`` (``load_tape``) to load it once for
    many runs, or to stay off threads under ``trio.testing.MockClock``. ``wall_ms`` is the wall
    clock that alignment reads once, at start. ``rules`` default to the recording's venue's
    (``ExchangeRules.for_venue``). ``seed`` fixes the random subscribe delays.
    ``log`` gets one line per socket opened or ended and per fault.
    """
    for name, number in (("port", port), ("rest_port", rest_port)):
        if not 0 <= number <= 65535:  # getaddrinfo would silently wrap it
            raise ValueError(f"{name} must be 0-65535, not {number}")
    tape = (
        recording
        if isinstance(recording, Tape)
        else await trio.to_thread.run_sync(load_tape, recording)
    )
    timeline = Timeline(
        tape, speed=speed, loop=loop, align=align, wall_ms=wall_ms(), trio_now=trio.current_time()
    )
    if rules is None:
        rules = ExchangeRules.for_venue(tape.header.venue)
    sim = Simulator(timeline, faults, rules, random.Random(seed), log)
    async with trio.open_nursery() as nursery:
        ws = await nursery.start(partial(trio.serve_tcp, sim.serve_websocket, port, host=host))
        rest = await nursery.start(partial(trio.serve_tcp, sim.serve_rest, rest_port, host=host))
        sim.ws_url = f"ws://{_address(ws[0])}{sim.dialect.ws_path}"
        sim.rest_url = f"http://{_address(rest[0])}"
        nursery.start_soon(sim._run_faults)
        try:
            yield sim
        finally:
            nursery.cancel_scope.cancel()


def _address(listener: trio.SocketListener) -> str:
    host, port = listener.socket.getsockname()[:2]
    return f"[{host}]:{port}" if ":" in host else f"{host}:{port}"
