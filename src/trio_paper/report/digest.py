"""One streaming pass over a journal: the metrics, the chart series, the trades, the tail.

Nothing here grows with the journal: series are bucketed, trades and incidents keep a head and a
tail, and the journal's own tail is a short deque. A year of 1-minute bars digests in flat memory.
"""

from __future__ import annotations

import math
from bisect import bisect_right
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import suppress
from decimal import Decimal, InvalidOperation, localcontext
from itertools import chain
from operator import itemgetter, lt
from pathlib import Path
from typing import Any, Generic, TypeVar

import attrs

from ..codec import MalformedMessage
from ..engine.records import BAR, RecordType
from ..store.bars_beside import BarRun
from ..store.journal import read_journal_runs
from ..times import DAY_MS
from .metrics import CONTEXT, Metrics, Record
from .ohlc import MAX_CANDLES, Candles, LastBars
from .series import Downsampled, Markers, TimeAxis

TAIL = 50
TRADES_HEAD = 250
TRADES_TAIL = 250
MARKERS = 240
"""Fill markers on the main chart: merged per spot beyond that, so 5,000 trades stay legible."""
CLOSEUP_BARS = 240
INCIDENTS = 100
SPANS = 500
ZERO = Decimal(0)
T = TypeVar("T")
BATCH = 2048
"""Consecutive ``bar`` records digested together (a year of 1-minute bars is 525,600)."""
_BAR_COLUMNS = itemgetter("ts", "open_time", "open", "high", "low", "close", "equity", "position")
_INTS = {int}


@attrs.frozen
class TradeRow:
    """One closed trade, as the table shows it (decimals as the journal wrote them)."""

    trade: int
    side: str  # "long" or "short"
    opened: int
    closed: int
    size: str
    entry: str
    exit: str
    pnl: str
    fees: str
    funding: str
    net: str
    reason: str
    held_ms: int
    open: bool = False  # the position still open at the end (its PnL is the open PnL)


@attrs.frozen
class Span:
    """A stretch the charts shade: the feed down (``feed``) or entries halted (``halt``)."""

    start: int
    end: int
    kind: str
    why: str


@attrs.frozen
class Incident:
    """A feed, risk or strategy event worth a line in the page's timeline."""

    ts: int
    kind: str
    text: str


class Bounded(Generic[T]):
    """The first ``head`` and the last ``tail`` items of a stream, and how many there were."""

    def __init__(self, head: int, tail: int) -> None:
        self.head: list[T] = []
        self.tail: deque[T] = deque(maxlen=tail)
        self.limit = head
        self.count = 0

    def add(self, item: T) -> None:
        self.count += 1
        if len(self.head) < self.limit:
            self.head.append(item)
        else:
            self.tail.append(item)

    @property
    def skipped(self) -> int:
        return self.count - len(self.head) - len(self.tail)


class Tail:
    """The journal's last ``TAIL`` records; a ``BarRun``'s are built only if they are among
    them (a year of bars is tens of thousands of runs)."""

    def __init__(self) -> None:
        self.items: deque[Record | BarRun] = deque()
        self.count = 0  # the records ``items`` hold

    def append(self, item: Record | BarRun) -> None:
        self.items.append(item)
        self.count += len(item) if isinstance(item, BarRun) else 1
        first = self.items[0]
        while self.count - (size := len(first) if isinstance(first, BarRun) else 1) >= TAIL:
            self.items.popleft()
            self.count -= size
            first = self.items[0]

    def extend(self, records: Iterable[Record]) -> None:
        for record in records:
            self.append(record)

    def __iter__(self) -> Iterator[Record]:
        chunks: list[list[Record]] = []
        need = TAIL
        for item in reversed(self.items):  # from the end: a long run builds only its last
            chunk = item.records(max(0, len(item) - need)) if isinstance(item, BarRun) else [item]
            chunks.append(chunk)
            need -= len(chunk)
            if need <= 0:
                break
        return (r for chunk in reversed(chunks) for r in chunk)


