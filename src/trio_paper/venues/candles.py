"""OHLCV candle files (CSV or CSV.gz) as a stream of closed bars.

Reads the shapes in ``shared/data/candles/``: a time column (``open_time_ms`` in ms, or
``open_time`` / ``timestamp`` / ``date`` as text, taken as UTC when it has no zone), then
``open, high, low, close, volume``. Rows must be in time order; the interval is the smallest
step between the first rows unless given.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import operator
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from ..codec import MAX_DECIMAL_EXPONENT, MalformedMessage, strict_decimal
from ..model import Bar
from ..times import datetime_to_ms

_TIME_TEXT_COLUMNS = ("open_time", "timestamp", "date", "time")
_PRICE_COLUMNS = ("open", "high", "low", "close", "volume")


def _open_text(path: Path) -> io.TextIOBase:
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", newline="")
    return path.open(encoding="utf-8", newline="")


def _parse_time_text(text: str) -> int:
    parsed = datetime.fromisoformat(text.strip().replace(" ", "T"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return datetime_to_ms(parsed)


def read_candles(
    path: Path, symbol: str = "BTCUSDT", interval_ms: int | None = None
) -> Iterator[Bar]:
    """Yield each row of ``path`` as a closed ``Bar`` with ``source="csv"``.

    Candle files carry no quote volume; it is estimated as close × volume.
    """
    rows = _timed_rows(path)
    head = list(itertools.islice(rows, 3))
    if interval_ms is None:
        steps = [b[0] - a[0] for a, b in itertools.pairwise(head)]
        interval_ms = min(steps) if steps else 60_000
    for open_time, prices, number in itertools.chain(head, rows):
        yield _bar(symbol, interval_ms, open_time, prices, path, number)


def _timed_rows(path: Path) -> Iterator[tuple[int, tuple[str, ...], int]]:
    """``(open time, (open, high, low, close, volume), line number)`` per data row, checked in
    order. (The line's ``where`` is only formatted for an error: a year is 525,600 rows.)"""
    with _open_text(path) as handle:
        rows = csv.reader(handle)
        try:
            columns = [c.strip() for c in next(rows)]
        except StopIteration:
            raise MalformedMessage("empty file", f"{path}:1") from None
        missing = [c for c in _PRICE_COLUMNS if c not in columns]
        if missing:
            raise MalformedMessage(f"no column(s) {', '.join(missing)}", f"{path}:1")
        ms_column = columns.index("open_time_ms") if "open_time_ms" in columns else None
        text_column = next((columns.index(c) for c in _TIME_TEXT_COLUMNS if c in columns), None)
        if ms_column is None and text_column is None:
            raise MalformedMessage(
                "no time column (open_time_ms, open_time, timestamp)", f"{path}:1"
            )
        prices_of = operator.itemgetter(*(columns.index(c) for c in _PRICE_COLUMNS))
        width = len(columns)
        previous: int | None = None
        for number, row in enumerate(rows, start=2):
            if not row:
                continue
            if len(row) != width:
                raise MalformedMessage(
                    f"{len(row)} fields, the header has {width}", f"{path}:{number}"
                )
            try:
                if ms_column is not None:
                    open_time = _strict_int(row[ms_column])
                else:
                    open_time = _parse_time_text(row[text_column])  # type: ignore[index]
            except ValueError as exc:
                raise MalformedMessage(f"bad time ({exc})", f"{path}:{number}") from None
            if previous is not None and open_time <= previous:
                raise MalformedMessage(
                    f"time goes backwards or repeats at {open_time}", f"{path}:{number}"
                )
            previous = open_time
            yield open_time, prices_of(row), number


def _strict_int(text: str) -> int:
    """Milliseconds as ASCII digits alone: ``int()`` also takes ``" 1"``, ``"1_000"``, ``"١"``."""
    if not (text.isascii() and text.isdigit()):
        raise ValueError(f"not a whole number of ms: {text!r}")
    return int(text)


def _bar(
    symbol: str, interval_ms: int, open_time: int, prices: tuple[str, ...], path: Path, number: int
) -> Bar:
    # Plain numbers (ASCII digits and points, nothing else) are what ``strict_decimal`` takes
    # as they are, and nearly every row: one look at all five. "1.2.3" passes the look and is
    # refused by ``Decimal``; anything else (a sign, an exponent, padding, "_", non-ASCII
    # digits) is read by the rules one number at a time, which name what is wrong.
    probe = "".join(prices)
    try:
        if not (probe.isascii() and probe.replace(".", "").isdigit()):
            raise InvalidOperation
        o, h, lo, c, v = map(Decimal, prices)
        if h.adjusted() > MAX_DECIMAL_EXPONENT or v.adjusted() > MAX_DECIMAL_EXPONENT:
            raise InvalidOperation  # the high is the largest price once the checks below pass
    except InvalidOperation:
        o, h, lo, c, v = _strict_numbers(prices, f"{path}:{number}")
    # lo <= min(o, c) and max(o, c) <= h, spelled out: four comparisons, no calls.
    if not (lo <= o and lo <= c and o <= h and c <= h):
        raise MalformedMessage(f"OHLC inconsistent: o={o} h={h} l={lo} c={c}", f"{path}:{number}")
    if lo <= 0:  # the low is the smallest: every price is positive
        raise MalformedMessage(f"prices must be > 0: l={lo}", f"{path}:{number}")
    return Bar(symbol, interval_ms, open_time, o, h, lo, c, v, c * v, "csv")


def _strict_numbers(prices: tuple[str, ...], where: str) -> list[Decimal]:
    """The prices by ``codec.strict_decimal``'s rules, or an error naming the first bad one."""
    numbers = []
    for text, column in zip(prices, _PRICE_COLUMNS, strict=True):
        try:
            numbers.append(strict_decimal(text))
        except ValueError as exc:
            try:
                finite = Decimal(text).is_finite()
            except InvalidOperation:
                finite = True
            problem = "is not a number" if finite else "is not finite"
            if "out of range" in str(exc):
                problem = f"is out of range (1E+{MAX_DECIMAL_EXPONENT + 1} or more)"
            raise MalformedMessage(f"{column} {problem}: {text!r}", where) from None
    return numbers
