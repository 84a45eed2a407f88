"""Candle files as closed bars: the real files in shared/data/candles read to hand-checked first
bars, and every kind of bad row refused at its line."""

from __future__ import annotations

import gzip
import itertools
from decimal import Decimal
from pathlib import Path

import pytest

from trio_paper.codec import MalformedMessage
from trio_paper.model import Bar
from trio_paper.venues.candles import read_candles

D = Decimal


def _first(path: Path, n: int = 2) -> list[Bar]:
    return list(itertools.islice(read_candles(path), n))


def test_the_binance_1m_file(shared_data: Path) -> None:
    """open_time_ms wins over the text column; quote volume is close × volume
    (30001.9 × 60.905 = 1827265.7195)."""
    bars = _first(shared_data / "candles" / "binance_usdm_BTCUSDT_1m.csv.gz")
    assert bars[0] == Bar(
        "BTCUSDT", 60_000, 1689678780000, D("29996.9"), D("30002"), D("29996.9"),
        D("30001.9"), D("60.905"), D("1827265.7195"), "csv",
    )  # fmt: skip
    assert bars[1].open_time == 1689678840000
    assert bars[1].close == D("30001.4")


def test_the_5m_file_gives_its_interval(shared_data: Path) -> None:
    bars = _first(shared_data / "candles" / "binance_usdm_BTCUSDT_5m_2025-09_2025-10.csv.gz")
    assert [b.interval_ms for b in bars] == [300_000, 300_000]
    assert (bars[0].open_time, bars[0].open, bars[0].volume) == (
        1758240000000, D("117017.1"), D("360.735"),
    )  # fmt: skip


def test_text_times_with_a_zone(shared_data: Path) -> None:
    """2023-03-01 00:00:00+00:00 = 1672531200 s (2023-01-01) + 59 days = 1677628800 s."""
    bars = _first(shared_data / "candles" / "binanceus_spot_BTCUSDT_2023-03_1m.csv.gz")
    assert [b.open_time for b in bars] == [1677628800000, 1677628860000]
    assert bars[0].volume == D("2.131777")


def test_naive_text_times_are_utc(shared_data: Path) -> None:
    """2021-12-31 23:01 UTC is 59 minutes before 2022-01-01 (1640995200 s)."""
    bars = _first(shared_data / "candles" / "btc_perp_2022-01_1m.csv.gz")
    assert bars[0].open_time == (1640995200 - 59 * 60) * 1000
    assert bars[0].interval_ms == 60_000


def test_an_8h_file_with_both_time_columns(shared_data: Path) -> None:
    bars = _first(shared_data / "candles" / "binance_usdm_BTCUSDT_mark_8h.csv")
    assert [b.open_time for b in bars] == [1688486400000, 1688515200000]
    assert bars[0].interval_ms == 8 * 3600 * 1000
    assert bars[0].low == D("30616.33820823")


