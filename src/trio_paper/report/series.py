"""Long series made chart-sized while streaming: gap-cut time, M4 buckets, merged markers.

A year of 1-minute bars is 525,600 points; a chart is about a thousand pixels wide. Everything
here keeps a bounded number of buckets and doubles the bucket width when they outgrow it, so
memory stays flat however long the journal is, and the drawn line is the one all the points
would draw at that width.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence

import attrs

MAX_CUTS = 50


@attrs.frozen
class Cut:
    """A stretch with no data, cut out of the chart's time axis: real ``before`` → ``after``."""

    before: int
    after: int
    removed: int  # ms removed from the axis up to and including this cut


class TimeAxis:
    """Engine time → chart time, with data gaps longer than ``cut_after_ms`` cut out.

    A backtest over three stretches of candles a year apart would otherwise draw three slivers
    on an empty axis; the chart marks each cut instead.
    """

    def __init__(self, step_ms: int, cut_after_ms: int) -> None:
        self.step_ms = step_ms
        self.cut_after_ms = cut_after_ms
        self.cuts: list[Cut] = []
        self.first: int | None = None
        self.last: int | None = None

    def advance(self, t: int) -> bool:
        """Note a series point at ``t`` (in time order); True if it starts after a new cut."""
        if self.first is None or self.last is None:
            self.first = self.last = t
            return False
        cut = False
        gap = t - self.last
        if gap > self.cut_after_ms and len(self.cuts) < MAX_CUTS:
            removed = (self.cuts[-1].removed if self.cuts else 0) + gap - self.step_ms
            self.cuts.append(Cut(self.last, t, removed))
            cut = True
        self.last = max(self.last, t)
        return cut

    def continues(self, ts: Sequence[int]) -> bool:
        """Whether ``advance`` over ``ts`` (increasing) would cut nothing and ``x`` of each is
        plain ``t`` less the cuts so far: then ``extend`` does the same, at once."""
        if self.cuts and ts[0] < self.cuts[-1].after:
            return False
        if len(self.cuts) >= MAX_CUTS:
            return True
        if self.last is not None and ts[0] - self.last > self.cut_after_ms:
            return False
        return len(ts) < 2 or max(map(int.__sub__, ts[1:], ts[:-1])) <= self.cut_after_ms

    def extend(self, ts: Sequence[int]) -> list[int]:
        """``advance`` over ``ts`` that ``continues``; their chart times."""
        if self.first is None or self.last is None:
            self.first = self.last = ts[0]
        self.last = max(self.last, ts[-1])
        removed = self.cuts[-1].removed if self.cuts else 0
        return [t - removed for t in ts] if removed else list(ts)

    def x(self, t: int) -> int:
        """Chart time of ``t``; a time inside a cut sits at the cut."""
        cuts = self.cuts
        if not cuts:
            return t
        if t >= cuts[-1].after:
            return t - cuts[-1].removed
        removed = 0
        for cut in cuts:
            if t <= cut.before:
                break
            if t < cut.after:
                return cut.before - removed + self.step_ms // 2
            removed = cut.removed
        return t - removed

    def segments(self) -> list[tuple[int, int]]:
        """The real-time stretches with data, in order: ``[(start, end), ...]``."""
        if self.first is None or self.last is None:
            return []
        bounds = [self.first]
        for cut in self.cuts:
            bounds += [cut.before, cut.after]
        bounds.append(self.last)
        return list(zip(bounds[::2], bounds[1::2], strict=True))


Point = tuple[float, float]


