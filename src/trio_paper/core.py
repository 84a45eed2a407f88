"""The functional core: one input in, an ``Outcome`` out — live, replay and recovery alike.

``Core.on_item`` is the only door. A live session records an item and then hands it here; a
replay and a recovery read the item back and hand it here; a candle replay hands it closed bars.
Nothing else reaches the decoder or the engine, so the journal is a function of the inputs,
byte for byte. The outcome says what the shell must do about it: write these records, make
them durable now, fetch these missing bars, stop.
"""

from __future__ import annotations

import traceback
from decimal import Decimal
from typing import Any

import attrs

from . import venues
from .codec import MalformedMessage, converter, structure
from .config import Config
from .engine.broker import BrokerSettings
from .engine.engine import Engine, EngineSettings, EngineState, fresh_state
from .engine.records import BAR, MONEY_MOVES, Record, RecordType
from .engine.risk import RiskSettings
from .engine.strategies import Strategy
from .inputs import (
    Backfill,
    ClosedBars,
    FeedConnected,
    FeedDisconnected,
    FeedStale,
    Frame,
    Input,
    KillSwitch,
    SessionStart,
    StopRequested,
    Subscribed,
    Tick,
)
from .model import QUOTE_SOCKET, Bar, Parsed
from .venues.decoder import MarketDecoder
from .venues.sanity import Bounds

CHECKPOINT_SCHEMA = 1
HUNDRED = Decimal(100)


def engine_settings(config: Config) -> EngineSettings:
    """The engine's own settings, in its units (fractions, ms), from the user's config."""
    b, r, i = config.broker, config.risk, config.instrument
    broker = BrokerSettings(
        tick_size=i.tick_size, lot_step=i.lot_step, leverage=config.account.leverage,
        taker_fee=b.taker_fee_pct / HUNDRED, maker_fee=b.maker_fee_pct / HUNDRED,
        slippage=b.slippage_pct / HUNDRED, max_quote_age_ms=int(b.max_quote_age_s * 1000),
        participation=b.participation_pct / HUNDRED, order_ttl_ms=int(b.limit_ttl_s * 1000),
        maintenance_margin=b.maintenance_margin_pct / HUNDRED,
        fill_at_next_open=b.fill_at == "next_open",
    )  # fmt: skip
    risk = RiskSettings(
        risk_pct=r.risk_per_trade_pct, max_risk_pct=r.max_risk_per_trade_pct,
        default_stop_pct=r.default_stop_pct, max_leverage=r.max_leverage,
        max_notional=r.max_notional_usdt, min_notional=i.min_notional_usdt, lot_step=i.lot_step,
        tick_size=i.tick_size, max_orders_per_minute=r.max_orders_per_minute,
        min_entry_interval_ms=int(r.min_entry_interval_s * 1000), breaker_losses=r.breaker_losses,
        breaker_drawdown_pct=r.breaker_drawdown_pct, daily_loss_limit_pct=r.daily_loss_limit_pct,
    )  # fmt: skip
    return EngineSettings(broker, risk, config.account.starting_cash_usdt)


def sanity_bounds(config: Config) -> Bounds:
    """What an absurd market value is, from the user's config: below one tick, above
    ``max_price_usdt``, a funding rate beyond ``max_funding_rate_pct``, a time further than
    ``max_clock_skew_s`` from the receive time."""
    i = config.instrument
    return Bounds(
        min_price=i.tick_size,
        max_price=i.max_price_usdt,
        max_funding_rate=i.max_funding_rate_pct / HUNDRED,
        max_skew_ms=int(config.feed.max_clock_skew_s * 1000),
    )


@attrs.frozen
class Outcome:
    """What one input produced, and what the shell must do about it.

    ``records`` go to the journal in order; ``durable`` asks for them to be fsync'd before the
    next input (a fill, an exit, the session's start); ``backfills`` are ``(start, end)`` bucket
    ranges to fetch over REST; ``kill`` is set when the kill switch fired (the session stops);
    ``ended`` is the ``session_end`` reason once the session is closed.
    """

    records: list[Record] = attrs.Factory(list)
    durable: bool = False
    filled: bool = False
    backfills: tuple[tuple[int, int], ...] = ()
    kill: str | None = None
    ended: str | None = None

    @classmethod
    def of(cls, records: list[Record], start: bool = False) -> Outcome:
        """Read what the shell must do off the records (most inputs make none: then it is
        ``NOTHING``, no allocation)."""
        if not records and not start:
            return NOTHING
        if len(records) == 1 and not start and records[0]["type"] is BAR:
            return cls(records)  # a bar alone, most inputs of a candle file: nothing to do
        filled = False
        backfills: list[tuple[int, int]] = []
        kill = ended = None
        for record in records:
            kind = record["type"]
            if kind is BAR:  # most records of a run of bars: nothing to read off
                continue
            if kind in MONEY_MOVES:
                filled = True
            elif kind == RecordType.FEED and record.get("event") == "gap":
                backfills.append((record["start"], record["end"]))
            elif kind == RecordType.RISK and record.get("event") == "kill":
                kill = str(record.get("source"))
            elif kind == RecordType.SESSION_END:
                ended = str(record["reason"])
        return cls(records, start or filled, filled, tuple(backfills), kill, ended)


