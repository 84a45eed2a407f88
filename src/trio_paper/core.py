"""The functional core: one input item in, journal records out — live and replay alike.

``Core.on_item`` is the only door: a live session records an item and then hands it here; a
replay reads the item back and hands it here. Nothing else reaches the decoder or the engine,
so the journal is a function of the recording, byte for byte.
"""

from __future__ import annotations

from typing import Any

import attrs

from .codec import MalformedMessage, converter, structure
from .config import Config
from .engine.engine import Engine, EngineState, Record, fresh_state
from .engine.strategies import Strategy
from .inputs import (
    Backfill,
    FeedConnected,
    FeedDisconnected,
    FeedStale,
    Frame,
    Item,
    KillSwitch,
    SessionStart,
    StopRequested,
    Subscribed,
    Tick,
)
from .model import Bar
from .venues import bitunix, bitunix_rest
from .venues.decoder import MarketDecoder

CHECKPOINT_SCHEMA = 1


@attrs.define
class CoreState:
    """Everything the core remembers: saved whole in a checkpoint."""

    decoder: MarketDecoder
    engine: EngineState
    run_id: str = ""
    last_seq: int = 0


class Core:
    """Decoder and engine for one symbol. ``notices`` collects what deserves a log line."""

    def __init__(
        self, config: Config, strategy: Strategy[Any, Any], state: CoreState | None = None
    ) -> None:
        self.config = config
        self.interval_ms = bitunix.INTERVALS[config.venue.interval]
        if state is None:
            decoder = MarketDecoder.create(
                config.venue.symbol, self.interval_ms, int(config.feed.bar_grace_s * 1000)
            )
            state = CoreState(decoder, fresh_state(config))
        self.state = state
        self.decoder = state.decoder
        self.engine = Engine(config, strategy, state.engine)
        self.notices = self.engine.notices

    def snapshot(self) -> dict[str, Any]:
        """The state as plain data, ready for a checkpoint or a ``start`` item's ``resume``."""
        self.engine.snapshot()
        data: dict[str, Any] = converter.unstructure(self.state)
        return data

    @staticmethod
    def snapshot_state(state: CoreState) -> dict[str, Any]:
        """A state as plain data, for a state edited outside a session (``trio-paper reset``)."""
        data: dict[str, Any] = converter.unstructure(state)
        return data

    @staticmethod
    def restore_state(data: dict[str, Any]) -> CoreState:
        return structure(data, CoreState, "$checkpoint")

    def on_item(self, item: Item) -> list[Record]:
        """Handle one item; return the journal records it produced (and clear them)."""
        engine = self.engine
        t = item.t
        self.state.last_seq = item.seq
        if isinstance(item, Frame):
            try:
                parsed = bitunix.parse_frame(item.raw)
            except MalformedMessage as exc:
                self.decoder.on_bad_frame()
                self.notices.append(f"bad frame seq {item.seq}: {exc}")
            else:
                for event in self.decoder.on_frame(t, parsed):
                    engine.on_market(t, event)
        elif isinstance(item, Tick):
            for bar in self.decoder.on_clock(t):
                engine.on_bar(t, bar, live=True)
            engine.on_clock(t)
        elif isinstance(item, SessionStart):
            self._start(item)
        elif isinstance(item, Backfill):
            self._backfill(item)
        elif isinstance(item, FeedConnected):
            engine.feed_event(t, "connected", url=item.url)
        elif isinstance(item, FeedDisconnected):
            self.decoder.bars.abandon()
            engine.feed_event(t, "disconnected", reason=item.reason)
        elif isinstance(item, FeedStale):
            self.decoder.bars.abandon()
            engine.feed_event(t, "stale", silent_ms=item.silent_ms)
        elif isinstance(item, Subscribed):
            engine.feed_event(t, "subscribed", channels=item.channels)
        elif isinstance(item, KillSwitch):
            engine.kill(t, item.source)
        elif isinstance(item, StopRequested):
            return self.end(t, item.reason)
        out = engine.out
        engine.out = []
        return out

    def on_candle(self, seq: int, bar: Bar) -> list[Record]:
        """The ``seq``-th input of a candle file (a bars-only replay): a bar at its close time."""
        self.state.last_seq = seq
        gap = self.decoder.bars.on_closed_bar(bar)
        if gap is not None:  # journaled as a feed gap, as a live session's would be
            self.engine.on_market(bar.open_time, gap)
        self.engine.on_bar(bar.close_time, bar, live=True)
        out = self.engine.out
        self.engine.out = []
        return out

    def end(self, t: int, reason: str) -> list[Record]:
        """Close the session (once); also used by a replay whose input simply ends."""
        if self.engine.state.started and not self.engine.state.ended:
            self.engine.end(t, reason, converter.unstructure(self.feed_health()))
        out = self.engine.out
        self.engine.out = []
        return out

    def feed_health(self) -> dict[str, int]:
        counts: dict[str, int] = converter.unstructure(self.decoder.counts)
        counts.update(converter.unstructure(self.decoder.bars.counts))
        return counts

    def _start(self, item: SessionStart) -> None:
        if item.resume is not None:
            self._resume(item.resume)
        self.state.run_id = item.run_id
        v = self.config.venue
        self.engine.start(
            item.t, item.run_id, item.resume is not None, v.name, v.symbol, v.interval
        )

    def _resume(self, data: dict[str, Any]) -> None:
        """A new session on an old account: everything carries over but the open bucket (its
        pushes stopped with the last session) and the per-session feed counts."""
        restored = self.restore_state(data)
        restored.decoder.bars.abandon()
        restored.decoder.counts = type(restored.decoder.counts)()
        restored.decoder.bars.counts = type(restored.decoder.bars.counts)()
        self.state.decoder = self.decoder = restored.decoder
        self.state.engine = restored.engine
        strategy = self.engine.strategy
        self.engine = Engine(self.config, strategy, restored.engine)
        self.engine.notices = self.notices

    def _backfill(self, item: Backfill) -> None:
        engine = self.engine
        bars: list[Bar] = []
        error = item.error
        if item.body is not None:
            try:
                bars = bitunix_rest.parse_klines(
                    item.body, self.config.venue.symbol, self.interval_ms
                )
            except (MalformedMessage, bitunix_rest.RestError) as exc:
                error = str(exc)
        accepted = self.decoder.on_backfill(item.t, bars)
        engine.feed_event(
            item.t, "backfilled", reason=item.reason, start=item.start, end=item.end,
            received=len(bars), bars=len(accepted), error=error,
        )  # fmt: skip
        for bar in accepted:
            engine.on_bar(item.t, bar, live=False)
        engine.report_history_intents(item.t)