def test_the_given_interval_and_symbol_are_used(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("open_time_ms,open,high,low,close,volume\n0,1,2,0.5,1.5,10\n")
    (bar,) = read_candles(path, "ETHUSDT", 60_000)
    assert bar == Bar(
        "ETHUSDT", 60_000, 0, D("1"), D("2"), D("0.5"), D("1.5"), D("10"), D("15.0"), "csv"
    )


def test_plain_and_gzipped_read_the_same(tmp_path: Path) -> None:
    text = "open_time_ms,open,high,low,close,volume\n0,1,2,0.5,1.5,10\n60000,1.5,2,1,1,3\n\n"
    plain, packed = tmp_path / "c.csv", tmp_path / "c.csv.gz"
    plain.write_text(text)
    packed.write_bytes(gzip.compress(text.encode()))
    assert list(read_candles(plain)) == list(read_candles(packed))
    assert len(list(read_candles(plain))) == 2  # the blank line is skipped


HEAD = "open_time_ms,open,high,low,close,volume\n"


@pytest.mark.parametrize(
    ("text", "line", "reason"),
    [
        ("", 1, "empty file"),
        ("open_time_ms,open,high,low,close\n0,1,1,1,1\n", 1, "no column(s) volume"),
        ("open,high,low,close,volume\n1,1,1,1,1\n", 1, "no time column"),
        (HEAD + "0,1,1,1,1\n", 2, "5 fields, the header has 6"),
        (HEAD + "0,1,1,1,1,1\nsoon,1,1,1,1,1\n", 3, "bad time"),
        (HEAD + "0,1,1,1,1,1\n60000.5,1,1,1,1,1\n", 3, "bad time"),
        (HEAD + "60000,1,1,1,1,1\n0,1,1,1,1,1\n", 3, "time goes backwards or repeats at 0"),
        (HEAD + "0,1,1,1,1,1\n0,1,1,1,1,1\n", 3, "time goes backwards or repeats"),
        (HEAD + "0,1,1,1,x,1\n", 2, "close is not a number: 'x'"),
        (HEAD + "0,1,1,1,1,NaN\n", 2, "volume is not finite: 'NaN'"),
        (HEAD + "0,1,1,1.5,1,1\n", 2, "OHLC inconsistent: o=1 h=1 l=1.5 c=1"),
        (HEAD + "0,3,2,1,1,1\n", 2, "OHLC inconsistent: o=3 h=2 l=1 c=1"),
        (HEAD + "0,1,1,1,1,1\n60000,0,0,0,0,0\n", 3, "prices must be > 0: l=0"),
        (HEAD + "0,1,1,-1,1,1\n", 2, "prices must be > 0: l=-1"),
    ],
)
def test_bad_rows_are_refused_at_their_line(
    tmp_path: Path, text: str, line: int, reason: str
) -> None:
    path = tmp_path / "c.csv"
    path.write_text(text)
    with pytest.raises(MalformedMessage) as info:
        list(read_candles(path))
    assert info.value.where == f"{path}:{line}"
    assert reason in info.value.reason


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("0,1,1,1,1,1_000", "volume is not a number: '1_000'"),
        ("0,1, 1,1,1,1", "high is not a number: ' 1'"),
        ("0,1,1,1,1 ,1", "close is not a number: '1 '"),
        ("0,\u0661,1,1,1,1", "open is not a number: '\u0661'"),
        ("0,1,1,1,1,Infinity", "volume is not finite: 'Infinity'"),
        ("0,1," + "9" * 32 + ",1,1,1", "high is out of range"),
        ("0,1,1,1,1,1" + "0" * 31, "volume is out of range"),
        ("0,1,1,1,1,1.2.3", "volume is not a number: '1.2.3'"),
        ("1_000,1,1,1,1,1", "bad time"),
        (" 60000,1,1,1,1,1", "bad time"),
        ("\u0666\u0660\u0660\u0660\u0660,1,1,1,1,1", "bad time"),
        ("-60000,1,1,1,1,1", "bad time"),
    ],
)
def test_numbers_follow_the_strict_decimal_rules(tmp_path: Path, row: str, reason: str) -> None:
    """What ``Decimal()`` and ``int()`` take but no candle file should hold: digit separators,
    padding, non-ASCII digits — refused at their line, as ``codec.strict_decimal`` refuses them
    in a frame."""
    path = tmp_path / "c.csv"
    path.write_text(HEAD + row + "\n", encoding="utf-8")
    with pytest.raises(MalformedMessage) as info:
        list(read_candles(path))
    assert info.value.where == f"{path}:2"
    assert reason in info.value.reason


def test_rows_off_the_plain_shape_read_as_the_strict_rules_say(tmp_path: Path) -> None:
    """The careful path takes what ``strict_decimal`` takes (an exponent, a sign, quotes around
    a field) and reads it to the same bars as the plain spelling."""
    odd = HEAD + '0,1,2,0.5,1.5,1E+1\n"60000",+1.5,2,1,1,3.0\n'
    plain = HEAD + "0,1,2,0.5,1.5,10\n60000,1.5,2,1,1,3.0\n"
    (tmp_path / "odd.csv").write_text(odd)
    (tmp_path / "plain.csv").write_text(plain)
    assert list(read_candles(tmp_path / "odd.csv")) == list(read_candles(tmp_path / "plain.csv"))


def test_columns_in_any_order_and_extra_columns(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("volume,note,close,low,high,open,open_time_ms\n10,x y,1.5,0.5,2,1,0\n")
    (bar,) = read_candles(path, "BTCUSDT", 60_000)
    assert (bar.open_time, bar.open, bar.high, bar.low, bar.close, bar.volume) == (
        0, D("1"), D("2"), D("0.5"), D("1.5"), D("10"),
    )  # fmt: skip


def test_a_crlf_file_reads_like_a_lf_one(tmp_path: Path) -> None:
    text = "open_time_ms,open,high,low,close,volume\n0,1,2,0.5,1.5,10\n60000,1.5,2,1,1,3\n"
    (tmp_path / "lf.csv").write_text(text, newline="")
    (tmp_path / "crlf.csv").write_text(text.replace("\n", "\r\n"), newline="")
    assert list(read_candles(tmp_path / "crlf.csv")) == list(read_candles(tmp_path / "lf.csv"))
