"""Bars made chart-sized while streaming: candles merged into wider candles, at most ``limit``.

The price chart draws candlesticks when each candle gets a few pixels (a short run, or the
close-up of the last bars) and the close line otherwise. Merging two candles keeps the first
open, the last close, the highest high and the lowest low: a 2-minute candle made of two
1-minute ones is exactly the 2-minute bar.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import deque
from collections.abc import Sequence

import attrs

MAX_CANDLES = 240
"""Candlesticks while each gets at least ~4.5 px of a chart; the close line beyond."""


@attrs.define
class Candle:
    """One drawn candle: the chart time its bucket starts at (the close time of a bar that
    would be its first), and its prices (as floats: they become pixels)."""

    x: int
    open: float
    high: float
    low: float
    close: float
    bars: int = 1


class Candles:
    """Candles in buckets of equal width that double when there are more than ``limit``;
    each stretch between cuts of the time axis (a segment) starts its own buckets."""

    def __init__(self, width: int, limit: int = 1200) -> None:
        self.width = max(1, width)
        self.base = self.width
        self.limit = limit
        self.origins: list[int] = []
        self.buckets: dict[tuple[int, int], Candle] = {}

    def add(self, x: int, o: float, h: float, lo: float, c: float, new_segment: bool) -> None:
        if new_segment or not self.origins:
            self.origins.append(x)
        segment = len(self.origins) - 1
        key = (segment, (x - self.origins[segment]) // self.width)
        candle = self.buckets.get(key)
        if candle is None:
            self.buckets[key] = Candle(x, o, h, lo, c)
            if len(self.buckets) > self.limit:
                self._widen()
            return
        candle.high, candle.low = max(candle.high, h), min(candle.low, lo)
        candle.close = c
        candle.bars += 1

    def extend(
        self,
        xs: Sequence[int],
        prices: tuple[Sequence[float], Sequence[float], Sequence[float], Sequence[float]],
        stop_above: int,
    ) -> None:
        """``add`` each bar, in increasing x, of one segment, a candle's worth at a time (no
        NaN among the prices); stop once there are more than ``stop_above`` candles."""
        opens, highs, lows, closes = prices
        start = 0
        if not self.origins:
            self.add(xs[0], opens[0], highs[0], lows[0], closes[0], new_segment=True)
            start = 1
        segment = len(self.origins) - 1
        origin = self.origins[segment]
        while start < len(xs) and len(self.buckets) <= stop_above:
            key = (segment, (xs[start] - origin) // self.width)
            end = bisect_left(xs, origin + (key[1] + 1) * self.width, start)
            high, low = max(highs[start:end]), min(lows[start:end])
            candle = self.buckets.get(key)
            if candle is None:
                self.buckets[key] = Candle(
                    xs[start], opens[start], high, low, closes[end - 1], end - start
                )
                if len(self.buckets) > self.limit:
                    self._widen()
            else:
                candle.high, candle.low = max(candle.high, high), min(candle.low, low)
                candle.close = closes[end - 1]
                candle.bars += end - start
            start = end

    def _widen(self) -> None:
        self.width *= 2
        merged: dict[tuple[int, int], Candle] = {}
        for (segment, key), candle in sorted(self.buckets.items()):
            into = merged.get((segment, key // 2))
            if into is None:
                merged[segment, key // 2] = candle
                continue
            into.high, into.low = max(into.high, candle.high), min(into.low, candle.low)
            into.close = candle.close
            into.bars += candle.bars
        self.buckets = merged

    def all(self) -> list[Candle]:
        out = []
        for segment, key in sorted(self.buckets):
            candle = self.buckets[segment, key]
            candle.x = self.origins[segment] + key * self.width
            out.append(candle)
        return out

    def y_range(self) -> tuple[float, float] | None:
        if not self.buckets:
            return None
        values = self.buckets.values()
        return min(c.low for c in values), max(c.high for c in values)


class LastBars:
    """The last ``size`` bars, ``(close time, open, high, low, close)``, and the last fills:
    what the close-up chart of a long run draws."""

    def __init__(self, size: int, fills: int = 1000) -> None:
        self.bars: deque[tuple[int, float, float, float, float]] = deque(maxlen=size)
        self.fills: deque[tuple[int, str, str, str, str]] = deque(maxlen=fills)
        self.seen = 0

    def add(self, t: int, o: float, h: float, lo: float, c: float) -> None:
        self.seen += 1
        self.bars.append((t, o, h, lo, c))

    def extend(self, ts: Sequence[int], *prices: Sequence[float]) -> None:
        """``add`` each of the bars given as columns: open, high, low, close."""
        self.seen += len(ts)
        size = self.bars.maxlen or 0
        self.bars.extend(zip(ts[-size:], *(column[-size:] for column in prices), strict=True))

    def fill(self, t: int, price: str, side: str, role: str, qty: str) -> None:
        self.fills.append((t, price, side, role, qty))
