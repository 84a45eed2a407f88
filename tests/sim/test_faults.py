"""Fault plans: the spec grammar and the YAML schedule, parsed strictly; and each fault as a
client sees it, over a real loopback socket with a real trio-websocket client. (Stall, drip and
late pongs are timed exactly in ``test_simulator_timing.py``.)"""

from __future__ import annotations

import itertools
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import orjson
import pytest
import trio
from trio_websocket import (
    ConnectionClosed,
    WebSocketConnection,
)

from tests.sim.wsclient import handshake_status, websocket
from trio_paper.codec import MalformedMessage
from trio_paper.sim.faults import Fault, FaultError, FaultKind, FaultPlan
from trio_paper.sim.rules import ExchangeRules
from trio_paper.sim.simulator import Simulator, open_simulator
from trio_paper.sim.tape import Tape, load_tape
from trio_paper.venues.bitunix import ws as bitunix
from trio_paper.venues.bitunix.server import CONNECT

K = FaultKind

# --- the grammar -----------------------------------------------------------------------------


def test_a_spec_is_kind_at_seconds_with_an_optional_duration_and_parameters() -> None:
    plan = FaultPlan.parse([
        "drop@60", "stall@120:30", "drip@200:20,rate=3", "pong-late@5:10,delay=2.5",
        "duplicate@3,count=7", "refuse@0.5",
    ])  # fmt: skip
    assert plan.faults == (
        Fault(K.REFUSE, 0.5, duration=10.0),
        Fault(K.DUPLICATE, 3.0, count=7),
        Fault(K.PONG_LATE, 5.0, duration=10.0, delay=2.5),
        Fault(K.DROP, 60.0),
        Fault(K.STALL, 120.0, duration=30.0),
        Fault(K.DRIP, 200.0, duration=20.0, rate=3.0),
    )
    assert plan.cycle is None


def test_each_kind_has_defaults_and_prints_as_a_spec_that_parses_back() -> None:
    for kind in FaultKind:
        fault = Fault.make(kind, 12.5)
        assert FaultPlan.parse([str(fault)]).faults == (fault,)
    assert str(Fault.make("drip", 1)) == "drip@1:20,rate=2"
    assert str(Fault.make("garbage", 1)) == "garbage@1,count=2"
    assert str(Fault.make("close", 1)) == "close@1"


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        ("drop", "expected KIND@SECONDS"),
        ("bogus@1", "unknown fault kind 'bogus'; one of close, drop, stall"),
        ("stall@x", "at: not a number of seconds: 'x'"),
        ("drop@-1", "at must be >= 0"),
        ("drop@60:5", "drop takes no parameters, not duration"),
        ("stall@5,count=2", "stall takes duration, not count"),
        ("drip@5:0", "duration must be > 0"),
        ("drip@5,rate", "expected NAME=VALUE"),
        ("garbage@1,count=1.5", "count: not a whole number: '1.5'"),
        ("stall@5,duration=3", "write the duration as KIND@AT:DURATION"),
        ("drop@1,speed=2", "unknown parameter 'speed'"),
        ("every@60:5", "every takes no :DURATION"),
        ("every@0", "every must be > 0"),
        ("every@60,kinds=drop+nope", "unknown fault kind 'nope'"),
        ("drop@inf", "at: not a number of seconds: 'inf'"),
    ],
)
def test_a_bad_spec_is_an_error_that_names_it(spec: str, message: str) -> None:
    with pytest.raises(FaultError) as error:
        FaultPlan.parse([spec])
    assert str(error.value).startswith(f"--fault {spec!r}: ")
    assert message in str(error.value)


def test_every_cycles_through_kinds_forever_merged_with_fixed_faults() -> None:
    plan = FaultPlan.parse(["every@60,kinds=drop+stall,start=30", "garbage@100"])
    first = list(itertools.islice(plan.schedule(), 5))
    assert [str(f) for f in first] == [
        "drop@30", "stall@90:10", "garbage@100,count=2", "drop@150", "stall@210:10",
    ]  # fmt: skip
    kinds = len(FaultKind)
    default = list(itertools.islice(FaultPlan.every(60).schedule(), kinds + 1))
    assert [f.kind for f in default] == [*FaultKind, FaultKind.CLOSE]
    assert [f.at for f in default] == [60.0 * n for n in range(1, kinds + 2)]
    with pytest.raises(FaultError, match="only one 'every' cycle"):
        FaultPlan.every(60) + FaultPlan.parse(["every@30"])


