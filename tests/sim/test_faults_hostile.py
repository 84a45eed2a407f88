"""The hostile faults of issue 11 as a client sees them, over a real loopback socket: absurd
values and far-future stamps pass the schema and are refused by the sanity bounds; a flood is
thousands of frames a second."""

from __future__ import annotations

from pathlib import Path

import pytest
import trio

from tests.sim.test_faults import received, subscribed
from trio_paper.codec import MalformedMessage
from trio_paper.config import Config
from trio_paper.core import sanity_bounds
from trio_paper.sim.faults import FaultPlan
from trio_paper.sim.tape import Tape, load_tape
from trio_paper.venues.bitunix import ws as bitunix


@pytest.fixture(scope="module")
def tape(demo_recording: Path) -> Tape:
    return load_tape(demo_recording)


def refused(messages: list[str | bytes], received_ms: int) -> list[str]:
    """Why the bounds refused each message: every message passes the schema."""
    bounds = sanity_bounds(Config())
    reasons = []
    for message in messages:
        parsed = bitunix.parse_frame(message)
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


async def test_a_flood_sends_each_push_many_times(tape: Tape) -> None:
    with trio.fail_after(10):
        async with subscribed(tape, "flood@0.4:0.5,count=300") as (sim, ws):
            messages, _ = await received(ws, sim.timeline.t0 + 1.5)
            flooded = sim.stats.frames_sent
    assert len(messages) > 1000
    assert flooded >= len(messages) - 5
    assert str(FaultPlan.parse(["flood@1"])) == "flood@1:5,count=200"
