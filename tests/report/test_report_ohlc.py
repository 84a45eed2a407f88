"""Candles merged while streaming: a wider candle is exactly the bar of the wider interval."""

from __future__ import annotations

from trio_paper.report.ohlc import Candles

MIN = 60_000


def test_two_one_minute_candles_merge_into_the_two_minute_bar() -> None:
    candles = Candles(MIN, limit=2)
    # (close time, open, high, low, close) of four 1-minute bars
    bars = [(MIN, 10, 12, 9, 11), (2 * MIN, 11, 15, 10, 14), (3 * MIN, 14, 14, 8, 9),
            (4 * MIN, 9, 10, 7, 10)]  # fmt: skip
    for t, o, h, lo, c in bars:
        candles.add(t, o, h, lo, c, new_segment=False)
    assert candles.width == 2 * MIN
    merged = candles.all()
    assert [(c.x, c.open, c.high, c.low, c.close, c.bars) for c in merged] == [
        (MIN, 10, 15, 9, 14, 2),
        (3 * MIN, 14, 14, 7, 10, 2),
    ]
    assert candles.y_range() == (7, 15)


def test_a_cut_in_the_time_axis_starts_new_candles() -> None:
    candles = Candles(MIN)
    candles.add(MIN, 1, 2, 1, 2, new_segment=False)
    candles.add(MIN + 30_000, 5, 6, 5, 6, new_segment=True)  # same bucket width, new segment
    assert len(candles.all()) == 2
