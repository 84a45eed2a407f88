"""OHLCV candle files (CSV or CSV.gz) as a stream of closed bars.

Reads the shapes in ``shared/data/candles/``: a time column (``open_time_ms`` in ms, or
``open_time`` / ``timestamp`` / ``date`` as text, taken as UTC when it has no zone), then
``open, high, low, close, volume``. Rows must be in time order. The interval is a fact of the
data: the most common step between consecutive open times (``detect_interval``), unless given.

Numbers follow the rules of ``codec.strict_decimal`` (no ``"1_000"``, no padding, no non-ASCII
digits, no NaN); anything that cannot be read is one ``CandleError`` naming the file and line.
"""

from __future__ import annotations

import contextlib
import csv
import functools
import gzip
import io
import itertools
import operator
import os
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import IO, Any, NoReturn, TypeVar, cast

import attrs

from ..batch import builder
from ..codec import MalformedMessage, strict_decimal
from ..model import Bar
from ..times import datetime_to_ms

__all__ = [
    "CandleError", "candle_columns", "detect_interval", "open_candle_text", "read_candles"
]  # fmt: skip

_TIME_TEXT_COLUMNS = ("open_time", "timestamp", "date", "time")
_PRICE_COLUMNS = ("open", "high", "low", "close", "volume")
PROGRESS_ROWS = 4096
BATCH_ROWS = 512
BLOCK_CHARS = 1 << 16
"""Text read at a time by the block reader: about 900 rows of a one-minute file."""
T = TypeVar("T")
INTERVAL_SAMPLE = 10_000
"""Rows ``detect_interval`` looks at: enough for a clear majority, cheap on a year of bars."""


class CandleError(MalformedMessage):
    """A candle file that cannot be read: ``where`` is ``file:line`` (or the file), and why."""


def detect_interval(path: Path) -> int:
    """The bar interval of the candle file at ``path``, in ms: the most common step between
    consecutive open times among its first rows (ties go to the shorter step)."""
    times = (bar.open_time for bar in _bars(path, "", 1, None))
    steps = Counter(b - a for a, b in itertools.pairwise(itertools.islice(times, INTERVAL_SAMPLE)))
    if not steps:
        raise CandleError("fewer than two rows: the interval cannot be told", str(path))
    return min(steps.items(), key=lambda kv: (-kv[1], kv[0]))[0]


def read_candles(
    path: Path,
    symbol: str = "BTCUSDT",
    interval_ms: int | None = None,
    prices: tuple[Decimal, Decimal] | None = None,
    progress: Callable[[float], None] | None = None,
) -> Iterator[Bar]:
    """Yield each row of ``path`` as a closed ``Bar`` with ``source="csv"``.

    ``interval_ms`` None means the file's own (``detect_interval``). Candle files carry no
    quote volume; it is estimated as close × volume. ``prices`` (lowest, highest), when given,
    is the sane range: a row outside it is an error (a price of 1e30 is a broken file).
    ``progress`` is told the fraction of the file read, every ``PROGRESS_ROWS`` rows.
    """
    if interval_ms is None:
        interval_ms = detect_interval(path)
    return _bars(path, symbol, interval_ms, prices, progress)


@contextlib.contextmanager
def open_candle_text(path: Path) -> Iterator[tuple[io.TextIOWrapper, Callable[[], float]]]:
    """A candle file as text (gunzipped if ``.gz``), and how much of the file is read so far
    (a fraction, for a progress bar)."""
    with path.open("rb") as raw:
        size = os.fstat(raw.fileno()).st_size or 1
        binary = cast(
            IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb") if path.suffix == ".gz" else raw
        )
        with io.TextIOWrapper(binary, encoding="utf-8", newline="") as text:
            yield text, lambda: raw.tell() / size


def _parse_time_text(text: str) -> int:
    parsed = datetime.fromisoformat(text.strip().replace(" ", "T"))
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return datetime_to_ms(parsed)


def candle_columns(path: Path) -> Iterator[tuple[list[int], list[Sequence[str]]]]:
    """The rows of a candle file this reader has read whole before (a run's copy), a batch at a
    time as columns: open times in ms, and the texts of open, high, low, close and volume.

    Only a batch that is not plain is read bar by bar, and checked; a file with text times
    is read bar by bar throughout."""
    return _reading(path, lambda handle, at, _: _columns(path, handle, at))


def _bars(
    path: Path,
    symbol: str,
    interval_ms: int,
    prices: tuple[Decimal, Decimal] | None,
    progress: Callable[[float], None] | None = None,
) -> Iterator[Bar]:
    """Each data row as a ``Bar``, checked in order; a file that is not readable text (binary,
    not gzip, cut short) is a ``CandleError`` too."""

    def rows(handle: io.TextIOWrapper, at: _Cursor, fraction: Callable[[], float]) -> Iterator[Bar]:
        read = None if progress is None else lambda: progress(fraction())
        return _rows(path, handle, at, symbol, interval_ms, prices, read)

    return _reading(path, rows)


