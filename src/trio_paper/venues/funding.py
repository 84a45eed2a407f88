"""Funding history (and optional mark prices) from CSV files, for bars-only replays.

A candle file has no mark-price events, so it carries no funding. ``replay --funding FILE`` reads
one row per settlement: the layout of ``binance_usdm_BTCUSDT_funding_rate_8h.csv`` (the time in
``open_time_ms``, the rate as a fraction in ``open``) or a plain ``funding_time_ms,rate``. A
``--mark FILE`` gives the mark at each settlement: the 8-hourly mark candles (``open_time_ms``,
the mark in ``open``) or a plain ``mark_time_ms,mark``. Without it the candles stand in for it.

``FundingSchedule.take(bar)`` hands each settlement to the bar that ends at its time (times are
floored to the bar interval: exchanges stamp settlements a few ms late). Settlements before the
first candle or after the last are skipped: no position can be open then.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections.abc import Iterator
from decimal import Decimal, InvalidOperation
from pathlib import Path

import attrs

from ..codec import MalformedMessage
from ..model import Bar, Settlement
from ..times import ms_to_iso

_LAYOUTS = {
    "funding": (("open_time_ms", "open"), ("funding_time_ms", "rate")),
    "mark": (("open_time_ms", "open"), ("mark_time_ms", "mark")),
}


class FundingError(MalformedMessage):
    """A funding or mark file that cannot be used; ``where`` is ``file:line``."""


@attrs.frozen
class _Row:
    time: int
    value: Decimal
    line: int


@attrs.define
class FundingSchedule:
    """Settlements in time order, handed out bar by bar (see the module's docstring)."""

    path: Path
    rows: list[_Row]
    interval_ms: int
    mark_path: Path | None = None
    marks: dict[int, Decimal] | None = None
    """Mark by settlement time floored to the interval; None: the candles stand in."""
    _next: int = 0
    _started: bool = False

    def take(self, bar: Bar) -> list[Settlement]:
        """The settlements due by ``bar``'s close, each with the mark it is charged at."""
        rows, i = self.rows, self._next
        if not self._started:
            self._started = True
            while i < len(rows) and self._due(rows[i]) <= bar.open_time:
                i += 1
            if i == len(rows):
                last = rows[-1]
                raise FundingError(
                    f"every settlement is at or before the first candle "
                    f"({ms_to_iso(bar.open_time)}); last one {ms_to_iso(last.time)}",
                    f"{self.path}:{last.line}",
                )
        out = []
        while i < len(rows) and self._due(rows[i]) <= bar.close_time:
            row = rows[i]
            before = self._due(row) <= bar.open_time  # it fell in a gap of the candles
            out.append(Settlement(row.time, row.value, self._mark(row, bar, before), before))
            i += 1
        self._next = i
        return out

    def describe(self) -> str:
        first, last = self.rows[0].time, self.rows[-1].time
        where = (
            f"the mark in {self.mark_path.name}"
            if self.mark_path is not None
            else "the close of the bar ending at each settlement as the mark"
        )
        return (
            f"{len(self.rows)} settlements from {self.path.name} ({ms_to_iso(first)} to "
            f"{ms_to_iso(last)}; those outside the candles skipped), charged on the position "
            f"held at each, at {where}; a long pays a positive rate"
        )

    def _due(self, row: _Row) -> int:
        return row.time - row.time % self.interval_ms

    def _mark(self, row: _Row, bar: Bar, before: bool) -> Decimal:
        if self.marks is None:
            return bar.open if before else bar.close
        mark = self.marks.get(self._due(row))
        if mark is None:
            assert self.mark_path is not None
            raise FundingError(
                f"no mark for the settlement at {ms_to_iso(row.time)} in {self.mark_path}",
                f"{self.path}:{row.line}",
            )
        return mark


def read_funding(path: Path, interval_ms: int, mark_path: Path | None = None) -> FundingSchedule:
    """Read and check ``path`` (and ``mark_path``) whole; a bad row is a ``FundingError``."""
    rows = list(_rows(path, "funding"))
    for row in rows:
        if abs(row.value) >= 1:
            raise FundingError(
                f"rate {row.value} is not a fraction (0.0001 means 0.01 %)", f"{path}:{row.line}"
            )
    marks = None
    if mark_path is not None:
        marks = {}
        for row in _rows(mark_path, "mark"):
            if row.value <= 0:
                raise FundingError(f"mark must be > 0: {row.value}", f"{mark_path}:{row.line}")
            marks[row.time - row.time % interval_ms] = row.value
    return FundingSchedule(path, rows, interval_ms, mark_path, marks)


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")


def _rows(path: Path, kind: str) -> Iterator[_Row]:
    """``(time, value, line)`` per data row of a funding or mark file, checked in order."""
    try:
        handle = _open_text(path)
    except OSError as exc:
        raise FundingError(f"cannot read: {exc.strerror}", f"{path}:0") from None
    with handle:
        reader = csv.reader(handle)
        try:
            columns = [c.strip() for c in next(reader)]
        except StopIteration:
            raise FundingError("empty file", f"{path}:1") from None
        except (UnicodeDecodeError, OSError, EOFError) as exc:
            raise FundingError(f"not a text CSV ({exc})", f"{path}:1") from None
        layout = next((pair for pair in _LAYOUTS[kind] if set(pair) <= set(columns)), None)
        if layout is None:
            shapes = " or ".join(",".join(pair) for pair in _LAYOUTS[kind])
            raise FundingError(f"a {kind} file needs the columns {shapes}", f"{path}:1")
        time_at, value_at = columns.index(layout[0]), columns.index(layout[1])
        previous: int | None = None
        count = 0
        for line, row in enumerate(reader, start=2):
            if not row:
                continue
            where = f"{path}:{line}"
            if len(row) != len(columns):
                raise FundingError(f"{len(row)} fields, the header has {len(columns)}", where)
            try:
                time = int(row[time_at])
            except ValueError:
                raise FundingError(
                    f"{layout[0]} is not an integer: {row[time_at]!r}", where
                ) from None
            try:
                value = Decimal(row[value_at])
            except InvalidOperation:
                value = Decimal("NaN")
            if not value.is_finite():
                raise FundingError(f"{layout[1]} is not a number: {row[value_at]!r}", where)
            if previous is not None and time <= previous:
                raise FundingError(f"time goes backwards or repeats at {time}", where)
            previous = time
            count += 1
            yield _Row(time, value, line)
        if not count:
            raise FundingError(f"no {kind} rows", f"{path}:2")
