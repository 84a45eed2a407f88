"""Reading funding and mark files: every bad row is a ``FundingError`` naming the file and line."""

from __future__ import annotations

import gzip
from decimal import Decimal
from pathlib import Path

import pytest

from trio_paper.model import Bar, Settlement
from trio_paper.venues.funding import FundingError, read_funding

MIN = 60_000
T0 = 1_746_662_400_000  # 2025-05-08T00:00:00Z, a settlement time


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", ":1: empty file"),
        ("funding_time_ms,rate\n", ":2: no funding rows"),
        ("time,rate\n1,0.1\n", ":1: a funding file needs the columns open_time_ms,open or "),
        (f"funding_time_ms,rate\n{T0},0.0001,7\n", ":2: 3 fields, the header has 2"),
        ("funding_time_ms,rate\n2025-05-08,0.0001\n", ":2: funding_time_ms is not an integer"),
        (f"funding_time_ms,rate\n{T0},\n", ":2: rate is not a number: ''"),
        (f"funding_time_ms,rate\n{T0},inf\n", ":2: rate is not a number: 'inf'"),
        (f"funding_time_ms,rate\n{T0},0.01\n{T0},0.01\n", ":3: time goes backwards or repeats"),
        (f"funding_time_ms,rate\n{T0},1\n", ":2: rate 1 is not a fraction (0.0001 means 0.01 %)"),
    ],
)
def test_a_bad_funding_file_names_its_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "rates.csv"
    path.write_text(text)
    with pytest.raises(FundingError) as error:
        read_funding(path, MIN)
    assert str(error.value).startswith(f"{path}{message}")
    assert isinstance(error.value, ValueError)


def test_a_bad_mark_file_names_its_line(tmp_path: Path) -> None:
    rates = tmp_path / "rates.csv"
    rates.write_text(f"funding_time_ms,rate\n{T0},0.0001\n")
    marks = tmp_path / "marks.csv"
    marks.write_text(f"mark_time_ms,mark\n{T0},100\n{T0 + MIN},0\n")
    with pytest.raises(FundingError, match=r"marks\.csv:3: mark must be > 0: 0"):
        read_funding(rates, MIN, marks)


def test_a_missing_file_is_a_funding_error(tmp_path: Path) -> None:
    with pytest.raises(FundingError, match=r"nope\.csv:0: cannot read"):
        read_funding(tmp_path / "nope.csv", MIN)


def bar(open_time: int, o: str, c: str) -> Bar:
    d = Decimal
    low, high = min(d(o), d(c)), max(d(o), d(c))
    return Bar("BTCUSDT", MIN, open_time, d(o), high, low, d(c), d(1), d(0), "csv")


def test_settlements_go_to_the_bar_ending_at_them_and_a_gap_to_the_next_bars_open(
    tmp_path: Path,
) -> None:
    """A gzipped file. The first bar opens at T0: a settlement at T0 is skipped (no position can
    exist yet); T0 + 1 min + 5 ms is floored to T0 + 1 min, the close of the first bar. Then the
    candles skip a minute: a settlement at T0 + 2 min falls in the gap and goes to the bar
    opening at T0 + 3 min, at its open, ahead of its fills."""
    path = tmp_path / "rates.csv.gz"
    rows = f"funding_time_ms,rate\n{T0},0.1\n{T0 + MIN + 5},0.2\n{T0 + 2 * MIN},0.3\n"
    with gzip.open(path, "wt") as handle:
        handle.write(rows)
    schedule = read_funding(path, MIN)
    D = Decimal
    assert schedule.take(bar(T0, "10", "11")) == [Settlement(T0 + MIN + 5, D("0.2"), D("11"))]
    assert schedule.take(bar(T0 + 3 * MIN, "13", "14")) == [
        Settlement(T0 + 2 * MIN, D("0.3"), D("13"), before_bar=True)
    ]
    assert schedule.take(bar(T0 + 4 * MIN, "14", "15")) == []
