"""``RestKlines`` against the simulator's REST server over loopback: whole pages whether
``endTime`` is inclusive or not, holes asked for again, failures retried (issue 11, items 4
and 7)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
import trio

from trio_paper.runtime.backfill import RestKlines
from trio_paper.sim.rules import ExchangeRules
from trio_paper.sim.simulator import open_simulator
from trio_paper.sim.tape import Tape, load_tape
from trio_paper.times import MINUTE_MS
from trio_paper.venues.bitunix import VENUE as BITUNIX
from trio_paper.venues.bitunix import rest as bitunix_rest


@pytest.fixture(scope="module")
def tape(demo_recording: Path) -> Tape:
    return load_tape(demo_recording)


@pytest.mark.parametrize("inclusive", [False, True], ids=["endTime exclusive", "inclusive"])
async def test_a_backfill_over_two_pages_has_every_bar(tape: Tape, inclusive: bool) -> None:
    """202 minutes: a page of 199 and one of 3. Before, pages of exactly 200 against an
    inclusive ``endTime`` came back with 201 bars, the oldest of each silently dropped."""
    rules = ExchangeRules(kline_end_inclusive=inclusive)
    with trio.fail_after(20):
        async with open_simulator(tape, speed=240, rules=rules) as sim, httpx.AsyncClient() as c:
            await trio.sleep(1.0)  # 4 minutes served after the recording's history
            end = (sim.exchange_now() // MINUTE_MS - 1) * MINUTE_MS
            oldest = tape.history[("BTCUSDT", MINUTE_MS)][0].open_time + sim.shift_ms
            start = end - 202 * MINUTE_MS
            assert oldest <= start, "the simulator has fewer bars than the test asks for"
            rest = RestKlines(BITUNIX, sim.rest_url, "BTCUSDT", "1min")
            pages = await rest.pages(start, end, c)
    assert all(page.error is None for page in pages)
    times = set()
    for page in pages:
        assert page.body is not None
        times |= {b.open_time for b in bitunix_rest.parse_klines(page.body, "BTCUSDT", MINUTE_MS)}
    assert set(range(start, end, MINUTE_MS)) <= times
    asked = [(p.start, p.end) for p in pages]
    assert asked[:2] == [(start, start + 199 * MINUTE_MS), (start + 199 * MINUTE_MS, end)]


async def test_a_page_with_a_hole_is_asked_for_again(tape: Tape) -> None:
    """A server that keeps only the newest 150 of a page: the hole is one more request."""
    rules = ExchangeRules(max_kline_page=150)
    with trio.fail_after(20):
        async with open_simulator(tape, speed=240, rules=rules) as sim, httpx.AsyncClient() as c:
            await trio.sleep(0.6)
            end = (sim.exchange_now() // MINUTE_MS - 1) * MINUTE_MS
            start = end - 180 * MINUTE_MS
            rest = RestKlines(BITUNIX, sim.rest_url, "BTCUSDT", "1min")
            pages = await rest.pages(start, end, c)
    assert [(p.start, p.end) for p in pages] == [
        (start, end), (start, start + 30 * MINUTE_MS),
    ]  # fmt: skip


async def test_a_failed_request_is_retried_with_a_doubling_pause(
    autojump_clock: trio.testing.MockClock,
) -> None:
    """A REST base with nothing listening (a closed loopback port): four tries, 1, 2, 4 s
    apart, then the error is the page's."""
    listener = (await trio.open_tcp_listeners(0, host="127.0.0.1"))[0]
    port = listener.socket.getsockname()[1]
    await listener.aclose()
    rest = RestKlines(BITUNIX, f"http://127.0.0.1:{port}", "BTCUSDT", "1min")
    with trio.fail_after(60):
        async with httpx.AsyncClient() as client:
            started = trio.current_time()
            pages = await rest.pages(0, 10 * MINUTE_MS, client, retries=3)
            took = trio.current_time() - started
    assert len(pages) == 1
    assert pages[0].error is not None
    assert took == pytest.approx(1 + 2 + 4, abs=0.5)