def test_a_yaml_schedule_loads_faults_and_a_cycle(tmp_path: Path) -> None:
    path = tmp_path / "faults.yaml"
    path.write_text(
        "faults:\n"
        "  - {kind: drop, at: 60}\n"
        "  - {kind: drip, at: 90, duration: 15, rate: 4}\n"
        "every:\n"
        "  seconds: 120\n"
        "  kinds: [stall, pong-never]\n"
    )
    plan = FaultPlan.load(path)
    assert plan.faults == (Fault(K.DROP, 60.0), Fault(K.DRIP, 90.0, duration=15.0, rate=4.0))
    assert [str(f) for f in itertools.islice(plan.schedule(), 4)] == [
        "drop@60", "drip@90:15,rate=4", "stall@120:10", "pong-never@240:30",
    ]  # fmt: skip


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("faults:\n  - {kind: drop, at: 1}\n  - {kind: stall, at: 2, duration: ten}\n",
         "faults[1].duration: expected a number, got str 'ten'"),
        ("faults:\n  - {kind: drop, at: 1, speed: 2}\n", "speed: unknown key"),
        ("faults:\n  - {kind: bogus, at: 1}\n", "faults[0]: unknown fault kind 'bogus'"),
        ("faults:\n  - {kind: stall, at: 1, count: 3}\n", "faults[0]: stall takes duration"),
        ("faults:\n  - {kind: duplicate, at: 1, count: true}\n",
         "faults[0].count: expected int, got bool True"),
        ("faults:\n  - {kind: drop}\n", "faults[0].at: required key missing"),
        ("every: {seconds: 60, kinds: []}\n", "every: a cycle needs at least one kind"),
        ("schedule: []\n", "schedule: unknown key"),
        ("faults: [\n", "not valid YAML"),
    ],
)  # fmt: skip
def test_a_bad_schedule_names_the_file_and_the_key(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "faults.yaml"
    path.write_text(text)
    with pytest.raises(FaultError) as error:
        FaultPlan.load(path)
    assert str(error.value).startswith(f"{path}: ")
    assert message in str(error.value)


def test_a_missing_schedule_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(FaultError, match=r"nope\.yaml: cannot read"):
        FaultPlan.load(tmp_path / "nope.yaml")


# --- what a client sees ----------------------------------------------------------------------

QUICK = ExchangeRules(subscribe_delay_s=(0.01, 0.02))
AT = 0.4
"""When each fault fires: by then the client below is subscribed and receiving."""


@pytest.fixture(scope="module")
def tape(demo_recording: Path) -> Tape:
    return load_tape(demo_recording)


@asynccontextmanager
async def subscribed(tape: Tape, spec: str) -> AsyncIterator[tuple[Simulator, WebSocketConnection]]:
    """A simulator with one fault at ``AT`` and a client subscribed to kline and depth."""
    plan = FaultPlan.parse([spec])
    async with (
        open_simulator(tape, speed=20, rules=QUICK, faults=plan) as sim,
        websocket(sim.ws_url) as ws,
    ):
        assert await ws.get_message() == CONNECT
        channels = ["market_kline_1min", "depth_book1"]
        await ws.send_message(bitunix.subscribe_frame("BTCUSDT", channels))
        yield sim, ws


async def received(ws: WebSocketConnection, until: float) -> tuple[list[str | bytes], int | None]:
    """Every message until trio time ``until``, and the close code if the socket closed."""
    messages = []
    with trio.move_on_at(until):
        try:
            while True:
                messages.append(await ws.get_message())
        except ConnectionClosed as closed:
            return messages, closed.reason.code if closed.reason is not None else None
    return messages, None


def rejections(messages: list[str | bytes]) -> list[str]:
    """Why ``bitunix.parse_frame`` refused each message it refused."""
    reasons = []
    for message in messages:
        try:
            bitunix.parse_frame(message)
        except MalformedMessage as exc:
            reasons.append(f"{exc.where}: {exc.reason}")
    return reasons


async def test_close_sends_a_close_frame(tape: Tape) -> None:
    with trio.fail_after(5):
        async with subscribed(tape, f"close@{AT}") as (sim, ws):
            messages, code = await received(ws, sim.timeline.t0 + 2)
            assert code == 1000
            assert messages
            assert sim.seconds_since_start() < 1.5
            assert sim.stats.endings == {"fault: close": 1}
            assert [(f.fault.kind, f.sockets) for f in sim.stats.faults] == [(K.CLOSE, 1)]


async def test_drop_hangs_up_without_a_close_frame(tape: Tape) -> None:
    with trio.fail_after(5):
        async with subscribed(tape, f"drop@{AT}") as (sim, ws):
            messages, code = await received(ws, sim.timeline.t0 + 2)
            assert code == 1006
            assert messages
            assert sim.stats.endings == {"fault: drop": 1}


async def test_refuse_drops_sockets_and_refuses_handshakes_for_a_while(tape: Tape) -> None:
    with trio.fail_after(5):
        async with subscribed(tape, f"refuse@{AT}:0.6") as (sim, ws):
            _, code = await received(ws, sim.timeline.t0 + 2)
            assert code == 1006
            assert await handshake_status(sim.ws_url) == 503
            (fired,) = sim.stats.faults
            await trio.sleep_until(sim.timeline.t0 + fired.at + 0.6)
            assert await handshake_status(sim.ws_url) == 101
            assert sim.stats.refused == 1
            assert sim.stats.accepted == 2


async def test_garbage_is_text_that_is_not_json_and_binary_that_is_not_utf8(tape: Tape) -> None:
    with trio.fail_after(5):
        async with subscribed(tape, f"garbage@{AT}") as (sim, ws):
            messages, code = await received(ws, sim.timeline.t0 + 1)
            assert code is None
            assert [m for m in messages if isinstance(m, bytes)] == [
                b"\xff\xfe\xc3\x28 not UTF-8 \x80"
            ]
            reasons = rejections(messages)
            assert len(reasons) == 2
            assert reasons[0].startswith("$: not JSON")
            assert reasons[1] == "$: not UTF-8"


async def test_invalid_frames_break_the_schema_and_the_originals_still_come(tape: Tape) -> None:
    with trio.fail_after(5):
        async with subscribed(tape, f"invalid@{AT}") as (sim, ws):
            messages, _ = await received(ws, sim.timeline.t0 + 1)
            reasons = rejections(messages)
            assert len(reasons) == 2
            assert "expected a decimal string, got" in reasons[0]
            assert reasons[1].endswith("required key missing")
            broken = [i for i, m in enumerate(messages) if not _valid(m)]
            for index in broken:  # each broken copy comes just before its original
                copy, original = (orjson.loads(m) for m in messages[index : index + 2])
                assert _valid(messages[index + 1])
                assert copy["ch"] == original["ch"]
                assert copy.get("ts", original["ts"]) == original["ts"]


def _valid(message: str | bytes) -> bool:
    try:
        bitunix.parse_frame(message)
    except MalformedMessage:
        return False
    return True


async def test_extra_fields_come_in_a_kline_frame(tape: Tape) -> None:
    with trio.fail_after(5):
        async with subscribed(tape, f"extra@{AT}") as (sim, ws):
            messages, _ = await received(ws, sim.timeline.t0 + 1)
            (reason,) = rejections(messages)
            assert "sim_extra" in reason
            assert "unknown key" in reason
            extra = next(orjson.loads(m) for m in messages if "sim_extra" in str(m))
            assert extra["ch"] == "market_kline_1min"


async def test_duplicates_repeat_frames_back_to_back(tape: Tape) -> None:
    with trio.fail_after(5):
        async with subscribed(tape, f"duplicate@{AT},count=4") as (sim, ws):
            messages, _ = await received(ws, sim.timeline.t0 + 1)
            assert rejections(messages) == []
            pairs = [a for a, b in itertools.pairwise(messages) if a == b]
            assert len(pairs) == 4
            assert sim.stats.frames_sent == len(messages)


async def test_reorder_sends_a_frame_after_the_next_of_its_channel(tape: Tape) -> None:
    with trio.fail_after(5):
        async with subscribed(tape, f"reorder@{AT}") as (sim, ws):
            messages, _ = await received(ws, sim.timeline.t0 + 1)
            assert rejections(messages) == []
            last: dict[str, int] = {}
            backwards = 0
            for message in messages:
                push = orjson.loads(message)
                if "ch" in push:
                    backwards += push["ts"] < last.get(push["ch"], 0)
                    last[push["ch"]] = push["ts"]
            assert backwards == 3
