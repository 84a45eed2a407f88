"""The live panel, rendered as rich draws it: what a trader needs at a glance, readable."""

from __future__ import annotations

import io
import logging
from collections.abc import Awaitable, Callable

import attrs
import pytest
import trio
from rich.console import Console

from tests.engine.enginekit import MIN, T0, D, Scripted, config, enter
from trio_paper.core import Core
from trio_paper.engine.intents import Enter, Exit
from trio_paper.model import Side
from trio_paper.runtime.feed import FeedStatus
from trio_paper.runtime.panel import StatusBoard


def render(board: StatusBoard) -> str:
    out = io.StringIO()
    Console(file=out, width=100, force_terminal=False).print(board._table())
    return out.getvalue()


async def test_the_panel_shows_strategy_mode_pnl_trades_entry_and_stop() -> None:
    with trio.fail_after(10):
        strategy = Scripted()
        core = Core(config(broker={"slippage_pct": D(0)}), strategy)
        eng = core.engine
        eng.start(T0, "panel", False, "bitunix", "BTCUSDT", "1min")
        enter(eng, strategy, T0 + 1_000, "999.9", "1000.1", Enter(Side.BUY, stop=D("990")))
        enter(eng, strategy, T0 + 2 * MIN, "1009.9", "1010.1", Exit("done"))
        enter(eng, strategy, T0 + 4 * MIN, "1019.9", "1020.0", Enter(Side.BUY, stop=D("1000")))
        long_error = "cannot connect to wss://example.invalid/public/: " + "x" * 200
        feed = FeedStatus(connected=False, connects=3, frames=10, last_error=long_error)
        board = StatusBoard(core, lambda: feed, tty=True, mode="sim")
        await trio.lowlevel.checkpoint()  # the panel reads trio's clock
        text = render(board)
    assert "trio-paper — scripted, sim" in text
    assert "1,019.95" not in text  # the mid, half a tick: shown on the 0.1 grid
    assert " 1,020.00 " in next(line for line in text.splitlines() if " price " in line)
    position = next(line for line in text.splitlines() if "position" in line)
    assert "@ 1,020.00, stop 1,000.00" in position  # bought at the ask
    realized = next(line for line in text.splitlines() if "realized PnL" in line)
    assert realized.split()[-2] != "0.00"  # the closed round trip's PnL
    assert next(line for line in text.splitlines() if " trades " in line).split()[-2] == "1"
    feed_line = next(line for line in text.splitlines() if " feed " in line)
    assert "…" in feed_line  # cut to the panel's width, not wrapped over many lines
    assert len(text.splitlines()) < 25


async def logged_status(
    caplog: pytest.LogCaptureFixture, board: StatusBoard, during: Callable[[], Awaitable[None]]
) -> str:
    """The one status line ``board`` logs (every 30 s) while ``during`` runs."""
    caplog.set_level(logging.INFO, logger="trio_paper.status")
    async with trio.open_nursery() as nursery:
        nursery.start_soon(board.run, 30.0)
        await during()
        nursery.cancel_scope.cancel()
    (line,) = [r.getMessage() for r in caplog.records if r.getMessage().startswith("status ")]
    return line


async def test_the_first_status_line_has_the_frame_rate_since_the_start(
    caplog: pytest.LogCaptureFixture, autojump_clock: trio.testing.MockClock
) -> None:
    """Before: the first line of a session's log said frames/s=0.0, whatever came in."""
    feed = FeedStatus(connected=True, connects=1, frames=0)
    board = StatusBoard(Core(config(), Scripted()), lambda: feed, tty=False)

    async def frames_arrive() -> None:
        nonlocal feed
        await trio.sleep(10)
        feed = attrs.evolve(feed, frames=300)  # 300 frames in the first 30 s
        await trio.sleep(25)

    with trio.fail_after(60):
        line = await logged_status(caplog, board, frames_arrive)
    assert "frames/s=10.0" in line
    assert " feed=up " in line


async def test_the_status_line_says_the_feed_is_down_when_it_never_connected(
    caplog: pytest.LogCaptureFixture, autojump_clock: trio.testing.MockClock
) -> None:
    """Before: an offline session's line read ``reconnects=0`` and nothing else about the feed,
    which looked like a quiet, healthy one (reconnects count successful dials only)."""
    feed = FeedStatus(connected=False, connects=0, frames=0, last_error="cannot connect")
    board = StatusBoard(Core(config(), Scripted()), lambda: feed, tty=False)

    async def nothing_arrives() -> None:
        await trio.sleep(35)

    with trio.fail_after(60):
        line = await logged_status(caplog, board, nothing_arrives)
    assert " feed=down reconnects=0 " in line