class Digest:
    """Everything the report needs from a journal, gathered in one pass with ``add``."""

    def __init__(self) -> None:
        self.metrics = Metrics()
        self.axis: TimeAxis | None = None
        self.price: Downsampled | None = None
        self.equity: Downsampled | None = None
        self.markers: Markers | None = None
        self.candles: Candles | None = None
        self.last_bars = LastBars(CLOSEUP_BARS)
        self.trades = Bounded[TradeRow](TRADES_HEAD, TRADES_TAIL)
        self.incidents = Bounded[Incident](INCIDENTS, 0)
        self.spans = Bounded[Span](SPANS, 0)
        self.open_spans: dict[str, tuple[int, str]] = {}
        self.tail = Tail()
        self.position = ZERO
        self.trade_side = ""
        self.trade_size = ZERO
        self.last_close: str | None = None

    def read(self, path: Path, records: Iterable[Record | BarRun] | None = None) -> Digest:
        """Digest the journal at ``path`` (its ``records``, when the caller reads them another
        way); an unreadable line ends it, noted as an error."""
        try:
            self.add_all(read_journal_runs(path) if records is None else records)
        except FileNotFoundError:
            self.metrics.journal_error = f"{path.name}: missing"
        except MalformedMessage as exc:
            line = exc.where.rpartition(":")[2]
            self.metrics.journal_error = f"{path.name} line {line}: {exc.reason}"
        return self

    def closed_spans(self) -> list[Span]:
        """The shaded stretches, with any still open at the journal's end closed there."""
        last = self.metrics.last_ts
        still_open = [
            Span(start, last, kind, why)
            for kind, (start, why) in sorted(self.open_spans.items())
            if last is not None and len(self.spans.head) < SPANS
        ]
        return [*self.spans.head, *still_open]

    def add_all(self, records: Iterable[Record | BarRun]) -> None:
        """``add`` each record; a run of ``bar`` records is digested ``BATCH`` at a time, and
        a ``BarRun`` (bars the journal left out) whole."""
        bars: list[Record] = []
        with localcontext(CONTEXT):  # once for the journal: per record it costs a tenth
            try:
                for record in records:
                    if isinstance(record, BarRun):
                        if bars:
                            self._bars(bars)
                            bars = []
                        self._bar_run(record)
                        continue
                    if record.get("type") == BAR:
                        bars.append(record)
                        if len(bars) == BATCH:
                            self._bars(bars)
                            bars = []
                        continue
                    if bars:
                        self._bars(bars)
                        bars = []
                    self._add(record)
            finally:  # a journal cut short still counts the bars read before the cut
                if bars:
                    self._bars(bars)

    def add(self, record: Record) -> None:
        with localcontext(CONTEXT):
            self._add(record)

    def _add(self, record: Record) -> None:
        self.metrics.add_in_context(record)
        self.tail.append(record)
        with suppress(KeyError, TypeError, ValueError, InvalidOperation):
            self._chart(record)  # a record it cannot read is counted by the metrics

    def _bars(self, batch: list[Record]) -> None:
        """``_add`` each of a run of ``bar`` records: at once when all are well formed and in
        time order (columns, ``Metrics.add_bars`` and the series' ``extend``), else one by one.
        Either way the digest ends the same (tests/report/test_report_batch.py)."""
        started = self.metrics.start["ts"] if self.metrics.start is not None else None
        columns = _bar_columns(batch)
        if columns is None or not (started is None or type(started) is int):
            for record in batch:
                self._add(record)
            return
        self.tail.extend(batch[-TAIL:])
        self._column_bars(columns, started, lambda first: batch[first:])

    def _bar_run(self, run: BarRun) -> None:
        """``_bars`` for bars the journal left out: their columns straight from the candles."""
        try:
            equity, position = Decimal(run.equity), Decimal(run.position)
        except (TypeError, ValueError, ArithmeticError):
            equity = position = Decimal("NaN")
        started = self.metrics.start["ts"] if self.metrics.start is not None else None
        if not (equity.is_finite() and position.is_finite()) or not (
            started is None or type(started) is int
        ):
            for record in run.records():
                self._add(record)
            return
        n, open_times, (o, h, lo, c, _) = len(run), run.open_times, run.prices
        columns = (
            [t + run.offset for t in open_times], open_times, o, h, lo, c, [equity] * n,
            [position] * n,
        )  # fmt: skip
        self.tail.append(run)
        self._column_bars(columns, started, run.records)

    def _column_bars(
        self,
        columns: Sequence[Sequence[Any]],
        started: int | None,
        records_from: Callable[[int], list[Record]],
    ) -> None:
        """Digest a run of well-formed bars given as columns (ts, open time, open, high, low,
        close, equity, position), the session ``started`` then (None: no start yet);
        ``records_from(i)`` is its records from the ``i``-th on (for the chart's slow path)."""
        metrics = self.metrics
        ts, open_times, *prices, equities, positions = columns
        metrics.records += len(ts)
        metrics.first_ts = ts[0] if metrics.first_ts is None else metrics.first_ts
        metrics.last_ts = ts[-1]
        interval = metrics.interval_ms
        # The warm-up bars, closed before the session started: records, not session bars.
        first = 0 if started is None else bisect_right(open_times, started - interval)
        if first == len(ts):
            return
        close_times = [t + interval for t in open_times[first:]]
        session = [column[first:] for column in (*prices, equities)]
        metrics.add_bars(close_times, session[4], sum(map(bool, positions[first:])))
        self._chart_bars(lambda: records_from(first), close_times, session)

    def _chart_bars(
        self, batch: Callable[[], list[Record]], close_times: list[int], columns: list[Any]
    ) -> None:
        """``_chart`` each of a run of session bars (``batch()`` their records): at once unless
        a price is not a number or the time axis cuts between them."""
        axis, price, equity, _ = self._ensure_series()
        floats = _floats(columns)
        if floats is None or not axis.continues(close_times):
            for record in batch():
                with suppress(KeyError, TypeError, ValueError, InvalidOperation):
                    self._chart(record)
            return
        o, h, lo, c, e = floats
        self.last_close = str(Decimal(columns[3][-1]))  # as the journal writes it
        xs = axis.extend(close_times)
        price.extend(xs, c)
        equity.extend(xs, e)
        self.last_bars.extend(close_times, o, h, lo, c)
        candles = self.candles
        if candles is not None:
            candles.extend(xs, (o, h, lo, c), stop_above=MAX_CANDLES)
            if len(candles.buckets) > MAX_CANDLES:
                self.candles = None  # too many to draw: the chart is the close line

    def _ensure_series(self) -> tuple[TimeAxis, Downsampled, Downsampled, Markers]:
        if self.axis is None or self.price is None or self.equity is None or self.markers is None:
            step = self.metrics.interval_ms
            self.axis = TimeAxis(step, max(DAY_MS, 60 * step))
            self.price, self.equity = Downsampled(step), Downsampled(step)
            self.markers = Markers(step, limit=MARKERS)
            self.candles = Candles(step)
        return self.axis, self.price, self.equity, self.markers

    def _chart(self, r: Record) -> None:
        kind = r["type"]
        if kind == BAR:
            if not self.metrics.in_session(r):
                return
            axis, price, equity, _ = self._ensure_series()
            o, h, lo, close, e = _finite(r["open"], r["high"], r["low"], r["close"], r["equity"])
            t = r["open_time"] + self.metrics.interval_ms
            cut = axis.advance(t)
            x = axis.x(t)
            price.add(x, close, new_segment=cut)
            equity.add(x, e, new_segment=cut)
            self.last_bars.add(t, o, h, lo, close)
            candles = self.candles
            if candles is not None:
                candles.add(x, o, h, lo, close, new_segment=cut)
                if len(candles.buckets) > MAX_CANDLES:
                    self.candles = None  # too many to draw: the chart is the close line
            self.last_close = str(r["close"])
        elif kind == RecordType.SESSION_END and self.axis is not None and self.equity is not None:
            # The curve ends where the summary's does (the drawdown card's final equity).
            t = r["ts"]
            cut = self.axis.advance(t)
            self.equity.add(self.axis.x(t), _finite(r["equity"])[0], new_segment=cut)
        elif kind == RecordType.FILL:
            self._fill(r)
        elif kind == RecordType.EXIT:
            self._exit(r)
        elif kind == RecordType.SESSION_START:
            self.position = Decimal(r["position"])
            self.trade_side = "long" if self.position > 0 else "short" if self.position else ""
            self.trade_size = abs(self.position)
        elif kind in (RecordType.FEED, RecordType.RISK, RecordType.STRATEGY):
            self._incident(r)
            self._span(r)

    def _fill(self, r: Record) -> None:
        before, after = self.position, Decimal(r["position"])
        self.position = after
        if not before and after:
            self.trade_side = "long" if after > 0 else "short"
        role = "entry" if abs(after) > abs(before) else "exit"
        self.trade_size = max(self.trade_size, abs(after))
        axis, _, _, markers = self._ensure_series()
        t = r["ts"]
        markers.add(axis.x(t), t, str(r["price"]), str(r["side"]), role, str(r["qty"]))
        self.last_bars.fill(t, str(r["price"]), str(r["side"]), role, str(r["qty"]))

    def _exit(self, r: Record) -> None:
        row = TradeRow(
            trade=r["trade"], side=self.trade_side, opened=r["opened"], closed=r["ts"],
            size=_text(self.trade_size), entry=r["entry"], exit=r["price"], pnl=r["pnl"],
            fees=r["fees"], funding=r["funding"], net=r["net"], reason=str(r["reason"]),
            held_ms=r["held_ms"],
        )  # fmt: skip
        self.trades.add(row)
        self.trade_size = ZERO

    def _span(self, r: Record) -> None:
        kind, event, ts = r["type"], r.get("event"), r["ts"]
        if kind == RecordType.FEED and event in ("disconnected", "stale"):
            self.open_spans.setdefault("feed", (ts, f"feed {event}"))
        elif kind == RecordType.RISK and event in ("halt", "kill"):
            why = f"entries halted: {r.get('reason')}" if event == "halt" else "kill switch"
            self.open_spans.setdefault("halt", (ts, why))
        elif (kind, event) in (("feed", "recovered"), ("risk", "resumed")):
            opened = self.open_spans.pop("feed" if kind == RecordType.FEED else "halt", None)
            if opened is not None:
                self.spans.add(
                    Span(opened[0], ts, "feed" if kind == RecordType.FEED else "halt", opened[1])
                )

    def _incident(self, r: Record) -> None:
        event = r.get("event")
        if r["type"] == RecordType.FEED:
            quiet_backfill = r.get("reason") == "warmup" and r.get("error") is None
            if event in ("connected", "subscribed") or (event == "backfilled" and quiet_backfill):
                return
            text = _feed_text(r)
        elif r["type"] == RecordType.RISK:
            if event == "new_day":
                return
            text = {
                "halt": f"entries halted: {r.get('reason')}",
                "resumed": f"entries resumed (was: {r.get('reason')})",
                "kill": f"kill switch ({r.get('source')}): cancelled, flattened, stopped",
            }.get(str(event), str(event))
        else:
            text = f"strategy raised {r.get('error')}" + (
                " — disabled" if r.get("disabled") else ""
            )
        self.incidents.add(Incident(r["ts"], f"{r['type']}", text))


