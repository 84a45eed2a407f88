"""The simulator's clock-driven behaviour, exactly, under ``MockClock(autojump_threshold=0)``.

Clients talk to ``Simulator.serve_websocket`` over ``trio.testing.memory_stream_pair`` with a
real trio-websocket client: the mock clock must never run while bytes are on a real socket.
The wall clock the simulator aligns to is tied to trio's, so every timestamp is predictable.
"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
import trio
import trio.testing
import trio_websocket
from trio_websocket import ConnectionClosed, WebSocketConnection

from trio_paper.sim.faults import FaultPlan
from trio_paper.sim.simulator import Simulator, open_simulator
from trio_paper.sim.tape import Tape, load_tape
from trio_paper.times import MINUTE_MS, iso_to_ms
from trio_paper.venues.bitunix import ws as bitunix
from trio_paper.venues.bitunix.server import CONNECT

BASE_MS = iso_to_ms("2030-01-02T03:04:30Z")
"""The wall clock at trio time 0: half a minute into a minute."""
KLINE = "market_kline_1min"


def wall_ms() -> int:
    return BASE_MS + round(trio.current_time() * 1000)


@pytest.fixture(scope="module")
def tape(demo_recording: Path) -> Tape:
    return load_tape(demo_recording)


@asynccontextmanager
async def simulator(tape: Tape, faults: FaultPlan | None = None) -> AsyncIterator[Simulator]:
    plan = faults or FaultPlan()
    async with open_simulator(tape, faults=plan, wall_ms=wall_ms, seed=7) as sim:
        yield sim


async def connect(nursery: trio.Nursery, sim: Simulator) -> WebSocketConnection:
    """A trio-websocket client on a memory stream to ``sim``, past the connect frame."""
    client, server = trio.testing.memory_stream_pair()
    nursery.start_soon(sim.serve_websocket, server)
    ws: WebSocketConnection = await trio_websocket.wrap_client_stream(
        nursery,
        client,  # type: ignore[arg-type]  # annotated SocketStream; takes any trio Stream
        "127.0.0.1",
        "/public/",
        message_queue_size=10_000,
    )
    assert await ws.get_message() == CONNECT
    return ws


async def closed_after(ws: WebSocketConnection) -> tuple[float, int | None]:
    """Read until the socket closes: when (trio time) and with what code."""
    try:
        while True:
            await ws.get_message()
    except ConnectionClosed as closed:
        code = closed.reason.code if closed.reason is not None else None
        return trio.current_time(), code


async def pong_after(ws: WebSocketConnection, value: int) -> float:
    """Send a JSON ping, skip pushes until its pong; how long that took."""
    sent = trio.current_time()
    await ws.send_message(bitunix.ping_frame(value))
    while True:
        message = orjson.loads(await ws.get_message())
        if message.get("op") == "ping":
            assert message["pong"] == value
            return trio.current_time() - sent


async def keep_alive(ws: WebSocketConnection) -> None:
    """A JSON ping every 20 s, as a session sends; the pongs are left for the reader."""
    for n in range(10**6):
        await trio.sleep(20)
        await ws.send_message(bitunix.ping_frame(n))


async def pushes_until(ws: WebSocketConnection, deadline: float) -> list[tuple[float, Any]]:
    """Every push received until trio time ``deadline``, with its arrival time."""
    out = []
    with trio.move_on_at(deadline):
        while True:
            message = orjson.loads(await ws.get_message())
            if "ch" in message:
                out.append((trio.current_time(), message))
    return out


async def test_an_idle_socket_is_dropped_at_the_idle_timeout(
    autojump_clock: trio.testing.MockClock, tape: Tape
) -> None:
    with trio.fail_after(120):
        async with simulator(tape) as sim, trio.open_nursery() as nursery:
            opened = trio.current_time()
            ws = await connect(nursery, sim)
            when, code = await closed_after(ws)
            assert when - opened == pytest.approx(60.0)
            assert code == 1006  # no close frame
            assert sim.stats.endings == {"idle": 1}
            nursery.cancel_scope.cancel()


async def test_json_pings_keep_a_socket_open_and_its_last_one_starts_the_clock(
    autojump_clock: trio.testing.MockClock, tape: Tape
) -> None:
    with trio.fail_after(400):
        async with simulator(tape) as sim, trio.open_nursery() as nursery:
            ws = await connect(nursery, sim)
            for n in range(8):
                await trio.sleep(20)
                assert await pong_after(ws, n) == 0
            last = trio.current_time()
            when, code = await closed_after(ws)
            assert when - last == pytest.approx(60.0)
            assert code == 1006
            nursery.cancel_scope.cancel()


async def test_five_messages_a_second_are_fine_and_a_sixth_disconnects(
    autojump_clock: trio.testing.MockClock, tape: Tape
) -> None:
    with trio.fail_after(30):
        async with simulator(tape) as sim, trio.open_nursery() as nursery:
            ws = await connect(nursery, sim)
            for second in range(3):
                for n in range(5):
                    await ws.send_message(bitunix.ping_frame(second * 10 + n))
                for n in range(5):
                    assert orjson.loads(await ws.get_message())["pong"] == second * 10 + n
                await trio.sleep(1.0)  # the oldest five leave the one-second window exactly now
            for n in range(6):
                await ws.send_message(bitunix.ping_frame(n))
            _, code = await closed_after(ws)
            assert code == 1006
            assert sim.stats.endings == {"rate limit": 1}
            assert sim.stats.pongs_sent == 20
            nursery.cancel_scope.cancel()


async def test_data_starts_a_tenth_to_six_tenths_of_a_second_after_subscribing(
    autojump_clock: trio.testing.MockClock, tape: Tape
) -> None:
    with trio.fail_after(60):
        async with simulator(tape) as sim, trio.open_nursery() as nursery:
            delays = []
            for _ in range(10):
                ws = await connect(nursery, sim)
                subscribed = trio.current_time()
                await ws.send_message(bitunix.subscribe_frame("BTCUSDT", [KLINE]))
                orjson.loads(await ws.get_message())
                delays.append(trio.current_time() - subscribed)
                await ws.aclose()
            # The first push due after the delay: kline pushes come every 500 ms.
            assert all(0.1 <= d <= 0.6 + 0.5 for d in delays), delays
            assert max(delays) - min(delays) > 0.1  # random, not fixed
            nursery.cancel_scope.cancel()


async def test_aligned_time_is_the_wall_clock_and_bars_keep_their_minutes(
    autojump_clock: trio.testing.MockClock, tape: Tape
) -> None:
    with trio.fail_after(60):
        async with simulator(tape) as sim, trio.open_nursery() as nursery:
            started = wall_ms()
            minute = started // MINUTE_MS * MINUTE_MS
            assert sim.shift_ms % MINUTE_MS == 0
            assert minute - sim.shift_ms == tape.first_bucket  # the recording's first minute
            ws = await connect(nursery, sim)
            await ws.send_message(bitunix.subscribe_frame("BTCUSDT", [KLINE]))
            pushes = await pushes_until(ws, trio.current_time() + 40)
            for arrived, push in pushes:
                # The tape's receive times are 20-80 ms after ts; at speed 1, so are ours.
                assert 20 <= BASE_MS + round(arrived * 1000) - push["ts"] <= 80
            first = pushes[0][1]
            assert first["ts"] >= started
            assert first["ts"] // MINUTE_MS * MINUTE_MS == minute
            recorded = tape.bars[("BTCUSDT", MINUTE_MS)]
            assert first["data"]["o"] == str(recorded[0].bar.open)
            # The next minute's pushes open at the recording's second candle's open.
            later = [p for _, p in pushes if p["ts"] >= minute + MINUTE_MS]
            assert later
            assert later[0]["data"]["o"] == str(recorded[1].bar.open)
            nursery.cancel_scope.cancel()


async def test_each_lap_continues_the_clock_by_whole_minutes(
    autojump_clock: trio.testing.MockClock, tape: Tape
) -> None:
    lap_ms = tape.length_ms
    assert lap_ms == 12 * MINUTE_MS
    with trio.fail_after(2000):
        async with simulator(tape) as sim, trio.open_nursery() as nursery:
            ws = await connect(nursery, sim)
            nursery.start_soon(keep_alive, ws)
            await ws.send_message(bitunix.subscribe_frame("BTCUSDT", [KLINE]))
            pushes = await pushes_until(ws, trio.current_time() + lap_ms / 1000 + 90)
            stamps = [p["ts"] for _, p in pushes]
            assert stamps == sorted(set(stamps))  # time only moves forward
            for arrived, push in pushes:
                assert 20 <= BASE_MS + round(arrived * 1000) - push["ts"] <= 80
            buckets = sorted({ts // MINUTE_MS * MINUTE_MS for ts in stamps})
            assert buckets == list(range(buckets[0], buckets[-1] + 1, MINUTE_MS))  # no gap
            first = buckets[0]
            assert len(buckets) >= 13
            opens = {p["ts"] // MINUTE_MS * MINUTE_MS: p["data"]["o"] for _, p in pushes}
            recorded = tape.bars[("BTCUSDT", MINUTE_MS)]
            assert opens[first + lap_ms] == str(recorded[0].bar.open)  # the second lap begins
            assert opens[first + lap_ms + MINUTE_MS] == str(recorded[1].bar.open)
            assert sim.timeline.lap_shift(1) == sim.shift_ms + lap_ms
            nursery.cancel_scope.cancel()


async def test_a_stall_stops_data_for_its_duration_while_pings_are_answered(
    autojump_clock: trio.testing.MockClock, tape: Tape
) -> None:
    with trio.fail_after(60):
        plan = FaultPlan.parse(["stall@5:3"])
        async with simulator(tape, plan) as sim, trio.open_nursery() as nursery:
            ws = await connect(nursery, sim)
            start = sim.timeline.t0
            await ws.send_message(bitunix.subscribe_frame("BTCUSDT", [KLINE, "depth_book1"]))
            before = await pushes_until(ws, start + 6)
            assert await pong_after(ws, 1) == 0  # the socket is alive
            after = await pushes_until(ws, start + 12)
            times = [t - start for t, _ in before + after]
            assert not [t for t in times if 5 <= t < 8]
            assert max(t for t in times if t < 5) > 4.5
            assert min(t for t in times if t >= 8) < 8.6
            assert sim.stats.frames_stalled > 0
            nursery.cancel_scope.cancel()


async def test_a_drip_sends_at_most_rate_frames_a_second_then_catches_up(
    autojump_clock: trio.testing.MockClock, tape: Tape
) -> None:
    with trio.fail_after(60):
        plan = FaultPlan.parse(["drip@5:4,rate=2"])
        async with simulator(tape, plan) as sim, trio.open_nursery() as nursery:
            ws = await connect(nursery, sim)
            start = sim.timeline.t0
            await ws.send_message(bitunix.subscribe_frame("BTCUSDT", [KLINE, "depth_book1"]))
            pushes = await pushes_until(ws, start + 14)
            times = [t - start for t, _ in pushes]
            during = [t for t in times if 5 <= t < 9]
            assert 7 <= len(during) <= 9
            gaps = [b - a for a, b in itertools.pairwise(during)]
            assert min(gaps) == pytest.approx(0.5)
            assert len([t for t in times if 4 <= t < 5]) >= 4  # normally 4 a second
            # The backlog arrives once the drip ends; nothing is lost.
            stamps = [p["ts"] for _, p in pushes if p["ch"] == KLINE]
            gaps_ms = [b - a for a, b in itertools.pairwise(stamps)]
            assert max(gaps_ms) == 500
            nursery.cancel_scope.cancel()


async def test_pongs_come_late_then_never_then_on_time(
    autojump_clock: trio.testing.MockClock, tape: Tape
) -> None:
    with trio.fail_after(120):
        plan = FaultPlan.parse(["pong-late@5:10,delay=3", "pong-never@20:10"])
        async with simulator(tape, plan) as sim, trio.open_nursery() as nursery:
            ws = await connect(nursery, sim)
            start = sim.timeline.t0
            assert await pong_after(ws, 1) == 0
            await trio.sleep_until(start + 6)
            assert await pong_after(ws, 2) == pytest.approx(3.0)
            await trio.sleep_until(start + 21)
            await ws.send_message(bitunix.ping_frame(3))
            with trio.move_on_after(15) as waited:
                await ws.get_message()
            assert waited.cancelled_caught  # never answered
            await trio.sleep_until(start + 40)
            assert await pong_after(ws, 4) == 0
            assert (sim.stats.pongs_sent, sim.stats.pongs_withheld) == (3, 1)
            nursery.cancel_scope.cancel()


async def test_a_cycle_fires_a_fault_every_interval_taking_the_kinds_in_turn(
    autojump_clock: trio.testing.MockClock, tape: Tape
) -> None:
    with trio.fail_after(120):
        plan = FaultPlan.every(10, ["duplicate", "stall", "close"], start=5)
        async with simulator(tape, plan) as sim, trio.open_nursery() as nursery:
            ws = await connect(nursery, sim)
            await trio.sleep_until(sim.timeline.t0 + 40)
            fired = [(f.at, str(f.fault), f.sockets) for f in sim.stats.faults]
            assert fired == [
                (5.0, "duplicate@5,count=5", 1),
                (15.0, "stall@15:10", 1),
                (25.0, "close@25", 1),
                (35.0, "duplicate@35,count=5", 0),  # the socket was closed at 25
            ]
            assert sim.stats.endings == {"fault: close": 1}
            assert (await closed_after(ws))[1] == 1000
            nursery.cancel_scope.cancel()
