"""The exchange simulator end to end: real loopback sockets, a real trio-websocket client, the
real clock, and the project's own Bitunix parser reading what comes back."""

from __future__ import annotations

import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import orjson
import pytest
import trio
from trio_websocket import (
    ConnectionClosed,
    WebSocketConnection,
)

from tests.sim.wsclient import handshake_status, websocket
from trio_paper.codec import MalformedMessage
from trio_paper.model import BarUpdate, Connected, Pong, Quote, SubscribeResult
from trio_paper.sim.rules import ExchangeRules
from trio_paper.sim.simulator import Simulator, open_simulator
from trio_paper.sim.tape import Tape, load_tape
from trio_paper.times import MINUTE_MS
from trio_paper.venues.bitunix import ws as bitunix
from trio_paper.venues.bitunix.server import CONNECT

KLINE = "market_kline_1min"
QUICK = ExchangeRules(subscribe_delay_s=(0.01, 0.02))
"""Bitunix's rules, but data starts within 20 ms of a subscribe."""


@pytest.fixture(scope="module")
def tape(demo_recording: Path) -> Tape:
    return load_tape(demo_recording)


@asynccontextmanager
async def serving(
    tape: Tape, speed: float = 20.0, rules: ExchangeRules = QUICK
) -> AsyncIterator[Simulator]:
    async with open_simulator(tape, speed=speed, rules=rules) as sim:
        yield sim


@asynccontextmanager
async def client(sim: Simulator) -> AsyncIterator[WebSocketConnection]:
    """A connected client, past the connect frame."""
    async with websocket(sim.ws_url) as ws:
        assert await ws.get_message() == CONNECT
        yield ws


async def next_json(ws: WebSocketConnection) -> dict[str, Any]:
    message: dict[str, Any] = orjson.loads(await ws.get_message())
    return message


async def collect(ws: WebSocketConnection, seconds: float) -> list[dict[str, Any]]:
    out = []
    with trio.move_on_after(seconds):
        while True:
            out.append(await next_json(ws))
    return out


async def closed_code(ws: WebSocketConnection) -> int | None:
    """Read until the socket closes; the close code."""
    try:
        while True:
            await ws.get_message()
    except ConnectionClosed as closed:
        return closed.reason.code if closed.reason is not None else None


async def test_a_new_socket_gets_the_connect_frame(tape: Tape) -> None:
    with trio.fail_after(5):
        async with serving(tape) as sim:
            assert re.fullmatch(r"ws://127\.0\.0\.1:\d+/public/", sim.ws_url)
            async with websocket(sim.ws_url) as ws:
                raw = await ws.get_message()
                assert raw == '{"op":"connect","data":{"result":true}}'
                assert bitunix.parse_frame(raw).events == (Connected(True),)


async def test_a_json_ping_is_echoed_with_the_second_the_socket_opened(tape: Tape) -> None:
    with trio.fail_after(5):
        async with serving(tape, speed=1.0) as sim, client(sim) as ws:
            opened = time.time()
            await trio.sleep(1.2)
            await ws.send_message(bitunix.ping_frame(1790126498))
            raw = await ws.get_message()
            (pong,) = bitunix.parse_frame(raw).events
            assert isinstance(pong, Pong)
            assert pong.echo == 1790126498
            assert abs(pong.server - opened) <= 1
            assert raw == f'{{"op":"ping","pong":1790126498,"ping":{pong.server}}}'


async def test_subscribed_channels_stream_within_a_second_routed_by_channel(tape: Tape) -> None:
    with trio.fail_after(10):
        async with serving(tape, rules=ExchangeRules()) as sim, client(sim) as ws:
            sent = trio.current_time()
            await ws.send_message(bitunix.subscribe_frame("BTCUSDT", ["price"]))
            first = await next_json(ws)
            assert 0.1 <= trio.current_time() - sent < 1.0
            pushes = [first, *await collect(ws, 0.5)]
            assert {(p["ch"], p["symbol"]) for p in pushes} == {("price", "BTCUSDT")}
            await ws.send_message(bitunix.subscribe_frame("BTCUSDT", [KLINE, "depth_book1"]))
            pushes = await collect(ws, 1.0)
            assert {p["ch"] for p in pushes} == {"price", KLINE, "depth_book1"}
            for push in pushes:
                (event,) = bitunix.parse_frame(orjson.dumps(push)).events
                assert push["ch"] != "depth_book1" or isinstance(event, Quote)
                assert push["ch"] != KLINE or isinstance(event, BarUpdate)


