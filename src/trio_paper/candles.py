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
from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path

from .codec import MalformedMessage
from .model import Bar
from .times import datetime_to_ms

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


def _decimal(text: str, where: str, column: str) -> Decimal:
    try:
        value = Decimal(text)
    except InvalidOperation:
        raise MalformedMessage(f"{column} is not a number: {text!r}", where) from None
    if not value.is_finite():
        raise MalformedMessage(f"{column} is not finite: {text!r}", where)
    return value


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
    for open_time, row, where in itertools.chain(head, rows):
        yield _bar(symbol, interval_ms, open_time, row, where)


def _timed_rows(path: Path) -> Iterator[tuple[int, list[str], str]]:
    """``(open time, [open, high, low, close, volume], where)`` per data row, checked in order."""
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
        price_index = [columns.index(c) for c in _PRICE_COLUMNS]
        previous: int | None = None
        for number, row in enumerate(rows, start=2):
            where = f"{path}:{number}"
            if not row:
                continue
            if len(row) != len(columns):
                raise MalformedMessage(f"{len(row)} fields, the header has {len(columns)}", where)
            try:
                if ms_column is not None:
                    open_time = int(row[ms_column])
                else:
                    open_time = _parse_time_text(row[text_column])  # type: ignore[index]
            except ValueError as exc:
                raise MalformedMessage(f"bad time ({exc})", where) from None
            if previous is not None and open_time <= previous:
                raise MalformedMessage(f"time goes backwards or repeats at {open_time}", where)
            previous = open_time
            yield open_time, [row[i] for i in price_index], where


def _bar(symbol: str, interval_ms: int, open_time: int, row: list[str], where: str) -> Bar:
    o, h, lo, c, v = (
        _decimal(text, where, name) for text, name in zip(row, _PRICE_COLUMNS, strict=True)
    )
    if not (lo <= min(o, c) and max(o, c) <= h):
        raise MalformedMessage(f"OHLC inconsistent: o={o} h={h} l={lo} c={c}", where)
    return Bar(symbol, interval_ms, open_time, o, h, lo, c, v, c * v, "csv")
