"""Daily returns and the ratios traders compare runs by: Sharpe, Sortino, Calmar, CAGR.

A minute-bar Sharpe annualised by √525,600 is noise on a short run (every 3-minute run showed
−512.64, i.e. −√(525,600 ÷ 2)). Like the tools traders know, the ratios here are computed on
**daily** returns (the equity at each UTC day's last session bar), annualised by √365 (crypto
trades every day), and refused below ``MIN_DAYS`` days: ``null`` in JSON with a ``*_note``.
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from ..times import DAY_MS, ms_to_iso

MIN_DAYS = 30
DAYS_PER_YEAR = 365
HUNDRED = Decimal(100)
ZERO = Decimal(0)


class Days:
    """Per UTC day: its last equity, and the trades closed in it. One entry per day with data,
    so a year is 365 entries."""

    def __init__(self) -> None:
        self.days: list[int] = []  # day numbers (ms ÷ DAY_MS), in order
        self.equity: list[Decimal] = []  # at the day's last session bar
        self.trades: list[int] = []
        self._pending_trades: dict[int, int] = {}

    def bar(self, close_time: int, equity: Decimal) -> None:
        """A session bar closing at ``close_time`` (it belongs to the day it closes in, less a
        millisecond: the bar closing at 00:00 ends the previous day)."""
        day = (close_time - 1) // DAY_MS
        if self.days and self.days[-1] == day:
            self.equity[-1] = equity
            return
        self.days.append(day)
        self.equity.append(equity)
        self.trades.append(self._pending_trades.pop(day, 0))

    def bars(self, close_times: Sequence[int], equities: Sequence[Decimal]) -> None:
        """``bar`` for each, in increasing close time: a day at a time."""
        start = 0
        while start < len(close_times):
            day = (close_times[start] - 1) // DAY_MS
            end = bisect_left(close_times, (day + 1) * DAY_MS + 1, start)
            self.bar(close_times[end - 1], equities[end - 1])
            start = end

    def trade(self, ts: int) -> None:
        """A round trip closed at ``ts``."""
        day = (ts - 1) // DAY_MS
        if self.days and self.days[-1] == day:
            self.trades[-1] += 1
        else:  # closed before the day's first bar: counted when that bar comes
            self._pending_trades[day] = self._pending_trades.get(day, 0) + 1

    def rows(self, starting: Decimal | None) -> list[dict[str, Any]]:
        """The per-day table: date, PnL and return against the previous day's close (the first
        day against the starting equity), trades closed, equity."""
        out = []
        previous = starting
        for day, equity, trades in zip(self.days, self.equity, self.trades, strict=True):
            pnl = equity - previous if previous is not None else None
            ret = pnl / previous * HUNDRED if pnl is not None and previous else None
            out.append(
                {
                    "date": ms_to_iso(day * DAY_MS)[:10],
                    "pnl": _text(pnl),
                    "return_pct": _fixed(ret, 4),
                    "trades": trades,
                    "equity": _text(equity),
                }
            )
            previous = equity
        return out

    def returns(self, starting: Decimal | None) -> list[Decimal]:
        out = []
        previous = starting
        for equity in self.equity:
            if previous:
                out.append(equity / previous - 1)
            previous = equity
        return out


def ratios(
    returns: list[Decimal],
    starting: Decimal | None,
    ending: Decimal | None,
    max_drawdown_pct: Decimal,
) -> dict[str, Any]:
    """Sharpe, Sortino, CAGR and Calmar, each ``null`` with a note when it would mislead."""
    n = len(returns)
    keys = ("sharpe", "sortino", "cagr_pct", "calmar")
    values: dict[str, Decimal | None] = dict.fromkeys(keys)
    short = f"n/a: needs {MIN_DAYS} days of daily returns, this run has {n}"
    notes: dict[str, str | None] = dict.fromkeys(keys, short if n < MIN_DAYS else None)
    if n >= MIN_DAYS:
        mean = sum(returns, ZERO) / n
        variance = sum(((r - mean) ** 2 for r in returns), ZERO) / (n - 1)
        downside = sum((min(r, ZERO) ** 2 for r in returns), ZERO) / n
        root = Decimal(DAYS_PER_YEAR).sqrt()
        if variance > 0:
            values["sharpe"] = mean / variance.sqrt() * root
        else:
            notes["sharpe"] = "n/a: the daily returns do not vary"
        if downside > 0:
            values["sortino"] = mean / downside.sqrt() * root
        else:
            notes["sortino"] = "n/a: no losing day"
        # Years of data, not of calendar: a candle file with a 626-day hole has 91 days of
        # market in it, and its return was made in those.
        years = Decimal(n) / DAYS_PER_YEAR
        if starting and ending is not None and ending > 0:
            values["cagr_pct"] = cagr = ((ending / starting) ** (1 / years) - 1) * HUNDRED
            if max_drawdown_pct > 0:
                values["calmar"] = cagr / max_drawdown_pct
            else:
                notes["calmar"] = "n/a: no drawdown"
        else:
            notes["cagr_pct"] = notes["calmar"] = "n/a: no positive ending equity"
    out: dict[str, Any] = {"days": n, "periods_per_year": DAYS_PER_YEAR}
    for key in keys:
        out[key] = _fixed(values[key], 4)
        out[key.removesuffix("_pct") + "_note"] = notes[key]
    return out


def _text(value: Decimal | None) -> str | None:
    if value is None:
        return None
    if value.is_zero():
        return "0"
    return format(value.normalize(), "f")


def _fixed(value: Decimal | None, places: int) -> str | None:
    if value is None:
        return None
    rounded = value.quantize(Decimal(1).scaleb(-places))
    return format(abs(rounded) if rounded.is_zero() else rounded, "f")
