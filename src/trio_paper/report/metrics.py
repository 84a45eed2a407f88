"""The numbers of ``summary.json``, accumulated one journal record at a time.

All arithmetic is ``Decimal`` on the journal's decimal strings, in a fixed context, so the same
journal gives the same digits on every machine. The definitions are in docs/events.md.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Sequence
from decimal import ROUND_HALF_EVEN, Context, Decimal, localcontext
from itertools import accumulate
from operator import sub, truediv
from typing import Any

from ..engine.records import BAR, RecordType
from ..fidelity import LIVE_MODEL
from ..times import INTERVAL_MS, MINUTE_MS, ms_to_iso
from .daily import Days, ratios
from .health import verdict

SUMMARY_SCHEMA = 2
CONTEXT = Context(prec=34, rounding=ROUND_HALF_EVEN)
"""Every summary number is computed in this context, whatever the caller's is."""
MAX_REASONS = 1000
ZERO = Decimal(0)
HUNDRED = Decimal(100)

Record = dict[str, Any]

_NUMBER = re.compile(r"\d+(?:\.\d+)?")
_HISTORY_INTENTS = re.compile(r"(\d+) entries asked for on history bars")
"""One ``reject`` record stands for that many refused entries (the engine sums a backfill's)."""

FEED_COUNTS = (
    "frames", "bad_frames", "unknown_keys", "other_symbols", "backfilled_bars", "late",
    "out_of_order", "duplicates", "missing",
)  # fmt: skip
"""What ``session_end.feed`` carries, in the order the summary lists it."""


def reason_group(reason: str) -> str:
    """``"last entry 30 s ago, minimum 60 s"`` → ``"last entry # s ago, minimum # s"``."""
    return _NUMBER.sub("#", reason)


def decimal_text(value: Decimal) -> str:
    """An exact amount in its shortest plain form: ``0.3750`` → ``"0.375"``, never ``1E+2``."""
    if value.is_zero():
        return "0"
    return format(value.normalize(CONTEXT), "f")


def _rounded(value: Decimal | None, places: int) -> str | None:
    """A derived ratio at a fixed number of places (half to even): ``"50.00"``."""
    if value is None:
        return None
    rounded = value.quantize(Decimal(1).scaleb(-places), context=CONTEXT)
    return format(abs(rounded) if rounded.is_zero() else rounded, "f")


def _seconds(ms: int) -> str:
    """Milliseconds as seconds, to the millisecond: ``1250`` → ``"1.250"``."""
    return format(Decimal(ms).scaleb(-3), ".3f")


def _ratio(a: Decimal, b: Decimal) -> Decimal | None:
    return a / b if b else None