NOTHING = Outcome()


def _socket(item: FeedConnected | FeedDisconnected | FeedStale | Subscribed) -> dict[str, str]:
    """The socket a feed event is about, for its journal record (none for a one-socket venue)."""
    return {"socket": item.socket} if item.socket else {}


@attrs.define
class CoreState:
    """Everything the core remembers: saved whole in a checkpoint."""

    decoder: MarketDecoder
    engine: EngineState
    run_id: str = ""
    last_seq: int = 0


class Core:
    """Decoder and engine for one venue and symbol. ``notices`` collects what deserves a log
    line but not a journal record (a strategy's traceback, a bad frame)."""

    def __init__(
        self, config: Config, strategy: Strategy[Any, Any], state: CoreState | None = None
    ) -> None:
        self.config = config
        self.venue = venues.get(config.venue.name)
        self._parse_sane, self._parse_split = self.venue.parse_sane, self.venue.parse_split
        self.settings = engine_settings(config)
        self.bounds = sanity_bounds(config)
        self.interval_ms = self.venue.intervals[config.venue.interval]
        if state is None:
            decoder = MarketDecoder.create(
                config.venue.symbol, self.interval_ms, int(config.feed.bar_grace_s * 1000)
            )
            state = CoreState(decoder, fresh_state(self.settings))
        self.state = state
        self.decoder = state.decoder
        self.engine = Engine(self.settings, strategy, state.engine)
        self.notices = self.engine.notices
        self.model: dict[str, str] | None = None
        """What a bars-only replay models, for its ``session_start`` record."""

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

    def on_item(self, item: Input) -> Outcome:
        """Handle one input; return what it produced.

        Fails safe: an exception from inside (a bug, or a value nothing refused) never leaves
        this door. It is journaled as a risk halt and the session goes on without new entries,
        so neither this session nor a restart that replays the same input dies of it.
        """
        try:
            if isinstance(item, Frame):  # nearly every input: handled here, no call in between
                self.state.last_seq = item.seq
                t = item.t
                # A replayed frame (``parsed`` None) is nearly always plainly sound: the venue's
                # fast path parses and checks it at once, from the fields its reader cut from
                # the text if it did. Any other frame takes the full path.
                one = None
                if item.parsed is None:
                    fields = item.fields
                    one = (
                        self._parse_split(fields, t, self.bounds)
                        if fields
                        else self._parse_sane(item.raw, t, self.bounds)
                    )
                if one is not None:
                    events = self.decoder.on_event(t, one)
                else:
                    sane = self._checked(item)
                    events = [] if sane is None else self.decoder.on_frame(t, sane)
                engine = self.engine
                for event in events:
                    engine.on_market(t, event)
                out = engine.out
                if not out:
                    return NOTHING
                engine.out = []
                return Outcome.of(out)
            return self._on_item(item)
        except Exception as exc:
            return self._failed(item, exc)

    def _failed(self, item: Input, exc: Exception) -> Outcome:
        self._note_failure(f"{type(item).__name__} seq {item.seq}", item.t, exc)
        return Outcome.of(self._take(), start=True)

    def _note_failure(self, what: str, t: int, exc: Exception) -> None:
        """Log the error with its traceback and halt entries (a ``risk`` record)."""
        self.notices.append(f"engine error on {what}: " + "".join(traceback.format_exception(exc)))
        try:
            self.engine.halt_on_error(t, f"engine error: {type(exc).__name__}: {exc}")
        except Exception as again:  # the engine is past saving: at least keep the session
            self.notices.append(f"engine halt failed too: {type(again).__name__}: {again}")

    def _closed_bars(self, item: ClosedBars) -> Outcome:
        """Each bar as the one input it is, in the engine's loop (``Engine.on_closed_bars``): a
        bar that fails is noted and halts entries, and the next goes on."""
        bars, first = item.bars, item.first_seq
        gaps = list(map(self.decoder.bars.on_closed_bar, bars))
        failures: list[int] = []

        def failed(i: int, exc: Exception) -> None:
            self._note_failure(f"ClosedBars seq {first + i}", bars[i].close_time, exc)
            failures.append(i)

        self.state.last_seq = first + len(bars) - 1
        self.engine.on_closed_bars(bars, item.settlements, gaps, failed)
        return Outcome.of(self._take(), start=bool(failures))

    def _on_item(self, item: Input) -> Outcome:
        if isinstance(item, ClosedBars):
            return self._closed_bars(item)
        t = item.t
        self.state.last_seq = item.seq
        if isinstance(item, Tick):
            for bar in self.decoder.on_clock(t):
                self.engine.on_bar(t, bar, live=True)
            self.engine.on_clock(t)
        elif isinstance(item, SessionStart):
            self._start(item)
            return Outcome.of(self._take(), start=True)
        elif isinstance(item, Backfill):
            self._backfill(item)
        elif isinstance(item, FeedConnected):
            self.engine.feed_event(t, "connected", url=item.url, **_socket(item))
        elif isinstance(item, FeedDisconnected):
            if item.socket != QUOTE_SOCKET:
                self.decoder.bars.abandon()
            self.engine.feed_event(t, "disconnected", reason=item.reason, **_socket(item))
        elif isinstance(item, FeedStale):
            if item.socket != QUOTE_SOCKET:
                self.decoder.bars.abandon()
            self.engine.feed_event(t, "stale", silent_ms=item.silent_ms, **_socket(item))
        elif isinstance(item, Subscribed):
            self.engine.feed_event(t, "subscribed", channels=item.channels, **_socket(item))
        elif isinstance(item, KillSwitch):
            self.engine.kill(t, item.source)
        elif isinstance(item, StopRequested):
            return self.end(t, item.reason)
        return Outcome.of(self._take())

    def end(self, t: int, reason: str) -> Outcome:
        """Close the session (once); also used by a replay whose input simply ends."""
        if self.engine.state.started and not self.engine.state.ended:
            self.engine.end(t, reason, converter.unstructure(self.feed_health()))
        return Outcome.of(self._take())

    def feed_health(self) -> dict[str, int]:
        counts: dict[str, int] = converter.unstructure(self.decoder.counts)
        counts.update(converter.unstructure(self.decoder.bars.counts))
        return counts

    def _take(self) -> list[Record]:
        out = self.engine.out
        if out:
            self.engine.out = []
        return out

    def _checked(self, item: Frame) -> Parsed | None:
        """The frame's events if it is well-formed and sane; else None, counted and noted."""
        parsed: Parsed | MalformedMessage | None = item.parsed
        if parsed is None:
            try:
                parsed = self.venue.parse_frame(item.raw)
            except MalformedMessage as exc:
                parsed = exc
        if not isinstance(parsed, MalformedMessage):
            try:
                self.bounds.check(parsed, item.t, self.decoder.symbol)
            except MalformedMessage as exc:
                parsed = exc
        if isinstance(parsed, MalformedMessage):
            self.decoder.on_bad_frame()
            self.notices.append(f"bad frame seq {item.seq}: {parsed}")
            return None
        return parsed

    def _start(self, item: SessionStart) -> None:
        if item.resume is not None:
            self._resume(item.resume)
        self.state.run_id = item.run_id
        v = self.config.venue
        self.engine.start(
            item.t, item.run_id, item.resume is not None, v.name, v.symbol, v.interval, self.model
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
        self.engine = Engine(self.settings, strategy, restored.engine)
        self.engine.notices = self.notices

    def _backfill(self, item: Backfill) -> None:
        engine = self.engine
        bars: list[Bar] = []
        error = item.error
        if item.body is not None:
            try:
                parsed = self.venue.parse_klines(
                    item.body, self.config.venue.symbol, self.interval_ms
                )
                self.bounds.check_bars(parsed, item.t)
                bars = parsed
            except (MalformedMessage, venues.RestError) as exc:
                error = str(exc)
        accepted = self.decoder.on_backfill(item.t, bars)
        engine.feed_event(
            item.t, "backfilled", reason=item.reason, start=item.start, end=item.end,
            received=len(bars), bars=len(accepted), error=error,
        )  # fmt: skip
        for bar in accepted:
            engine.on_bar(item.t, bar, live=False)
        engine.report_history_intents(item.t)