def _columns(
    path: Path, handle: io.TextIOWrapper, at: _Cursor
) -> Iterator[tuple[list[int], list[Sequence[str]]]]:
    """``candle_columns`` of an open file."""
    layout, batches = _opened(path, handle, at)
    number, previous = at.line() + 1, None
    for columns, rows, count in batches:
        if columns is not None and layout.ms_column is not None:
            try:
                times = list(map(int, columns[layout.ms_column]))
            except ValueError:
                times = []
            texts = [columns[i] for i in layout.price_columns]
            if times and _digits_and_points("".join(itertools.chain(*texts))):
                previous = times[-1]
                number += count
                yield times, texts
                continue
        bars = list(_row_bars(layout, rows(), number, previous))
        if bars:
            previous = bars[-1].open_time
            yield (
                [b.open_time for b in bars],
                [[str(getattr(b, name)) for b in bars] for name in _PRICE_COLUMNS],
            )
        number += count


def _reading(
    path: Path,
    rows_of: Callable[[io.TextIOWrapper, _Cursor, Callable[[], float]], Iterator[T]],
) -> Iterator[T]:
    """``rows_of(handle, cursor, fraction_read)`` over the open file; a file that is not
    readable text (binary, not gzip, cut short) is a ``CandleError``."""
    if path.is_dir():
        raise CandleError("is a directory, not a candle file", str(path))
    at = _Cursor()
    try:
        with open_candle_text(path) as (handle, fraction_read):
            yield from rows_of(handle, at, fraction_read)
    except FileNotFoundError:
        raise CandleError("no such file", str(path)) from None
    except (gzip.BadGzipFile, zlib.error) as exc:
        raise CandleError(f"not a readable gzip file ({exc})", str(path)) from None
    except EOFError:
        raise CandleError(
            "the gzip data is cut short (truncated file)", f"{path}:{_first_bad_line(path)}"
        ) from None
    except UnicodeDecodeError:
        where = f"{path}:{_first_bad_line(path)}"
        raise CandleError("not UTF-8 text: a binary file?", where) from None
    except csv.Error as exc:
        raise CandleError(f"not CSV text ({exc})", f"{path}:{at.line()}") from None
    except OSError as exc:
        raise CandleError(f"cannot read ({exc.strerror or exc})", str(path)) from None


@attrs.define
class _Cursor:
    """Where the csv module is reading, for an error of its own (``csv.Error``)."""

    before: int = 0
    """Lines read before ``rows`` started."""
    rows: Any = None
    """The csv reader reading now, if one is (its ``line_num`` counts from ``before``)."""

    def line(self) -> int:
        """The line the csv module read last: the one its error is in."""
        return self.before + (self.rows.line_num if self.rows is not None else 0)


def _rows(
    path: Path,
    handle: io.TextIOWrapper,
    at: _Cursor,
    symbol: str,
    interval_ms: int,
    prices: tuple[Decimal, Decimal] | None,
    read: Callable[[], None] | None,
) -> Iterator[Bar]:
    """The rows of an open file as bars, ``read`` called every ``PROGRESS_ROWS``.

    Rows come in batches (``_batches``): a year is 525,600 rows, and a batch's numbers are
    converted and compared a column at a time, in C (``_plain_batch``). A batch that is not
    plainly sound goes row by row (``_row_bars``), which is the definition: it yields the same
    bars, and names the line of the first bad row."""
    layout, batches = _opened(path, handle, at)
    layout = attrs.evolve(layout, symbol=symbol, interval_ms=interval_ms, prices=prices)
    previous: int | None = None
    number = at.line() + 1  # the line of the batch's first row
    for columns, rows, count in batches:
        bars = None if columns is None else _plain_batch(layout, columns, previous)
        if bars is None:
            for bar in _row_bars(layout, rows(), number, previous):
                previous = bar.open_time
                yield bar
        elif bars:
            previous = bars[-1].open_time
            yield from bars
        if read is not None and (number + count) // PROGRESS_ROWS != number // PROGRESS_ROWS:
            read()
        number += count