def _bar_columns(batch: list[Record]) -> tuple[tuple[Any, ...], ...] | None:
    """The columns of a run of ``bar`` records — ts, open time, open, high, low, close,
    equity and position, the last two as ``Decimal`` — or None unless each has every field,
    integer times increasing, and a finite equity and position."""
    try:
        ts, open_times, o, h, lo, c, equity, position = zip(*map(_BAR_COLUMNS, batch), strict=True)
        equities = tuple(map(Decimal, equity))
        positions = tuple(map(Decimal, position))
    except (KeyError, TypeError, ValueError, ArithmeticError):
        return None
    if not (
        set(map(type, ts)) == _INTS
        and set(map(type, open_times)) == _INTS
        and all(map(lt, open_times, open_times[1:]))
        and all(map(Decimal.is_finite, chain(equities, positions)))
    ):
        return None
    return ts, open_times, o, h, lo, c, equities, positions


def _floats(columns: list[tuple[Any, ...]]) -> tuple[list[float], ...] | None:
    """The columns as floats, or None if a value is not a finite number: then the chart takes
    the bars one by one, as ``_chart`` reads them."""
    try:
        return tuple(_finite(*column) for column in columns)
    except (TypeError, ValueError):
        return None


def _finite(*values: Any) -> list[float]:
    """Prices as floats for a chart; NaN or infinity (a corrupt journal) cannot be drawn."""
    floats = list(map(float, values))
    if not all(map(math.isfinite, floats)):
        raise ValueError("not a finite number")
    return floats


def _feed_text(r: Record) -> str:
    event = r.get("event")
    if event == "disconnected":
        return f"disconnected: {r.get('reason')}"
    if event == "stale":
        return f"stale: no message for {_ms(r.get('silent_ms'))}"
    if event == "recovered":
        return f"recovered after {_ms(r.get('down_ms'))}"
    if event == "gap":
        return f"{r.get('bars')} bars missing"
    if event == "backfilled" and r.get("error") is not None:
        return f"backfill ({r.get('reason')}) failed: {r.get('error')}"
    if event == "backfilled":
        return f"backfilled {r.get('bars')} of {r.get('received')} bars ({r.get('reason')})"
    if event == "quote_stale":
        return f"order {r.get('order')} waits: no fresh price"
    if event == "quote_fresh":
        return f"price fresh again after {_ms(r.get('stale_ms'))}"
    return str(event)


def _ms(value: Any) -> str:
    if isinstance(value, int):
        return f"{value / 1000:g} s"
    return "?"


def _text(value: Decimal) -> str:
    return format(value, "f")
