"""The candle reader's blocks and batches read exactly what row by row reads.

``_row_bars`` reads a file one row at a time, each checked, from the csv module's rows: it is the
definition. ``read_candles`` reads the text a block at a time, splits a block of plain lines into
columns itself (``_plain_batch``), falls back to ``_row_bars`` for a block that is not plainly
sound, and hands the rest of the file to the csv module (in batches) at a block it might read
otherwise. Hypothesis writes files of up to three batches with what a block must notice — a bad
number, a short row, a blank line, a time out of order, OHLC out of order, a price out of range,
a text time, a quoted field, a quoted newline, a CR LF line end, a NUL — and reads them with
blocks of a few characters to the default; both must give the same bars, then the same error at
the same line.
"""

from __future__ import annotations

import csv
from decimal import Decimal
from pathlib import Path
from unittest import mock

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trio_paper.model import Bar
from trio_paper.venues import candles
from trio_paper.venues.candles import BATCH_ROWS, CandleError, _Layout, _row_bars, read_candles

HEAD = "open_time_ms,open,high,low,close,volume"
SANE = Decimal("0.1"), Decimal("1000000")
FAULTS = st.sampled_from(
    [
        (1, "x"), (2, ""), (3, "1.2.3"), (4, "-1"), (3, "0"), (5, "1e5"), (1, " 1"),
        (5, "\u0661"), (3, "1000"), (2, "2000000"), (3, "0.01"), (0, "1_000"), (0, "soon"),
        (0, "0"), (0, "+60000"), (5, "NaN"), (0, None), (0, ""), (3, "100.5"),
        (4, "101.5"), (1, "101.5"), (4, "99"), (1, "99"), (2, '"101"'), (3, '"99\n.5"'),
        (5, "1\r"), (4, "10\x000"),
    ]
)  # fmt: skip
"""(column, new text): one field made odd; None drops the row's last field, "" blanks a time."""


@st.composite
def candle_files(draw: st.DrawFn) -> list[str]:
    n = draw(st.integers(0, 3 * BATCH_ROWS))
    lines = [f"{i * 60_000},100.{i % 10},101,99.5,100,{i % 7}.25" for i in range(n)]
    for _ in range(draw(st.integers(0, 2)) if n else 0):
        index = draw(st.integers(0, n - 1))
        column, text = draw(FAULTS)
        fields = lines[index].split(",")
        if len(fields) != 6:  # already cut short by the other fault
            continue
        if text is None:
            fields.pop()
        elif column == 0 and text == "" and draw(st.booleans()):
            fields = []  # a blank line
        else:
            fields[column] = text
        lines[index] = ",".join(fields)
    return [HEAD, *lines]


def _outcome(bars: object) -> tuple[list[Bar], str | None]:
    """The bars read until the first error, and that error (reason and where)."""
    read: list[Bar] = []
    try:
        for bar in bars:  # type: ignore[attr-defined]
            read.append(bar)
    except CandleError as exc:
        return read, f"{exc.where}: {exc.reason}"
    return read, None


def _row_by_row(path: Path, prices: tuple[Decimal, Decimal] | None) -> tuple[list[Bar], str | None]:
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))
    layout = _Layout(path, "BTCUSDT", 60_000, prices, 6, 0, None, (1, 2, 3, 4, 5))
    return _outcome(_row_bars(layout, rows[1:], 2, None))


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    candle_files(),
    st.sampled_from([SANE, None]),
    st.sampled_from([1, 7, 64, 4096, candles.BLOCK_CHARS]),
    st.sampled_from(["\n", ""]),
)
def test_blocks_and_batches_read_as_row_by_row(
    tmp_path_factory: object,
    lines: list[str],
    prices: tuple[Decimal, Decimal] | None,
    block: int,
    end: str,
) -> None:
    """``end``: whether the last line ends in a newline."""
    path = tmp_path_factory.mktemp("candles") / "c.csv"  # type: ignore[attr-defined]
    path.write_bytes(("\n".join(lines) + end).encode())
    with mock.patch.object(candles, "BLOCK_CHARS", block):
        read = _outcome(read_candles(path, "BTCUSDT", 60_000, prices))
    assert read == _row_by_row(path, prices)


def test_a_bad_row_in_the_third_batch_is_named_at_its_line(tmp_path: Path) -> None:
    """The two batches before it are read (1,024 bars); the line is the file's, header included."""
    rows = [f"{i * 60_000},100,101,99,100,1" for i in range(3 * BATCH_ROWS)]
    rows[2 * BATCH_ROWS + 7] = rows[2 * BATCH_ROWS + 7].replace(",99,", ",102,")
    path = tmp_path / "c.csv"
    path.write_text("\n".join([HEAD, *rows]) + "\n")
    bars, error = _outcome(read_candles(path, "BTCUSDT", 60_000, SANE))
    assert len(bars) == 2 * BATCH_ROWS + 7
    assert error == f"{path}:{2 * BATCH_ROWS + 9}: OHLC inconsistent: o=100 h=101 l=102 c=100"


def test_a_time_that_repeats_across_batches_is_refused(tmp_path: Path) -> None:
    """The second batch's first row repeats the first batch's last time."""
    rows = [f"{i * 60_000},100,101,99,100,1" for i in range(2 * BATCH_ROWS)]
    rows[BATCH_ROWS] = rows[BATCH_ROWS - 1]
    path = tmp_path / "c.csv"
    path.write_text("\n".join([HEAD, *rows]) + "\n")
    bars, error = _outcome(read_candles(path, "BTCUSDT", 60_000, SANE))
    assert len(bars) == BATCH_ROWS
    repeated = (BATCH_ROWS - 1) * 60_000
    assert error == f"{path}:{BATCH_ROWS + 2}: time goes backwards or repeats at {repeated}"