async def test_frames_keep_bitunix_shape_and_compact_encoding(tape: Tape) -> None:
    with trio.fail_after(5):
        async with serving(tape) as sim, client(sim) as ws:
            await ws.send_message(bitunix.subscribe_frame("BTCUSDT", [KLINE, "price"]))
            seen: dict[str, str] = {}
            while len(seen) < 2:
                raw = await ws.get_message()
                assert isinstance(raw, str)
                seen[orjson.loads(raw)["ch"]] = raw
            assert re.fullmatch(
                r'\{"ch":"market_kline_1min","symbol":"BTCUSDT","ts":\d{13},"data":\{"o":"[\d.]+",'
                r'"c":"[\d.]+","h":"[\d.]+","l":"[\d.]+","b":"[\d.]+","q":"[\d.]+"\}\}',
                seen[KLINE],
            )
            price = orjson.loads(seen["price"])["data"]
            # The funding times moved with the frames, and kept their second resolution.
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:00Z", price["ft"])
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:00Z", price["nft"])


async def test_a_lowercase_symbol_is_accepted_and_comes_back_uppercase(tape: Tape) -> None:
    with trio.fail_after(5):
        async with serving(tape) as sim, client(sim) as ws:
            await ws.send_message(bitunix.subscribe_frame("btcusdt", [KLINE]))
            pushes = [await next_json(ws) for _ in range(3)]
            assert {p["symbol"] for p in pushes} == {"BTCUSDT"}


async def test_unsubscribe_is_acknowledged_and_stops_the_channel(tape: Tape) -> None:
    with trio.fail_after(5):
        async with serving(tape) as sim, client(sim) as ws:
            await ws.send_message(bitunix.subscribe_frame("BTCUSDT", [KLINE, "depth_book1"]))
            await collect(ws, 0.3)
            await ws.send_message(bitunix.unsubscribe_frame("BTCUSDT", [KLINE]))
            while (message := await next_json(ws)).get("op") != "unsubscribe":
                pass
            assert set(message) == {"op", "ts", "data"}
            assert list(message) == ["op", "ts", "data"]
            assert message["data"] == "success"
            assert abs(message["ts"] - sim.exchange_now()) < 1000
            (ack,) = bitunix.parse_frame(orjson.dumps(message)).events
            assert ack == SubscribeResult("unsubscribe", True, "success")
            after = await collect(ws, 0.3)
            assert after
            assert {p["ch"] for p in after} == {"depth_book1"}


async def test_an_unknown_symbol_gets_one_empty_depth_frame_then_nothing(tape: Tape) -> None:
    with trio.fail_after(5):
        async with serving(tape) as sim, client(sim) as ws:
            await ws.send_message(bitunix.subscribe_frame("NOPEUSDT", ["depth_book1", KLINE]))
            raw = await ws.get_message()
            frame = orjson.loads(raw)
            assert frame["ch"] == "depth_book1"
            assert frame["symbol"] == "NOPEUSDT"
            assert frame["data"] == {"b": [["", ""]], "a": [["", ""]]}
            with pytest.raises(MalformedMessage):
                bitunix.parse_frame(raw)
            assert await collect(ws, 0.5) == []


async def test_an_unknown_channel_name_gets_no_reply(tape: Tape) -> None:
    with trio.fail_after(5):
        async with serving(tape) as sim, client(sim) as ws:
            await ws.send_message(bitunix.subscribe_frame("BTCUSDT", ["market_kline_1m"]))
            assert await collect(ws, 0.5) == []


async def test_past_300_channels_the_rest_are_refused_and_the_first_300_stream(
    tape: Tape,
) -> None:
    with trio.fail_after(5):
        async with serving(tape) as sim, client(sim) as ws:
            args = [{"symbol": "BTCUSDT", "ch": KLINE}]
            args += [{"symbol": f"X{i}USDT", "ch": "depth_book1"} for i in range(300)]
            await ws.send_message(orjson.dumps({"op": "subscribe", "args": args}).decode())
            raw = await ws.get_message()
            assert raw == (
                '{"op":"subscribe","data":'
                '{"msg":"subscribe channel > 300","nonce":"","result":false}}'
            )
            (refusal,) = bitunix.parse_frame(raw).events
            assert refusal == SubscribeResult("subscribe", False, "subscribe channel > 300")
            frames = await collect(ws, 0.5)
            empty = {f["symbol"] for f in frames if f["ch"] == "depth_book1"}
            assert len(empty) == 299  # X299USDT was the 301st
            assert any(f["ch"] == KLINE for f in frames)


async def test_a_silent_socket_is_dropped_without_a_close_frame(tape: Tape) -> None:
    with trio.fail_after(5):
        rules = ExchangeRules(idle_timeout_s=0.3)
        async with serving(tape, rules=rules) as sim, client(sim) as ws:
            start = trio.current_time()
            assert await closed_code(ws) == 1006
            assert 0.25 <= trio.current_time() - start < 1.0
            assert sim.stats.endings == {"idle": 1}