class Metrics:
    """Feed it every record with ``add``; ``summary()`` is the ``summary.json`` object."""

    def __init__(self) -> None:
        self.records = 0
        self.start: Record | None = None
        self.end: Record | None = None
        self.first_ts: int | None = None
        self.last_ts: int | None = None
        self.interval_ms = MINUTE_MS
        self.journal_error: str | None = None
        self.malformed: int = 0
        # equity curve
        self.starting_equity: Decimal | None = None
        self.equity: Decimal | None = None
        self.peak: Decimal | None = None
        self.max_drawdown = ZERO
        self.max_drawdown_pct = ZERO
        self.curve_points = 0
        self.bars = 0
        self.bars_in_position = 0
        self.bar_equity: Decimal | None = None
        self.days = Days()
        # money
        self.gross = ZERO
        self.fees = ZERO
        self.funding = ZERO  # paid; negative when received
        self.settlements = 0
        # trades
        self.trades = 0
        self.wins = 0
        self.losses = 0
        self.won = ZERO
        self.lost = ZERO
        self.best: Decimal | None = None
        self.worst: Decimal | None = None
        self.held_ms = 0
        # the position, for the open trade at the end
        self.cash: Decimal | None = None
        self.position = ZERO
        self.open_entry: Decimal | None = None
        self.open_since: int | None = None
        self.open_fees = ZERO
        self.open_funding = ZERO
        # feed
        self.feed = Counter[str]()
        self.down_ms = 0
        self.down_since: int | None = None
        self.sockets: set[str] = set()
        """Sockets seen connecting (``""`` for a one-socket venue): a later connect of one is a
        reconnect."""
        self.reconnects = 0
        self.up: set[str] = set()
        """Sockets connected now: a ``disconnected`` of one that is not was a failed dial."""
        self.stalled: set[str] = set()
        self.failed_attempts = 0
        self.quote_stale_ms = 0
        self.quote_stale_since: int | None = None
        self.gap_bars = 0
        # rejects, risk, strategy
        self.rejects = Counter[str]()
        self.reject_examples: dict[str, str] = {}
        self.risk = Counter[str]()
        self.halt_reasons = Counter[str]()
        self.strategy_errors = 0
        self.strategy_disabled = False
        self.first_strategy_error: str | None = None

    # --- input ---------------------------------------------------------------------------------

    def add(self, record: Record) -> None:
        """Account for one record; one the summary cannot read is counted, not fatal."""
        with localcontext(CONTEXT):
            self.add_in_context(record)

    def add_in_context(self, record: Record) -> None:
        """``add``, for a caller that already holds ``CONTEXT`` (one context for a whole
        journal, not one per record)."""
        self.records += 1
        try:
            self._add(record)
        except (KeyError, TypeError, ValueError, ArithmeticError):
            self.malformed += 1

    def in_session(self, record: Record) -> bool:
        """A bar that closed after the session started (not part of a warm-up backfill)."""
        if self.start is None:
            return True
        close: int = record["open_time"] + self.interval_ms
        started: int = self.start["ts"]
        return close > started

    def _add(self, r: Record) -> None:
        ts = r["ts"]
        if type(ts) is not int:
            raise TypeError("ts is not an integer")
        self.first_ts = ts if self.first_ts is None else self.first_ts
        self.last_ts = ts
        kind = r["type"]
        if kind == BAR:
            if self.in_session(r):
                self._bar(r["open_time"] + self.interval_ms, Decimal(r["equity"]))
                self.bars_in_position += Decimal(r["position"]) != 0
        elif kind == RecordType.FILL:
            self.gross += Decimal(r["pnl"])
            self.fees += Decimal(r["fee"])
            self._position(ts, Decimal(r["position"]), Decimal(r["qty"]), Decimal(r["price"]))
            self.open_fees += Decimal(r["fee"])
            self.cash = Decimal(r["cash"])
        elif kind == RecordType.EXIT:
            self._exit(Decimal(r["net"]), r["held_ms"])
            self.days.trade(ts)
        elif kind == RecordType.FEE:
            self.fees += Decimal(r["amount"])
            self.open_fees += Decimal(r["amount"])
            self.cash = None if self.cash is None else self.cash - Decimal(r["amount"])
        elif kind == RecordType.FUNDING:
            self.funding -= Decimal(r["amount"])
            self.open_funding -= Decimal(r["amount"])
            self.settlements += 1
            self.cash = None if self.cash is None else self.cash + Decimal(r["amount"])
        elif kind == RecordType.FEED:
            self._feed(ts, r)
        elif kind == RecordType.REJECT:
            self._reject(str(r["reason"]))
        elif kind == RecordType.RISK:
            self.risk[r["event"]] += 1
            if r["event"] == "halt":
                self._count(self.halt_reasons, reason_group(str(r["reason"])))
        elif kind == RecordType.STRATEGY and r["event"] == "error":
            self.strategy_errors += 1
            self.strategy_disabled = self.strategy_disabled or bool(r["disabled"])
            if self.first_strategy_error is None:
                self.first_strategy_error = str(r["error"])
        elif kind == RecordType.SESSION_START and self.start is None:
            self.start = r
            self.interval_ms = INTERVAL_MS.get(r["interval"], MINUTE_MS)
            self.starting_equity = Decimal(r["equity"])
            self._point(self.starting_equity)
            self.cash = Decimal(r["cash"])
            self.position = Decimal(r["position"])
            if self.position:  # opened in an earlier session: its entry is not in this journal
                self.open_since = ts
        elif kind == RecordType.SESSION_END:
            self.end = r
            self.cash = Decimal(r["cash"])
            self._point(Decimal(r["equity"]))

    def _bar(self, close_time: int, equity: Decimal) -> None:
        self.bars += 1
        self.bar_equity = equity
        self.days.bar(close_time, equity)
        self._point(equity)

    def add_bars(
        self, close_times: Sequence[int], equities: Sequence[Decimal], in_position: int
    ) -> None:
        """``_bar`` for each of a run of session bars, in increasing close time (the caller
        counted them as records): the same numbers, with the loops in ``accumulate`` and
        ``max``. ``in_position`` is how many of them held a position."""
        self.bars += len(equities)
        self.bars_in_position += in_position
        self.bar_equity = equities[-1]
        self.days.bars(close_times, equities)
        if self.starting_equity is None:
            self.starting_equity = equities[0]
        self.equity = equities[-1]
        self.curve_points += len(equities)
        # ``max(peak, e)`` keeps the peak unless e is above it, as ``_point`` does.
        if self.peak is None:
            peaks = list(accumulate(equities, max))
        else:
            peaks = list(accumulate(equities, max, initial=self.peak))[1:]
        falls = list(map(sub, peaks, equities))
        self.peak = peaks[-1]
        self.max_drawdown = max(self.max_drawdown, *falls)
        if min(peaks) > 0:
            deepest = max(map(truediv, falls, peaks)) * HUNDRED
            self.max_drawdown_pct = max(self.max_drawdown_pct, deepest)
            return
        for fall, peak in zip(falls, peaks, strict=True):
            if fall and peak > 0 and fall / peak * HUNDRED > self.max_drawdown_pct:
                self.max_drawdown_pct = fall / peak * HUNDRED

    def _position(self, ts: int, after: Decimal, qty: Decimal, price: Decimal) -> None:
        """Follow the position through a fill: the entry price and time of the open trade."""
        before, self.position = self.position, after
        if not before:
            self.open_entry, self.open_since = price, ts
            self.open_fees = self.open_funding = ZERO
        elif abs(after) > abs(before) and self.open_entry is not None:
            self.open_entry = (abs(before) * self.open_entry + qty * price) / abs(after)
        if not after:
            self.open_entry = self.open_since = None

    def _point(self, equity: Decimal) -> None:
        """One point of the equity curve: track the peak and the deepest fall from it."""
        if self.starting_equity is None:
            self.starting_equity = equity
        self.equity = equity
        self.curve_points += 1
        if self.peak is None or equity > self.peak:
            self.peak = equity
            return  # a new peak: no fall
        fall = self.peak - equity
        self.max_drawdown = max(self.max_drawdown, fall)
        if fall and self.peak > 0 and fall / self.peak * HUNDRED > self.max_drawdown_pct:
            self.max_drawdown_pct = fall / self.peak * HUNDRED

    def _exit(self, net: Decimal, held_ms: int) -> None:
        self.held_ms += held_ms
        self.trades += 1
        if net > 0:
            self.wins += 1
            self.won += net
        elif net < 0:
            self.losses += 1
            self.lost += net
        self.best = net if self.best is None else max(self.best, net)
        self.worst = net if self.worst is None else min(self.worst, net)

    def _feed(self, ts: int, r: Record) -> None:
        event = r["event"]
        self.feed[event] += 1
        socket = r.get("socket", "")
        if event == "connected":
            self.reconnects += socket in self.sockets
            self.sockets.add(socket)
            self.up.add(socket)
        elif event == "stale":
            self.up.discard(socket)
            self.stalled.add(socket)
        elif event == "disconnected":
            if socket not in self.up and socket not in self.stalled:
                self.failed_attempts += 1  # a dial that never connected is not a disconnect
            self.up.discard(socket)
            self.stalled.discard(socket)  # journals before 0.2 followed a stall with this
        if event in ("disconnected", "stale") and self.down_since is None:
            self.down_since = ts
        elif event == "recovered":
            # The engine measures from the first drop, which may be in an earlier session (its
            # state lives on): count only the part of the outage inside this one.
            since = self.down_since
            if since is None:
                since = self.start["ts"] if self.start is not None else ts - r["down_ms"]
            self.down_ms += max(0, min(r["down_ms"], ts - since))
            self.down_since = None
        elif event == "quote_stale" and self.quote_stale_since is None:
            self.quote_stale_since = ts
        elif event == "quote_fresh":
            self.quote_stale_ms += r["stale_ms"]
            self.quote_stale_since = None
        elif event == "gap":
            self.gap_bars += r["bars"]

    def _reject(self, reason: str) -> None:
        group = reason_group(reason)
        if group not in self.rejects and len(self.rejects) >= MAX_REASONS:
            group = "(other reasons)"
        many = _HISTORY_INTENTS.match(reason)
        self.rejects[group] += int(many.group(1)) if many else 1
        self.reject_examples.setdefault(group, reason)

    @staticmethod
    def _count(counter: Counter[str], key: str) -> None:
        if key not in counter and len(counter) >= MAX_REASONS:
            key = "(other reasons)"
        counter[key] += 1

    # --- output --------------------------------------------------------------------------------

    def summary(self) -> dict[str, Any]:
        """The ``summary.json`` object: fixed keys in a fixed order, decimals as strings."""
        with localcontext(CONTEXT):
            return self._summary()

    def _summary(self) -> dict[str, Any]:
        start, end = self.start, self.end
        first, last = self.first_ts or 0, self.last_ts
        summary = {
            "summary_schema": SUMMARY_SCHEMA,
            "journal_schema": start.get("schema") if start else None,
            "complete": end is not None and self.journal_error is None,
            "exit_reason": end.get("reason") if end else None,
            "journal_error": self.journal_error,
            "malformed_records": self.malformed,
            "venue": start.get("venue") if start else None,
            "symbol": start.get("symbol") if start else None,
            "interval": start.get("interval") if start else None,
            "strategy": start.get("strategy") if start else None,
            "resumed": start.get("resumed") if start else None,
            "model": start.get("model", LIVE_MODEL) if start else None,
            "first_event": ms_to_iso(first) if last is not None else None,
            "last_event": ms_to_iso(last) if last is not None else None,
            "duration_seconds": _seconds(last - first) if last is not None else None,
            "records": self.records,
            "pnl": self._pnl(),
            "trades": self._trades(),
            "equity_curve": self._curve(),
            "ratios": ratios(
                self.days.returns(self.starting_equity),
                self.starting_equity,
                self.equity,
                self.max_drawdown_pct,
            ),
            "daily": self.days.rows(self.starting_equity),
            "feed": self._feed_health(),
            "rejects": {
                "count": self.rejects.total(),
                "by_reason": [
                    {"reason": group, "count": n, "example": self.reject_examples[group]}
                    for group, n in _by_count(self.rejects).items()
                ],
            },
            "risk": {
                "halts": self.risk["halt"],
                "resumed": self.risk["resumed"],
                "kills": self.risk["kill"],
                "new_days": self.risk["new_day"],
                "halt_reasons": _by_count(self.halt_reasons),
            },
            "strategy_errors": {
                "count": self.strategy_errors,
                "disabled": self.strategy_disabled,
                "first": self.first_strategy_error,
            },
        }
        health, reasons = verdict(summary, self.bars)
        return {"health": health, "health_reasons": reasons, **summary}

    def _pnl(self) -> dict[str, Any]:
        start, final = self.starting_equity, self.equity
        net = final - start if start is not None and final is not None else None
        open_pnl = self.open_pnl()
        change = net - (self.gross - self.fees - self.funding) if net is not None else None
        return_pct = _ratio(net * HUNDRED, start) if net is not None and start else None
        return {
            "starting_equity": decimal_text(start) if start is not None else None,
            "ending_equity": decimal_text(final) if final is not None else None,
            "net": decimal_text(net) if net is not None else None,
            "return_pct": _rounded(return_pct, 4),
            "gross": decimal_text(self.gross),
            "fees": decimal_text(self.fees),
            "funding": decimal_text(self.funding),
            "funding_settlements": self.settlements,
            "unrealized": decimal_text(open_pnl) if open_pnl is not None else None,
            "unrealized_change": decimal_text(change) if change is not None else None,
        }

    def open_pnl(self) -> Decimal | None:
        """The open position's PnL at the end: ending equity − cash (0 when flat)."""
        if not self.position:
            return ZERO
        if self.equity is None or self.cash is None:
            return None
        return self.equity - self.cash

    def _trades(self) -> dict[str, Any]:
        n = self.trades
        return {
            "count": n,
            "wins": self.wins,
            "losses": self.losses,
            "win_rate_pct": _rounded(_ratio(Decimal(self.wins) * HUNDRED, Decimal(n)), 2),
            "profit_factor": _rounded(_ratio(self.won, -self.lost), 4),
            "average_win": _rounded(_ratio(self.won, Decimal(self.wins)), 8),
            "average_loss": _rounded(_ratio(self.lost, Decimal(self.losses)), 8),
            "best": decimal_text(self.best) if self.best is not None else None,
            "worst": decimal_text(self.worst) if self.worst is not None else None,
            "average_held_seconds": _rounded(_ratio(Decimal(self.held_ms), Decimal(n * 1000)), 3),
            "open": self._open_trade(),
        }

    def _open_trade(self) -> dict[str, Any] | None:
        """The position still open at the end: not a trade yet (not counted), shown apart."""
        if not self.position:
            return None
        pnl = self.open_pnl()
        return {
            "side": "long" if self.position > 0 else "short",
            "size": decimal_text(abs(self.position)),
            "entry": _entry_text(self.open_entry),
            "opened": ms_to_iso(self.open_since) if self.open_since is not None else None,
            "pnl": decimal_text(pnl) if pnl is not None else None,
            "fees": decimal_text(self.open_fees),
            "funding": decimal_text(self.open_funding),
        }

    def _curve(self) -> dict[str, Any]:
        return {
            "bars": self.bars,
            "points": self.curve_points,
            "max_drawdown": decimal_text(self.max_drawdown),
            "max_drawdown_pct": _rounded(self.max_drawdown_pct, 4),
            "exposure_pct": _rounded(
                _ratio(Decimal(self.bars_in_position) * HUNDRED, Decimal(self.bars)), 2
            ),
        }

    def _feed_health(self) -> dict[str, Any]:
        counted = (self.end or {}).get("feed") or {}
        health: dict[str, Any] = {key: counted.get(key) for key in FEED_COUNTS}
        health.update((key, counted[key]) for key in sorted(counted) if key not in health)
        down_ms, stale_ms = self.down_ms, self.quote_stale_ms
        if self.last_ts is not None:  # a span still open when the journal ends counts too
            if self.down_since is not None:
                down_ms += self.last_ts - self.down_since
            if self.quote_stale_since is not None:
                stale_ms += self.last_ts - self.quote_stale_since
        feed = self.feed
        health.update(
            connects=feed["connected"], reconnects=self.reconnects,
            disconnects=feed["disconnected"] - self.failed_attempts,
            failed_connects=self.failed_attempts, stale_events=feed["stale"],
            down_seconds=_seconds(down_ms), quote_stale_events=feed["quote_stale"],
            quote_stale_seconds=_seconds(stale_ms), gaps=feed["gap"], gap_bars=self.gap_bars,
            backfills=feed["backfilled"],
        )  # fmt: skip
        return health


def _by_count(counter: Counter[str]) -> dict[str, int]:
    return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def _entry_text(entry: Decimal | None) -> str | None:
    """An average entry price: at most 8 places, no trailing zeros (``"99388.6"``)."""
    if entry is None:
        return None
    return decimal_text(entry.quantize(Decimal("1e-8"), context=CONTEXT))