def _opened(path: Path, handle: io.TextIOWrapper, at: _Cursor) -> tuple[_Layout, Iterator[_Batch]]:
    """The file's layout from its header (for bars of no symbol, interval or price range yet),
    and its batches of rows after it."""
    at.rows = header = csv.reader(handle)
    try:
        names = [c.strip() for c in next(header)]
    except StopIteration:
        raise CandleError("empty file", f"{path}:1") from None
    missing = [c for c in _PRICE_COLUMNS if c not in names]
    if missing:
        raise CandleError(f"no column(s) {', '.join(missing)}", f"{path}:1")
    ms_column = names.index("open_time_ms") if "open_time_ms" in names else None
    text_column = next((names.index(c) for c in _TIME_TEXT_COLUMNS if c in names), None)
    if ms_column is None and text_column is None:
        raise CandleError("no time column (open_time_ms, open_time, timestamp)", f"{path}:1")
    layout = _Layout(
        path, "", 0, None, len(names), ms_column, text_column,
        tuple(names.index(c) for c in _PRICE_COLUMNS),
    )  # fmt: skip
    as_columns = ms_column is not None  # text times are read row by row (_row_bars)
    return layout, _batches(handle, layout.width, as_columns, at, header.line_num + 1)


_Batch = tuple[Sequence[Sequence[str]] | None, Callable[[], list[list[str]]], int]
"""A batch of rows: its columns if they are wanted and every row is as wide as the header
(else None), its rows when they are wanted, and how many rows it is."""


def _batches(
    handle: io.TextIOWrapper, width: int, as_columns: bool, at: _Cursor, number: int
) -> Iterator[_Batch]:
    """The rows after the header (the first on line ``number``) in batches, each also as columns
    when ``as_columns`` (the header has ``width`` fields).

    The text is read ``BLOCK_CHARS`` at a time. A block of plain lines (``_plain_lines``) is a
    batch, split at newlines and commas by ``str.split`` alone, its columns slices of that one
    list: no Python code runs for each row. At the first block the csv module might read
    otherwise, the rest of the file, from that block's first line, goes to the csv module,
    ``BATCH_ROWS`` rows a batch."""
    carry = ""  # a line cut by the end of the block
    while True:
        chunk = handle.read(BLOCK_CHARS)
        text = carry + chunk
        if chunk:
            end = text.rfind("\n")
            if end < 0:  # no line ends in this block yet
                carry = text
                continue
            text, carry = text[:end], text[end + 1 :]
        elif not text:
            return
        else:
            carry = ""  # the last line, with no newline after it
        lines = text.split("\n")
        if not _plain_lines(text, lines):
            # From this block's first line; the line cut at its end made whole first.
            block = io.StringIO(f"{text}\n{carry}{handle.readline()}")
            rows = csv.reader(itertools.chain(block, handle))
            at.before, at.rows = number - 1, rows
            while batch := list(itertools.islice(rows, BATCH_ROWS)):
                plain = as_columns and set(map(len, batch)) == {width}
                transposed = list(zip(*batch, strict=True)) if plain else None
                yield transposed, functools.partial(list, batch), len(batch)
            return
        columns: list[list[str]] | None = None
        if as_columns and set(map(str.count, lines, itertools.repeat(","))) == {width - 1}:
            fields = text.replace("\n", ",").split(",")
            columns = [fields[i::width] for i in range(width)]
        yield columns, functools.partial(_split_rows, lines), len(lines)
        number += len(lines)


def _split_rows(lines: list[str]) -> list[list[str]]:
    """Plain lines as the csv module's rows (an empty line is no fields)."""
    return [line.split(",") if line else [] for line in lines]


def _plain_lines(text: str, lines: list[str]) -> bool:
    """Whether the csv module reads each of ``lines`` (``text`` split at newlines) as
    ``line.split(",")``, or an empty line as no row: no quote, carriage return or NUL, and no
    field it would refuse as too long."""
    return (
        '"' not in text
        and "\r" not in text
        and "\0" not in text
        and max(map(len, lines)) <= csv.field_size_limit()
    )


@attrs.frozen
class _Layout:
    """Where a file's columns are, and what its rows are read as."""

    path: Path
    symbol: str
    interval_ms: int
    prices: tuple[Decimal, Decimal] | None
    width: int
    ms_column: int | None
    text_column: int | None
    price_columns: tuple[int, ...]  # open, high, low, close, volume


def _plain_batch(
    layout: _Layout, columns: Sequence[Sequence[str]], previous: int | None
) -> list[Bar] | None:
    """The bars of the rows whose ``columns`` these are (every row as wide as the header) if
    every row is plainly sound, else None (then ``_row_bars`` decides). Plain: times in whole
    ms as ASCII digits, in order after ``previous``, prices of ASCII digits and points, OHLC
    consistent, in range."""
    if layout.ms_column is None:  # never given columns then: _batches knows
        return None
    stamps = columns[layout.ms_column]
    texts = [columns[i] for i in layout.price_columns]
    if not _digits_and_points("".join(itertools.chain(stamps, *texts))):
        return None
    try:
        times = list(map(int, stamps))
        o, h, lo, c, v = (list(map(Decimal, column)) for column in texts)
    except (ValueError, InvalidOperation):  # "" or "1.2.3"
        return None
    le = operator.le
    if not (
        (previous is None or previous < times[0])
        and all(map(operator.lt, times, itertools.islice(times, 1, None)))
        and all(map(le, lo, o))
        and all(map(le, lo, c))
        and all(map(le, o, h))
        and all(map(le, c, h))
        and min(lo) > 0
        and (layout.prices is None or (layout.prices[0] <= min(lo) and max(h) <= layout.prices[1]))
    ):
        return None
    n = len(times)
    return _bars_of_columns(
        itertools.repeat(layout.symbol, n), itertools.repeat(layout.interval_ms, n), times,
        o, h, lo, c, v, map(operator.mul, c, v), itertools.repeat("csv", n), n=n,
    )  # fmt: skip


