"""From parsed frames to the market events the engine trades on, for one symbol.

Venue-neutral and sans-IO: it takes what a venue's ``parse_frame`` returned, with the time the
frame was received, keeps the bar buckets, filters other symbols, and counts everything it
drops. Its state is part of every checkpoint.
"""

from __future__ import annotations

import attrs

from ..model import (
    Bar,
    BarGap,
    BarUpdate,
    Connected,
    ControlMessage,
    MarketEvent,
    MarkPrice,
    Parsed,
    Pong,
    Quote,
    SubscribeResult,
)
from .bars import BarBuilder

_CONTROL = (Connected, Pong, SubscribeResult)
_NO_TS = (Bar, BarGap)
"""Tuples, not ``A | B`` unions: ``isinstance`` checks a tuple about three times faster, and
these run for every event of every frame."""


@attrs.define
class FeedCounts:
    """Feed health, as the summary reports it."""

    frames: int = 0
    bad_frames: int = 0
    unknown_keys: int = 0
    other_symbols: int = 0
    backfilled_bars: int = 0


@attrs.define
class MarketDecoder:
    """Turns ``(receive time, parsed frame)`` into market events for ``symbol``.

    ``skew_ms`` is the venue's clock minus ours, from the latest push; a timer input at local
    time ``t`` closes bars as if the venue's clock read ``t + skew_ms``.
    """

    symbol: str
    bars: BarBuilder
    counts: FeedCounts = attrs.Factory(FeedCounts)
    skew_ms: int = 0

    @classmethod
    def create(cls, symbol: str, interval_ms: int, grace_ms: int) -> MarketDecoder:
        return cls(symbol, BarBuilder(symbol, interval_ms, grace_ms))

    def on_frame(self, t: int, parsed: Parsed) -> list[MarketEvent]:
        if parsed.unknown:
            self.counts.unknown_keys += len(parsed.unknown)
        events = parsed.events
        if len(events) == 1:  # nearly every frame
            return self.on_event(t, events[0])
        self.counts.frames += 1
        return self._events(t, events)

    def on_event(self, t: int, one: MarketEvent | ControlMessage) -> list[MarketEvent]:
        """A frame of one event: ``on_frame`` of ``Parsed((one,))``, without building it (a
        replayed push the venue found plainly sane comes as its event alone)."""
        self.counts.frames += 1
        if (type(one) is Quote or type(one) is MarkPrice) and one.symbol == self.symbol:
            self.skew_ms = one.ts - t
            return [one]
        if type(one) is BarUpdate and one.symbol == self.symbol:
            self.skew_ms = one.ts - t
            if one.interval_ms == self.bars.interval_ms:
                return self.bars.on_update(one)
            return []
        return self._events(t, (one,))

    def _events(
        self, t: int, events: tuple[MarketEvent | ControlMessage, ...]
    ) -> list[MarketEvent]:
        out: list[MarketEvent] = []
        for event in events:
            if isinstance(event, _CONTROL):
                continue  # the feed's business, not the engine's
            if event.symbol != self.symbol:
                self.counts.other_symbols += 1
                continue
            if not isinstance(event, _NO_TS):  # venue parsers emit neither
                self.skew_ms = event.ts - t
            if isinstance(event, BarUpdate):
                if event.interval_ms == self.bars.interval_ms:
                    out += self.bars.on_update(event)
            else:
                out.append(event)
        return out

    def on_bad_frame(self) -> None:
        self.counts.frames += 1
        self.counts.bad_frames += 1

    def on_clock(self, t: int) -> list[Bar]:
        return self.bars.on_clock(t + self.skew_ms)

    def on_backfill(self, t: int, bars: list[Bar]) -> list[Bar]:
        accepted = self.bars.on_backfill(
            [b for b in bars if b.symbol == self.symbol and b.interval_ms == self.bars.interval_ms],
            t + self.skew_ms,
        )
        self.counts.backfilled_bars += len(accepted)
        return accepted
