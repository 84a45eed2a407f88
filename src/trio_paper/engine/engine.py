"""The engine: one market or session event in, journal records out. Strategy → risk → broker.

Synchronous and pure: it reads no clock, socket, file or environment. Its time is the ``t`` of
the input it is handling. Every output is a record appended to ``out``; things worth a log line
but not a journal record (a strategy's traceback) go to ``notices``.
"""

from __future__ import annotations

import traceback
from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import attrs

from ..model import (
    QUOTE_SOCKET,
    Bar,
    BarGap,
    BarUpdate,
    MarketEvent,
    MarkPrice,
    Quote,
    Settlement,
    Ticker,
    Trade,
)
from ..times import DAY_MS
from .broker import Broker, BrokerSettings
from .intents import CancelEntries, Enter, Exit
from .records import BAR, Record, RecordType
from .risk import Risk, RiskSettings, RiskState
from .state import ZERO, Account, BrokerState
from .strategies import Strategy, View

SCHEMA = 2
"""The journal's schema version; ``session_start`` carries it. See docs/events.md."""
MAX_STRATEGY_ERRORS = 10


@attrs.define
class EngineState:
    broker: BrokerState
    risk: RiskState = attrs.Factory(RiskState)
    strategy: Any = None
    seq: int = 0
    strategy_errors: int = 0
    strategy_disabled: bool = False
    feed_down_since: int | None = None
    down: list[str] = attrs.Factory(list)
    """The named sockets down or stale now, where a venue has several: the session is down
    while any one is, and ``recovered`` is journaled when the last one brings data again."""
    started: bool = False
    ended: bool = False
    t: int = 0
    """The time of the last input handled: a restored engine carries on from it."""


@attrs.frozen
class EngineSettings:
    """What the engine needs to know, in its own units (fractions, ms), decided before it runs:
    built from ``Config`` by ``core.engine_settings``; the engine never sees the config."""

    broker: BrokerSettings
    risk: RiskSettings
    starting_cash: Decimal


def fresh_state(settings: EngineSettings) -> EngineState:
    return EngineState(BrokerState(Account(settings.starting_cash)))


