"""The hostile faults of issue 11 as a client sees them, over a real loopback socket: absurd
values and far-future stamps pass the schema and are refused by the sanity bounds; a flood is
thousands of frames a second."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
import trio

from tests.sim.test_binance_sim import DEMO as BINANCE_DEMO
from tests.sim.test_binance_sim import serving, urls
from tests.sim.test_faults import received, subscribed
from tests.sim.wsclient import websocket
from trio_paper.codec import MalformedMessage
from trio_paper.config import Config
from trio_paper.core import sanity_bounds
from trio_paper.model import Parsed
from trio_paper.sim.faults import FaultPlan
from trio_paper.sim.tape import Tape, load_tape
from trio_paper.venues.binance_usdm import ws as binance
from trio_paper.venues.bitunix import ws as bitunix


@pytest.fixture(scope="module")
def tape(demo_recording: Path) -> Tape:
    return load_tape(demo_recording)


def refused(
    messages: list[str | bytes],
    received_ms: int,
    parse: Callable[[str | bytes], Parsed] = bitunix.parse_frame,
) -> list[str]:
    """Why the bounds refused each message: every message passes the schema."""
    bounds = sanity_bounds(Config())
    reasons = []
    for message in messages:
        parsed = parse(message)
        try:
            bounds.check(parsed, received_ms, "BTCUSDT")
        except MalformedMessage as exc:
            reasons.append(f"{exc.where}: {exc.reason}")
    return reasons


@pytest.mark.parametrize(("spec", "count", "says"), [
    ("absurd@0.4,count=3", 3, "outside"),
    ("future@0.4,count=2", 2, "from the receive time"),
])  # fmt: skip
async def test_absurd_and_future_copies_pass_the_schema_and_fail_the_bounds(
    tape: Tape, spec: str, count: int, says: str
) -> None:
    with trio.fail_after(5):
        async with subscribed(tape, spec) as (sim, ws):
            messages, _ = await received(ws, sim.timeline.t0 + 1)
            reasons = refused(messages, sim.exchange_now())
    assert len(reasons) == count
    assert all(says in reason for reason in reasons), reasons


@pytest.mark.parametrize(("spec", "count", "says"), [
    ("absurd@0.4,count=4", 4, ("outside", "beyond")),
    ("future@0.4,count=2", 2, ("from the receive time",)),
])  # fmt: skip
@pytest.mark.parametrize("carries", ["market", "quotes"])
async def test_binance_absurd_and_future_copies_pass_the_schema_and_fail_the_bounds(
    spec: str, count: int, says: tuple[str, ...], carries: str
) -> None:
    """Before, these faults wrote Bitunix's keys into Binance's envelopes: nothing absurd."""
    with trio.fail_after(5):
        async with (
            serving(load_tape(BINANCE_DEMO), faults=FaultPlan.parse([spec])) as sim,
            websocket(urls(sim)[carries]) as ws,
        ):
            messages, _ = await received(ws, sim.timeline.t0 + 1.5)
            reasons = refused(messages, sim.exchange_now(), binance.parse_frame)
    assert len(reasons) == count, reasons
    assert all(any(word in reason for word in says) for reason in reasons), reasons


async def test_a_flood_sends_each_push_many_times(tape: Tape) -> None:
    with trio.fail_after(10):
        async with subscribed(tape, "flood@0.4:0.5,count=300") as (sim, ws):
            messages, _ = await received(ws, sim.timeline.t0 + 1.5)
            flooded = sim.stats.frames_sent
    assert len(messages) > 1000
    assert flooded >= len(messages) - 5
    assert str(FaultPlan.parse(["flood@1"])) == "flood@1:5,count=200"