async def test_more_than_five_messages_in_a_second_disconnect(tape: Tape) -> None:
    with trio.fail_after(5):
        async with serving(tape) as sim, client(sim) as ws:
            for n in range(6):
                await ws.send_message(bitunix.ping_frame(n))
            assert await closed_code(ws) == 1006
            assert sim.stats.endings == {"rate limit": 1}


async def test_a_protocol_ping_as_the_first_frame_closes_the_socket(tape: Tape) -> None:
    with trio.fail_after(5):
        async with serving(tape) as sim, client(sim) as ws:
            with trio.move_on_after(0.3):  # ws.ping() waits forever once the peer is gone
                await ws.ping(b"hello")
            assert await closed_code(ws) == 1006
            assert sim.stats.endings == {"protocol ping first": 1}


async def test_a_protocol_ping_after_a_json_message_is_answered(tape: Tape) -> None:
    with trio.fail_after(5):
        async with serving(tape) as sim, client(sim) as ws:
            await ws.send_message(bitunix.ping_frame(1))
            assert (await next_json(ws))["pong"] == 1
            with trio.fail_after(1):
                await ws.ping(b"hello")


async def test_only_the_public_path_is_served(tape: Tape) -> None:
    with trio.fail_after(5):
        async with serving(tape) as sim:
            assert await handshake_status(sim.ws_url.replace("/public/", "/private/")) == 404
            assert await handshake_status(sim.ws_url) == 101


async def test_aligned_frames_carry_the_wall_clock_and_the_recordings_minutes(
    tape: Tape,
) -> None:
    with trio.fail_after(10):
        async with serving(tape, speed=1.0) as sim, client(sim) as ws:
            assert sim.shift_ms % MINUTE_MS == 0
            await ws.send_message(bitunix.subscribe_frame("BTCUSDT", [KLINE]))
            for _ in range(4):
                push = await next_json(ws)
                now = time.time() * 1000
                assert 0 <= now - push["ts"] < 500
                bucket = push["ts"] // MINUTE_MS * MINUTE_MS
                assert bucket == now // MINUTE_MS * MINUTE_MS or now % MINUTE_MS < 500
                recorded = {b.bar.open_time: b.bar for b in tape.bars[("BTCUSDT", MINUTE_MS)]}
                assert push["data"]["o"] == str(recorded[bucket - sim.shift_ms].open)


def sim_command(home: Path, recording: Path) -> list[str]:
    """``trio-paper sim`` as a user runs it: the console script beside this Python."""
    script = Path(sys.executable).with_name("trio-paper")
    return [str(script), "sim", "--home", str(home), "--file", str(recording)]


async def test_the_cli_prints_its_urls_and_serves_until_sigterm(
    demo_recording: Path, tmp_path: Path
) -> None:
    with trio.fail_after(20):
        command = [*sim_command(tmp_path, demo_recording), "--port", "0", "--fault", "stall@600:5"]
        process = await trio.lowlevel.open_process(command, stdout=subprocess.PIPE, cwd=tmp_path)
        try:
            assert process.stdout is not None
            output = b""
            while b"rest:" not in output or not output.endswith(b"\n"):
                chunk = await process.stdout.receive_some()
                assert chunk, output
                output += chunk
            text = output.decode()
            ws_url = re.search(r"websocket: (ws://127\.0\.0\.1:\d+/public/)", text)
            rest_url = re.search(r"rest: +(http://127\.0\.0\.1:\d+)", text)
            assert ws_url
            assert rest_url
            assert "faults:    stall@600:5" in text
            async with websocket(ws_url[1]) as ws:
                assert await ws.get_message() == CONNECT
                await ws.send_message(bitunix.subscribe_frame("BTCUSDT", [KLINE]))
                assert "ch" in orjson.loads(await ws.get_message())
            process.send_signal(signal.SIGTERM)
            assert await process.wait() == 0
            rest = b""
            while chunk := await process.stdout.receive_some():
                rest += chunk
            assert "stopping (SIGTERM)" in rest.decode()
        finally:
            if process.returncode is None:
                process.kill()
            await process.wait()
            if process.stdout is not None:
                await process.stdout.aclose()


async def test_the_cli_names_a_bad_fault_spec(demo_recording: Path, tmp_path: Path) -> None:
    with trio.fail_after(20):
        result = await trio.run_process(
            [*sim_command(tmp_path, demo_recording), "--fault", "stall@x"],
            capture_stdout=True, capture_stderr=True, check=False, cwd=tmp_path,
        )  # fmt: skip
        assert result.returncode == 2
        assert b"--fault 'stall@x': at: not a number of seconds: 'x'" in result.stderr