class Engine:
    """Strategy → risk → broker for one symbol: one event in, journal records out (``out``).

    Pure and synchronous; its state (``EngineState``) is plain data, saved whole in every
    checkpoint. ``Core`` is its only caller.
    """

    def __init__(
        self, settings: EngineSettings, strategy: Strategy[Any, Any], state: EngineState
    ) -> None:
        self.settings = settings
        self.strategy = strategy
        self.state = state
        if state.strategy is not None:
            strategy.restore(state.strategy)
        self.broker = Broker(settings.broker, state.broker, self._emit, self._trade_closed)
        self.risk = Risk(settings.risk, state.risk, self.broker, self._emit)
        self.t = state.t
        self._wants_quotes = type(strategy).on_quote is not Strategy.on_quote
        self.history_intents = 0
        """Entries asked for on history bars since the last look: refused, reported in bulk."""
        self.out: list[Record] = []
        self.notices: list[str] = []
        self._flat: tuple[Decimal | None, Decimal] = (None, ZERO)
        """The cash a quiet bar last saw and its equity: the same object while the cash is,
        which is how the journal knows a bar it may leave out at a glance (bars_beside)."""

    # --- records -------------------------------------------------------------------------------

    def _emit(self, kind: RecordType, /, **fields: Any) -> None:
        self.state.seq += 1
        self.out.append({"seq": self.state.seq, "ts": self.t, "type": kind, **fields})

    def _trade_closed(self, net: Decimal) -> None:
        self.risk.on_trade_closed(net)

    def snapshot(self) -> EngineState:
        self.state.strategy = self.strategy.snapshot()
        return self.state

    # --- session events --------------------------------------------------------------------------

    def start(
        self, t: int, run_id: str, resumed: bool, venue: str, symbol: str, interval: str,
        model: dict[str, str] | None = None,
    ) -> None:  # fmt: skip
        """Open a session. ``model`` (a bars-only replay's) says what the run models and from
        what data; it is journaled in ``session_start`` when given."""
        self._advance(t)
        self.state.started = True
        self.state.ended = False
        account = self.state.broker.account
        extra = {} if model is None else {"model": model}
        self._emit(
            RecordType.SESSION_START, schema=SCHEMA, run_id=run_id, resumed=resumed, venue=venue,
            symbol=symbol, interval=interval, strategy=self.strategy.describe(), cash=account.cash,
            equity=self.broker.equity(), position=self.broker.position.qty, **extra,
        )  # fmt: skip

    def end(self, t: int, reason: str, feed: dict[str, Any]) -> None:
        self._advance(t)
        a = self.state.broker.account
        self.state.ended = True
        self._emit(
            RecordType.SESSION_END, reason=reason, cash=a.cash, equity=self.broker.equity(),
            position=self.broker.position.qty, trades=self.broker.closed_trades(),
            realized=a.realized, fees=a.fees, funding=a.funding,
            working_orders=len(self.state.broker.orders), feed=feed,
        )  # fmt: skip

    def feed_event(self, t: int, event: str, **fields: Any) -> None:
        """Connected, disconnected, stale, subscribed, backfilled: journaled; a drop or a stall
        also makes every price seen so far unusable for fills. ``socket`` (a venue with several)
        says which one; while the quotes' own is down, nothing fills at all."""
        self._advance(t)
        if event in ("disconnected", "stale"):
            self.broker.on_feed_down(t)
            socket = fields.get("socket")
            if socket and socket not in self.state.down:
                self.state.down.append(socket)
                if socket == QUOTE_SOCKET:
                    self.state.broker.market.quotes_down = True
            if self.state.feed_down_since is None:
                self.state.feed_down_since = t
        self._emit(RecordType.FEED, event=event, **fields)

    def _data_from(self, event: MarketEvent) -> bool:
        """Note that ``event``'s socket brings data again; True when no socket is down now."""
        down = self.state.down
        if not down:
            return True
        if isinstance(event, Quote):
            if QUOTE_SOCKET in down:
                down.remove(QUOTE_SOCKET)
                self.state.broker.market.quotes_down = False
        else:
            down[:] = [s for s in down if s == QUOTE_SOCKET]
        return not down

    def report_history_intents(self, t: int) -> None:
        """After a backfill: one ``reject`` for every entry the strategy asked for on its bars."""
        if self.history_intents:
            self._advance(t)
            count, self.history_intents = self.history_intents, 0
            self._emit(
                RecordType.REJECT, reason=f"{count} entries asked for on history bars (a backfill)"
            )

    def kill(self, t: int, source: str) -> None:
        self._advance(t)
        self.risk.kill(t, source)

    def halt_on_error(self, t: int, reason: str) -> None:
        """An input raised inside the engine: no new entries until the day's end (or
        ``trio-paper reset --halt``). Orders and the position stay: closing them at prices
        that just broke the engine could fail the same way."""
        self._advance(t)
        s = self.state.risk
        until = (s.day if s.day is not None else t // DAY_MS * DAY_MS) + DAY_MS
        s.halted_until, s.halt_reason = until, reason
        self._emit(RecordType.RISK, event="halt", reason=reason, until=until)

    def on_clock(self, t: int) -> None:
        self._advance(t)
        self.broker.on_clock(t)
        self.risk.check_limits(t)

    # --- market events ---------------------------------------------------------------------------

    def on_market(self, t: int, event: MarketEvent) -> None:
        self.t = self.state.t = t  # ``_advance``, without the call: nearly every input
        self.risk.on_time(t)
        if (
            self.state.feed_down_since is not None
            and not isinstance(event, BarGap)
            and self._data_from(event)
        ):
            self._emit(RecordType.FEED, event="recovered", down_ms=t - self.state.feed_down_since)
            self.state.feed_down_since = None
        broker = self.broker
        if isinstance(event, Quote):
            broker.on_quote(t, event)
            if self._wants_quotes:
                self._ask_strategy(t, self.strategy.on_quote, event, live=True)
        elif isinstance(event, BarUpdate):
            self._bar_volume(event)
            broker.on_last(t, event.close)
        elif isinstance(event, Bar):
            self.on_bar(t, event, live=True)
            return
        elif isinstance(event, Trade):
            broker.on_last(t, event.price)
        elif isinstance(event, MarkPrice):
            broker.on_mark(t, event)
        elif isinstance(event, BarGap):
            self._emit(
                RecordType.FEED, event="gap", start=event.start, end=event.end, bars=event.count
            )
        elif isinstance(event, Ticker):
            pass
        self.risk.check_limits(t)

    def on_bar(self, t: int, bar: Bar, live: bool, settlements: Sequence[Settlement] = ()) -> None:
        """A closed bar: fills first, then the strategy. History (``live=False``) never fills.

        ``settlements`` (a bars-only replay's funding file) are charged on the position held at
        each: one that fell in a gap before the bar ahead of its fills, the rest after them.
        """
        broker = self.broker
        self._advance(t)
        for s in settlements:
            if s.before_bar:
                broker.settle_funding(s.rate, s.mark, s.time)
        if live:
            broker.on_bar(t, bar)
        for s in settlements:
            if not s.before_bar:
                broker.settle_funding(s.rate, s.mark, s.time)
        self.risk.check_limits(t)
        equity = broker.equity()  # the record's and the view's: nothing in between moves it
        self._bar_record(bar, equity)
        if self._ask_strategy(t, self.strategy.on_bar, bar, live, equity):
            self.risk.check_limits(t)

    def on_closed_bars(
        self,
        bars: Sequence[Bar],
        settlements: Sequence[Sequence[Settlement]],
        gaps: Sequence[BarGap | None],
        failed: Callable[[int, Exception], None],
    ) -> None:
        """A run of a candle file's bars, each as ``on_bar(bar.close_time, bar, True, its
        settlements)`` takes it after its ``gaps`` (the buckets missing before it, if any); a
        bar that raises is ``failed(its index, the error)``, and the next goes on.

        Most bars of a backtest are quiet: flat, no orders, the same day, no limit to look at.
        The day's roll and the limits' checks would do nothing for them, and the equity is the
        cash; they are taken here, in one loop, with what they need looked up once a run."""
        broker, state, risk, record = self.broker, self.state, self.risk, self._bar_record
        idle, quiet, on_price = broker.idle, risk.quiet, broker.on_bar
        ask, on_bar, account = self._ask_strategy, self.strategy.on_bar, state.broker.account
        for i, (bar, due, gap) in enumerate(zip(bars, settlements, gaps, strict=True)):
            try:
                if gap is not None:  # journaled as a feed gap, as a live session's would be
                    self.on_market(bar.open_time, gap)
                t = bar.open_time + bar.interval_ms  # its close_time, without the property
                if due or not (idle() and quiet(t)):
                    self.on_bar(t, bar, True, due)
                    continue
                self.t = state.t = t
                on_price(t, bar)
                cash, equity = account.cash, self._flat[1]
                if cash is not self._flat[0]:
                    equity = cash + ZERO  # ``broker.equity()`` when flat
                    self._flat = (cash, equity)
                record(bar, equity)
                if ask(t, on_bar, bar, True, equity):
                    risk.check_limits(t)
            except Exception as exc:
                failed(i, exc)

    def _bar_record(self, bar: Bar, equity: Decimal) -> None:
        """``_emit``'s ``bar`` record spelled out: most records are bars, and this builds one
        twice as fast."""
        state = self.state
        state.seq += 1
        self.out.append({
            "seq": state.seq, "ts": self.t, "type": BAR, "open_time": bar.open_time,
            "open": bar.open, "high": bar.high, "low": bar.low, "close": bar.close,
            "volume": bar.volume, "source": bar.source, "equity": equity,
            "position": state.broker.position.qty,
        })  # fmt: skip

    # --- internals -------------------------------------------------------------------------------

    def _advance(self, t: int) -> None:
        self.t = self.state.t = t
        self.risk.on_time(t)

    def _bar_volume(self, update: BarUpdate) -> None:
        m = self.state.broker.market
        if m.bar_open != update.open_time:
            m.bar_open, m.bar_volume = update.open_time, ZERO
        if update.volume > m.bar_volume:
            if self.state.broker.orders:  # the volume only ever matters to a resting limit
                self.broker.on_volume(update.volume - m.bar_volume)
            m.bar_volume = update.volume

    def _view(self, t: int, live: bool, equity: Decimal | None = None) -> View:
        p = self.state.broker.position
        if equity is None:
            equity = self.broker.equity()
        # Positional: one is built for every bar, and attrs takes keywords a third slower.
        return View(
            t, p.qty, p.entry if p.qty else None, equity, self.state.broker.market.quote,
            self.settings.broker.tick_size, live,
        )  # fmt: skip

    def _ask_strategy(
        self, t: int, handler: Any, event: Any, live: bool, equity: Decimal | None = None
    ) -> bool:
        """Call the strategy and carry out its intents; whether anything was done (an intent,
        or its error), which is when the limits may have moved."""
        if self.state.strategy_disabled:
            return False
        try:
            intents: Sequence[object] = handler(event, self._view(t, live, equity))
        except BaseException as exc:  # user code: a BaseException subclass is its error too
            if _propagates(exc):
                raise
            self._strategy_failed(t, exc)
            return True
        for intent in intents:
            self._act(t, intent, live)
        return bool(intents)

    def _act(self, t: int, intent: object, live: bool) -> None:
        """Carry out one intent; anything else a strategy returned counts as its error."""
        if isinstance(intent, Exit):
            self.broker.cancel_all(f"exit: {intent.reason}", entries_only=True)
            if self.broker.position.qty:
                self.risk.note_exit(t)
                self.broker.close_position(t, intent.reason)
        elif isinstance(intent, CancelEntries):
            self.broker.cancel_all(intent.reason, entries_only=True)
        elif isinstance(intent, Enter):
            if not live:
                self.history_intents += 1
                return
            decision = self.risk.check_entry(t, intent)
            if isinstance(decision, str):
                self._emit(
                    RecordType.REJECT,
                    reason=decision,
                    side=intent.side.value,
                    kind=intent.kind,
                    price=intent.price,
                    stop=intent.stop,
                    tag=intent.tag,
                )
            else:
                self.broker.submit(t, decision)
        else:
            self._strategy_failed(t, TypeError(f"not an intent: {intent!r}"))

    def _strategy_failed(self, t: int, exc: BaseException) -> None:
        s = self.state
        s.strategy_errors += 1
        message = f"{type(exc).__name__}: {exc}"
        self.notices.append(
            f"strategy {self.strategy.name} raised {message}\n"
            + "".join(traceback.format_exception(exc))
        )
        disabled = s.strategy_errors >= MAX_STRATEGY_ERRORS
        self._emit(
            RecordType.STRATEGY,
            event="error",
            error=message,
            errors=s.strategy_errors,
            disabled=disabled,
        )
        s.strategy_disabled = disabled
        self.broker.cancel_all("strategy error", entries_only=True)
        self.broker.close_position(t, "strategy_error")


def _propagates(exc: BaseException) -> bool:
    """What a strategy may not swallow: Ctrl-C, and cancellation (the engine imports no Trio,
    so ``trio.Cancelled`` is known by name)."""
    return isinstance(exc, KeyboardInterrupt | GeneratorExit) or type(exc).__name__ == "Cancelled"