_bars_of_columns = builder(Bar)
"""``_bars_of_columns(*columns, n=n)``: a batch's bars, a slot at a time (``batch``)."""


def _digits_and_points(text: str) -> bool:
    """Whether ``text`` is ASCII digits and points alone: numbers ``Decimal`` may read as they
    are (``"1.2.3"`` and ``""`` pass here and fail there)."""
    return text.isascii() and text.replace(".", "").isdigit()


def _row_bars(
    layout: _Layout, batch: list[list[str]], first: int, previous: int | None
) -> Iterator[Bar]:
    """The rows of ``batch`` (the first on line ``first``) as bars, one by one, each checked;
    the first bad one is a ``CandleError`` naming its line."""
    path, prices, width = layout.path, layout.prices, layout.width
    ms_column, text_column = layout.ms_column, layout.text_column
    prices_of = operator.itemgetter(*layout.price_columns)
    for number, row in enumerate(batch, start=first):
        if not row:
            continue
        if len(row) != width:
            raise CandleError(f"{len(row)} fields, the header has {width}", f"{path}:{number}")
        try:
            if ms_column is not None:
                text = row[ms_column]
                if not (text.isascii() and text.isdigit()):
                    raise ValueError(f"not a whole number of ms: {text!r}")
                open_time = int(text)
            else:
                open_time = _parse_time_text(row[text_column])  # type: ignore[index]
        except ValueError as exc:
            raise CandleError(f"bad time ({exc})", f"{path}:{number}") from None
        if previous is not None and open_time <= previous:
            raise CandleError(f"time goes backwards or repeats at {open_time}", f"{path}:{number}")
        previous = open_time
        texts = prices_of(row)
        # Plain ASCII digits and points pass at once; anything else (a sign, an exponent, a
        # space, "1_000", "NaN", "١") is checked number by number, as strict_decimal reads it.
        if not _digits_and_points("".join(texts)):
            _strict_numbers(texts, f"{path}:{number}")
        try:
            o, h, lo, c, v = map(Decimal, texts)
        except InvalidOperation:
            _refuse_numbers(texts, f"{path}:{number}")
        # lo <= min(o, c) and max(o, c) <= h, spelled out: four comparisons, no calls.
        if not (lo <= o and lo <= c and o <= h and c <= h):
            raise CandleError(f"OHLC inconsistent: o={o} h={h} l={lo} c={c}", f"{path}:{number}")
        if lo <= 0:  # the low is the smallest: every price is positive
            raise CandleError(f"prices must be > 0: l={lo}", f"{path}:{number}")
        if prices is not None and not (prices[0] <= lo and h <= prices[1]):
            raise CandleError(
                f"a price outside [{prices[0]}, {prices[1]}] (instrument.tick_size to "
                f"instrument.max_price_usdt): l={lo:f} h={h:f}",
                f"{path}:{number}",
            )
        yield Bar(layout.symbol, layout.interval_ms, open_time, o, h, lo, c, v, c * v, "csv")


def _first_bad_line(path: Path) -> int:
    """The number of the first line that cannot be read whole: not UTF-8, or cut off with the
    gzip data. Looked for only when one is: the reader reads blocks, and does not count lines."""
    opener = gzip.open if path.suffix == ".gz" else open
    number = 0
    try:
        with opener(path, "rb") as raw:
            for number, line in enumerate(raw, start=1):  # noqa: B007 (number is the answer)
                line.decode("utf-8")
    except UnicodeDecodeError:
        return number
    except (OSError, EOFError, zlib.error):
        pass
    return number + 1


def _strict_numbers(prices: tuple[str, ...], where: str) -> None:
    """The slow path for a row the fast check did not pass: each number by ``strict_decimal``."""
    for text, column in zip(prices, _PRICE_COLUMNS, strict=True):
        try:
            strict_decimal(text)
        except ValueError as exc:
            raise CandleError(f"{column}: {exc}", where) from None


def _refuse_numbers(prices: tuple[str, ...], where: str) -> NoReturn:
    """Name the first of ``prices`` that is not a number (``"1.2.3"`` passes the fast check)."""
    _strict_numbers(prices, where)
    raise AssertionError(f"{where}: every price is a finite number")
