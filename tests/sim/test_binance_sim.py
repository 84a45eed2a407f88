"""The simulator speaking Binance USD-M: real loopback sockets, a real trio-websocket client, the
real clock, and the project's own Binance parser reading what comes back."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import attrs
import httpx
import orjson
import pytest
import trio
import trio.testing
from trio_websocket import ConnectionClosed, WebSocketConnection
from wsproto import ConnectionType, WSConnection
from wsproto.events import Request

from tests.conftest import DEMOS
from tests.sim.wsclient import handshake_status, websocket
from trio_paper.model import BarUpdate, MarkPrice, Quote, SubscribeResult
from trio_paper.sim import FaultPlan
from trio_paper.sim.rules import ExchangeRules
from trio_paper.sim.simulator import Simulator, open_simulator
from trio_paper.sim.tape import Tape, load_tape
from trio_paper.venues.binance_usdm import VENUE as BINANCE_USDM
from trio_paper.venues.binance_usdm import rest, ws

DEMO = DEMOS / "binance_usdm-btcusdt-2025-05-08-demo.jsonl.gz"
QUICK = attrs.evolve(ExchangeRules.for_venue("binance_usdm"), subscribe_delay_s=(0.01, 0.02))
"""Binance's rules, but data starts within 20 ms of connecting."""


@pytest.fixture(scope="module")
def tape() -> Tape:
    return load_tape(DEMO)


@asynccontextmanager
async def serving(
    tape: Tape, rules: ExchangeRules = QUICK, faults: FaultPlan | None = None
) -> AsyncIterator[Simulator]:
    plan = faults or FaultPlan()
    async with open_simulator(tape, speed=20.0, rules=rules, faults=plan) as sim:
        yield sim


def urls(sim: Simulator) -> dict[str, str]:
    """The session's two sockets' URLs on this simulator, by what they carry."""
    return {s.carries: s.url for s in BINANCE_USDM.sockets(sim.ws_url, "BTCUSDT", "1min")}


async def closed_code(sock: WebSocketConnection) -> int | None:
    """Read until the socket closes; the close code."""
    try:
        while True:
            await sock.get_message()
    except ConnectionClosed as closed:
        return closed.reason.code if closed.reason is not None else None


async def collect(ws_: WebSocketConnection, seconds: float) -> list[Any]:
    events: list[Any] = []
    with trio.move_on_after(seconds):
        while True:
            events += ws.parse_frame(await ws_.get_message()).events
    return events


async def test_each_routed_path_streams_its_own_kinds_only(tape: Tape) -> None:
    with trio.fail_after(10):
        async with serving(tape) as sim:
            assert sim.ws_url.count("/") == 2  # the base: sessions add the routes
            async with websocket(urls(sim)["market"]) as market:
                got = {type(e) for e in await collect(market, 1.5)}
            assert got == {BarUpdate, MarkPrice}
            async with websocket(urls(sim)["quotes"]) as quotes:
                got = {type(e) for e in await collect(quotes, 1.0)}
            assert got == {Quote}


async def test_the_legacy_path_acknowledges_a_subscribe_and_then_sends_nothing(tape: Tape) -> None:
    with trio.fail_after(10):
        async with serving(tape) as sim, websocket(f"{sim.ws_url}/ws") as legacy:
            await legacy.send_message(ws.subscribe_frame(["btcusdt@kline_1m"], 7))
            (answer,) = ws.parse_frame(await legacy.get_message()).events
            assert answer == SubscribeResult("subscribe", True, "id 7")
            assert await collect(legacy, 1.5) == []
            async with websocket(f"{sim.ws_url}/stream?streams=btcusdt@kline_1m") as unrouted:
                assert await collect(unrouted, 1.0) == []


async def test_unknown_paths_are_refused(tape: Tape) -> None:
    with trio.fail_after(5):
        async with serving(tape) as sim:
            assert await handshake_status(f"{sim.ws_url}/public/") == 404
            assert await handshake_status(f"{sim.ws_url}/futures/stream?streams=a") == 404


async def test_every_socket_is_closed_at_its_maximum_age(tape: Tape) -> None:
    """Binance's 24 h close, compressed: a close frame (1000); the client reconnects."""
    with trio.fail_after(10):
        rules = attrs.evolve(QUICK, max_age_s=1.0)
        async with serving(tape, rules) as sim, websocket(urls(sim)["quotes"]) as quotes:
            opened = trio.current_time()
            assert await closed_code(quotes) == 1000
            assert 0.9 <= trio.current_time() - opened <= 3.0
            assert sim.stats.endings["max age"] == 1


async def test_the_servers_protocol_pings_are_answered_by_the_client_library(tape: Tape) -> None:
    """The feed sends no keepalive of its own on Binance: trio-websocket answers the pings."""
    with trio.fail_after(10):
        rules = attrs.evolve(QUICK, server_ping_s=0.2, pong_wait_s=0.5)
        async with serving(tape, rules) as sim, websocket(urls(sim)["market"]) as market:
            events = await collect(market, 2.0)
            assert events  # still streaming after many pings
            assert sim.stats.endings["no pong"] == 0
            assert len(sim.sockets) == 1
            (sock,) = sim.sockets
            assert sock.wire.pongs >= 5


async def test_rest_klines_answer_as_binance_and_parse_back(tape: Tape) -> None:
    with trio.fail_after(10):
        async with serving(tape) as sim, httpx.AsyncClient(base_url=sim.rest_url) as client:
            now = sim.exchange_now()
            request = BINANCE_USDM.kline_request("BTCUSDT", "1min", now - 60 * 60_000, now, 100)
            answer = await client.get(request.path, params=request.query)
            assert answer.status_code == 200
            bars = BINANCE_USDM.parse_klines(answer.text, "BTCUSDT", 60_000)
            assert len(bars) >= 50
            assert all(b.close_time <= now for b in bars)
            bad = await client.get(rest.KLINE_PATH, params={**request.query, "symbol": "ETHUSDT"})
            assert bad.status_code == 400
            assert orjson.loads(bad.content) == {"code": -1121, "msg": "Invalid symbol."}


async def test_a_drop_fault_resets_both_sockets(tape: Tape) -> None:
    with trio.fail_after(10):
        async with serving(tape, faults=FaultPlan.parse(["drop@1"])) as sim:
            u = urls(sim)
            async with websocket(u["market"]) as market, websocket(u["quotes"]) as quotes:
                for sock in (market, quotes):
                    assert await closed_code(sock) == 1006
            assert sim.stats.endings["fault: drop"] == 2


async def test_a_client_that_never_answers_the_pings_is_dropped(
    autojump_clock: trio.testing.MockClock, tape: Tape
) -> None:
    """Binance pings every 3 min and drops a socket silent to them for 10 min (compressed)."""
    rules = attrs.evolve(QUICK, server_ping_s=60.0, pong_wait_s=150.0)
    with trio.fail_after(600):
        async with open_simulator(tape, rules=rules, wall_ms=lambda: 0) as sim:
            client, server = trio.testing.memory_stream_pair()
            deaf = WSConnection(ConnectionType.CLIENT)  # answers nothing, reads nothing
            target = "/public/stream?streams=btcusdt@bookTicker"
            await client.send_all(deaf.send(Request(host="sim", target=target)))
            started = trio.current_time()
            await sim.serve_websocket(server)  # returns when the socket has ended
            assert sim.stats.endings["no pong"] == 1
            # pings at 60 and 120 s, unanswered: dropped at the first check past 150 s
            assert 180 <= trio.current_time() - started <= 241
