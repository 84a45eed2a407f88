"""Closing bars from kline pushes, with or without a closed flag.

A push belongs to the bucket ``ts // interval * interval``. A bucket is closed exactly once,
with the values of its last push: at once on a push marked ``closed``, when a push for a later
bucket arrives, or when the clock passes the bucket's end plus a grace. Pushes for a closed
bucket are late and are only counted; whole buckets that never got a push are reported as a
``BarGap``.
"""

from __future__ import annotations

import attrs

from ..model import Bar, BarGap, BarUpdate, MarketEvent


@attrs.define
class BarCounts:
    """What the builder refused, for feed health."""

    late: int = 0
    out_of_order: int = 0
    duplicates: int = 0
    missing: int = 0


@attrs.define
class BarBuilder:
    """Bucket state for one symbol and interval. Mutable, and saved whole in checkpoints."""

    symbol: str
    interval_ms: int
    grace_ms: int
    current: BarUpdate | None = None
    last_closed: int | None = None
    counts: BarCounts = attrs.Factory(BarCounts)
    unclosed: int | None = None
    """With no bar closed yet, the first bucket an abandoned push opened: a gap starts there."""

    def on_update(self, update: BarUpdate) -> list[MarketEvent]:
        """One push → the bar it closes (if any), a gap (if any), and the update itself."""
        bucket = update.open_time
        if self.last_closed is not None and bucket <= self.last_closed:
            self.counts.late += 1
            return []
        current = self.current
        out: list[MarketEvent] = []
        if current is not None:
            if bucket < current.open_time or (
                bucket == current.open_time and update.ts < current.ts
            ):
                self.counts.out_of_order += 1
                return []
            if bucket == current.open_time and update.ts == current.ts and not update.closed:
                self.counts.duplicates += 1
                return []
            if bucket > current.open_time:
                out.append(self._close())
        if current is None or bucket > current.open_time:  # a gap is reported once, here
            gap = self._gap_before(bucket)
            if gap is not None:
                out.append(gap)
        self.current = update
        out.append(update)
        if update.closed:  # the venue says this push is the bar's last: no need to wait
            out.append(self._close())
        return out

    def on_clock(self, exchange_now: int) -> list[Bar]:
        """Close the open bucket once ``exchange_now`` is past its end plus the grace."""
        current = self.current
        if current is None or exchange_now < current.open_time + self.interval_ms + self.grace_ms:
            return []
        return [self._close()]

    def on_backfill(self, bars: list[Bar], exchange_now: int) -> list[Bar]:
        """Bars fetched for a gap: those not yet closed, complete by now, and older than the open
        bucket are closed here, oldest first; the rest were already seen and are dropped."""
        upper = self.current.open_time if self.current is not None else None
        accepted = []
        for bar in sorted(bars, key=lambda b: b.open_time):
            if self.last_closed is not None and bar.open_time <= self.last_closed:
                continue
            if (upper is not None and bar.open_time >= upper) or bar.close_time > exchange_now:
                continue
            accepted.append(bar)
            self.last_closed = bar.open_time
        return accepted

    def on_closed_bar(self, bar: Bar) -> BarGap | None:
        """A bar that came closed (a row of a candle file): the buckets missing before it, if
        any, counted like a live gap."""
        last, step = self.last_closed, bar.interval_ms
        self.last_closed = bar.open_time
        if last is None or bar.open_time <= last + step:
            return None
        gap = BarGap(bar.symbol, step, last + step, bar.open_time)
        self.counts.missing += gap.count
        return gap

    def abandon(self) -> None:
        """Forget the open bucket without closing it: its pushes stopped (a disconnect, a stall),
        so its last values may be short of the bar's. It is fetched over REST with the gap."""
        if self.current is not None and self.last_closed is None and self.unclosed is None:
            self.unclosed = self.current.open_time
        self.current = None

    def _close(self) -> Bar:
        u = self.current
        assert u is not None
        self.current = None
        self.last_closed = u.open_time
        return Bar(
            u.symbol,
            u.interval_ms,
            u.open_time,
            u.open,
            u.high,
            u.low,
            u.close,
            u.volume,
            u.quote_volume,
            "ws",
        )

    def _gap_before(self, bucket: int) -> BarGap | None:
        if self.last_closed is not None:
            start = self.last_closed + self.interval_ms
        elif self.unclosed is not None:
            start = self.unclosed
        else:
            return None
        if bucket <= start:
            return None
        gap = BarGap(self.symbol, self.interval_ms, start, bucket)
        self.counts.missing += gap.count
        return gap