class Downsampled:
    """A line of ``(x, y)`` points kept as at most about ``limit`` buckets of equal width.

    Each bucket holds its first, last, lowest and highest point (M4). The line has segments
    (one per stretch between cuts of the time axis) that never share a bucket; within one, an
    empty bucket between two full ones is a hole in the data, and the line breaks there too.
    """

    def __init__(self, width: int, limit: int = 1200) -> None:
        self.width = max(1, width)
        self.limit = limit
        self.origins: list[int] = []  # the first x of each segment
        self.spans: list[list[int]] = []  # [lowest key, highest key] of each segment
        # (segment, key) → [first x, first y, last x, last y, low x, low y, high x, high y]
        self.buckets: dict[tuple[int, int], list[float]] = {}
        self.count = 0

    def add(self, x: int, y: float, new_segment: bool = False) -> None:
        if new_segment or not self.origins:
            self.origins.append(x)
            self.spans.append([0, 0])
        self.count += 1
        segment = len(self.origins) - 1
        key = (x - self.origins[segment]) // self.width
        b = self.buckets.get((segment, key))
        if b is None:
            self.buckets[segment, key] = [x, y, x, y, x, y, x, y]
            span = self.spans[segment]
            span[0], span[1] = min(span[0], key), max(span[1], key)
            while sum(hi - lo + 1 for lo, hi in self.spans) > self.limit:
                self._widen()
            return
        if x < b[0]:
            b[0], b[1] = x, y
        if x >= b[2]:
            b[2], b[3] = x, y
        if y < b[5]:
            b[4], b[5] = x, y
        if y > b[7]:
            b[6], b[7] = x, y

    def extend(self, xs: Sequence[int], ys: Sequence[float]) -> None:
        """``add`` each point, in increasing x, of one segment: the same buckets, a bucket's
        worth of points at a time (``min``, ``max`` and slices instead of a call per point).
        The ys hold no NaN: with one, ``min`` of a slice is not a point-by-point ``<``."""
        start = 0
        if not self.origins:
            self.add(xs[0], ys[0])
            start = 1
        self.count += len(xs) - start
        segment = len(self.origins) - 1
        origin = self.origins[segment]
        while start < len(xs):
            key = (xs[start] - origin) // self.width
            end = bisect_left(xs, origin + (key + 1) * self.width, start)
            part = ys[start:end]
            low, high = min(part), max(part)
            low_x, high_x = xs[start + part.index(low)], xs[start + part.index(high)]
            b = self.buckets.get((segment, key))
            if b is None:
                self.buckets[segment, key] = [xs[start], part[0], xs[end - 1], part[-1],
                                              low_x, low, high_x, high]  # fmt: skip
                span = self.spans[segment]
                span[0], span[1] = min(span[0], key), max(span[1], key)
                while sum(hi - lo + 1 for lo, hi in self.spans) > self.limit:
                    self._widen()
            else:
                b[2], b[3] = xs[end - 1], part[-1]
                if low < b[5]:
                    b[4], b[5] = low_x, low
                if high > b[7]:
                    b[6], b[7] = high_x, high
            start = end

    def _widen(self) -> None:
        self.width *= 2
        merged: dict[tuple[int, int], list[float]] = {}
        for (segment, key), b in self.buckets.items():
            into = merged.get((segment, key // 2))
            if into is None:
                merged[segment, key // 2] = b
                continue
            if b[0] < into[0]:
                into[0], into[1] = b[0], b[1]
            if b[2] >= into[2]:
                into[2], into[3] = b[2], b[3]
            if b[5] < into[5]:
                into[4], into[5] = b[4], b[5]
            if b[7] > into[7]:
                into[6], into[7] = b[6], b[7]
        self.buckets = merged
        self.spans = [[lo // 2, hi // 2] for lo, hi in self.spans]

    def runs(self) -> list[list[Point]]:
        """The line as unbroken runs of points, each in x order."""
        out: list[list[Point]] = []
        run: list[Point] = []
        previous: tuple[int, int] | None = None
        for segment, key in sorted(self.buckets):
            if run and previous != (segment, key - 1):
                out.append(run)
                run = []
            b = self.buckets[segment, key]
            run += sorted({(b[0], b[1]), (b[2], b[3]), (b[4], b[5]), (b[6], b[7])})
            previous = (segment, key)
        if run:
            out.append(run)
        return out

    def y_range(self) -> tuple[float, float] | None:
        if not self.buckets:
            return None
        values = self.buckets.values()
        return min(b[5] for b in values), max(b[7] for b in values)


@attrs.define
class Marker:
    """One or more fills of the same kind that fall on the same spot of the chart."""

    x: int  # chart time of the first
    t: int  # engine time of the first
    price: str  # as the journal wrote it
    side: str  # "buy" or "sell"
    role: str  # "entry" or "exit"
    qty: str
    count: int = 1
    last_t: int = 0

    @property
    def y(self) -> float:
        return float(self.price)


class Markers:
    """Fill markers, merged per bucket and kind so that there are at most ``limit``."""

    def __init__(self, width: int, limit: int = 600) -> None:
        self.width = max(1, width)
        self.limit = limit
        self.items: dict[tuple[int, str, str], Marker] = {}

    def add(self, x: int, t: int, price: str, side: str, role: str, qty: str) -> None:
        key = (x // self.width, side, role)
        marker = self.items.get(key)
        if marker is None:
            self.items[key] = Marker(x, t, price, side, role, qty, 1, t)
            while len(self.items) > self.limit:
                self._widen()
        else:
            marker.count += 1
            marker.last_t = t

    def _widen(self) -> None:
        self.width *= 2
        merged: dict[tuple[int, str, str], Marker] = {}
        for (key, side, role), marker in sorted(self.items.items(), key=lambda kv: kv[1].x):
            into = merged.get((key // 2, side, role))
            if into is None:
                merged[(key // 2, side, role)] = marker
            else:
                into.count += marker.count
                into.last_t = max(into.last_t, marker.last_t)
        self.items = merged

    def all(self) -> list[Marker]:
        return sorted(self.items.values(), key=lambda m: (m.x, m.side, m.role))
