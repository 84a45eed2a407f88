"""BarBuilder with a venue's closed flag (Binance's ``k.x``): the bar closes on that push, at
once and exactly once; later pushes for it are late; unflagged pushes behave as before."""

from __future__ import annotations

from decimal import Decimal

import attrs

from trio_paper.model import Bar, BarGap, BarUpdate
from trio_paper.venues.bars import BarBuilder, BarCounts

MIN = 60_000
T0 = 1746662400000  # 2025-05-08T00:00:00Z


def push(minute: int, at_ms: int, close: str = "100", *, closed: bool = False) -> BarUpdate:
    open_time = T0 + minute * MIN
    return BarUpdate(
        "BTCUSDT", MIN, open_time, Decimal("100"), Decimal("110"), Decimal("90"),
        Decimal(close), Decimal("1.5"), Decimal("150"), open_time + at_ms, closed=closed,
    )  # fmt: skip


def bar_of(update: BarUpdate) -> Bar:
    return Bar(
        "BTCUSDT", MIN, update.open_time, update.open, update.high, update.low, update.close,
        update.volume, update.quote_volume, "ws",
    )  # fmt: skip


def test_closed_defaults_to_false_and_is_keyword_only() -> None:
    update = push(0, 1_000)
    assert update.closed is False
    assert attrs.fields(BarUpdate).closed.kw_only


def test_a_closed_push_closes_its_bar_at_once_with_its_own_values() -> None:
    b = BarBuilder("BTCUSDT", MIN, 2_000)
    first = push(0, 1_000, close="101")
    final = push(0, 59_999, close="104", closed=True)
    assert b.on_update(first) == [first]
    assert b.on_update(final) == [final, bar_of(final)]
    assert b.current is None
    assert b.last_closed == T0
    assert b.on_clock(T0 + 10 * MIN) == []  # the timer has nothing left to close


def test_pushes_after_the_closed_one_are_late_and_the_next_bucket_opens_cleanly() -> None:
    b = BarBuilder("BTCUSDT", MIN, 2_000)
    final = push(0, 59_999, closed=True)
    b.on_update(final)
    assert b.on_update(push(0, 59_999, close="999")) == []
    assert b.on_update(push(0, 59_999, close="999", closed=True)) == []
    nxt = push(1, 250)
    assert b.on_update(nxt) == [nxt]  # no second close of minute 0
    assert b.counts == BarCounts(late=2)


def test_a_closed_push_with_the_same_time_as_the_last_is_not_a_duplicate() -> None:
    b = BarBuilder("BTCUSDT", MIN, 2_000)
    b.on_update(push(0, 59_000, close="101"))
    final = push(0, 59_000, close="102", closed=True)
    assert b.on_update(final) == [final, bar_of(final)]
    assert b.counts.duplicates == 0


def test_a_closed_push_after_a_gap_reports_the_gap_first() -> None:
    b = BarBuilder("BTCUSDT", MIN, 2_000)
    b.on_update(push(0, 59_999, closed=True))
    final = push(3, 59_999, closed=True)
    assert b.on_update(final) == [
        BarGap("BTCUSDT", MIN, T0 + MIN, T0 + 3 * MIN),
        final,
        bar_of(final),
    ]
    assert b.counts.missing == 2
