"""Candle files as closed bars: the real files in shared/data/candles read to hand-checked first
bars, and every kind of bad row refused at its line."""

from __future__ import annotations

import csv
import gzip
import itertools
import json
from decimal import Decimal
from pathlib import Path

import pytest

from trio_paper.cli import main
from trio_paper.model import Bar
from trio_paper.venues.candles import CandleError, detect_interval, read_candles

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
        (HEAD + "0,1,1,1,x,1\n", 2, "close: not a decimal number: 'x'"),
        (HEAD + "0,1,1,1,1,NaN\n", 2, "volume: not a decimal number: 'NaN'"),
        (HEAD + "0,1,1,1,1,1_000\n", 2, "volume: not a decimal number: '1_000'"),
        (HEAD + "0,1,1,1,1, 1\n", 2, "volume: not a decimal number: ' 1'"),
        (HEAD + "0,1,1,1,1,\u0661\n", 2, "volume: not a decimal number"),
        (HEAD + "0,1,1,1,1.2.3,1\n", 2, "close: not a decimal number: '1.2.3'"),
        (HEAD + "0,1,1,1,1,1e99\n", 2, "volume: decimal out of range"),
        (HEAD + "1_000,1,1,1,1,1\n", 2, "bad time (not a whole number of ms: '1_000')"),
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
    with pytest.raises(CandleError) as info:
        list(read_candles(path, interval_ms=60_000))
    assert info.value.where == f"{path}:{line}"
    assert reason in info.value.reason


@pytest.mark.parametrize(
    ("row", "reason"),
    [
        ("0,100,1000000000000000000000000000000,99,100,1", "h=1000000000000000000000000000000"),
        ("0,100,101,0.00000000000000000001,100,1", "l=0.00000000000000000001"),
    ],
)
def test_absurd_prices_are_refused_at_their_line_given_the_sane_range(
    tmp_path: Path, row: str, reason: str
) -> None:
    """Well-formed and absurd (1e30, 1e-20): refused before any bar reaches the broker."""
    path = tmp_path / "c.csv"
    path.write_text(f"{HEAD}60000,100,101,99,100,1\n{row.replace('0,', '120000,', 1)}\n")
    sane = Decimal("0.1"), Decimal("10000000")
    with pytest.raises(CandleError) as info:
        list(read_candles(path, interval_ms=60_000, prices=sane))
    assert info.value.where == f"{path}:3"
    assert "a price outside [0.1, 10000000]" in info.value.reason
    assert reason in info.value.reason


def _written(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_bytes(gzip.compress(text.encode()) if name.endswith(".gz") else text.encode())
    return path


def test_a_read_error_is_a_value_error_naming_the_file() -> None:
    """The CLI's one ``ValueError`` door takes it: no traceback for a bad file."""
    assert issubclass(CandleError, ValueError)


def test_the_interval_is_the_most_common_step(tmp_path: Path) -> None:
    """5-minute bars with one 10-minute hole and one 1-hour hole: the spacing is 5 minutes,
    whatever the first rows say (a hole right at the start)."""
    times = [0, 600_000, 900_000, 1_200_000, 4_800_000, 5_100_000, 5_400_000]
    rows = "".join(f"{t},1,1,1,1,1\n" for t in times)
    path = _written(tmp_path, "c.csv", HEAD + rows)
    assert detect_interval(path) == 300_000
    assert {b.interval_ms for b in read_candles(path)} == {300_000}


def test_the_real_files_tell_their_interval(shared_data: Path) -> None:
    candles = shared_data / "candles"
    assert detect_interval(candles / "binance_usdm_BTCUSDT_1m.csv.gz") == 60_000
    assert detect_interval(candles / "binance_usdm_BTCUSDT_5m_2025-09_2025-10.csv.gz") == 300_000
    assert detect_interval(candles / "binance_usdm_BTCUSDT_mark_8h.csv") == 8 * 3_600_000


def test_one_row_has_no_interval(tmp_path: Path) -> None:
    path = _written(tmp_path, "c.csv", HEAD + "0,1,1,1,1,1\n")
    with pytest.raises(CandleError, match="fewer than two rows"):
        detect_interval(path)


def _refusal(path: Path) -> CandleError:
    with pytest.raises(CandleError) as info:
        list(read_candles(path, interval_ms=60_000))
    assert str(path) in str(info.value)
    return info.value


def test_a_directory_is_refused(tmp_path: Path) -> None:
    assert "is a directory" in str(_refusal(tmp_path))


def test_a_missing_file_is_refused(tmp_path: Path) -> None:
    assert "no such file" in str(_refusal(tmp_path / "nope.csv"))


def test_a_binary_file_is_refused_at_its_line(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(HEAD.encode() + b"0,1,1,1,1,1\n" + bytes(range(128, 256)) + b"\n")
    error = _refusal(path)
    assert error.where == f"{path}:3"
    assert "not UTF-8" in error.reason


def test_a_file_with_nul_bytes_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_bytes(HEAD.encode() + b"0,1,1,1\x00,1,1\n")
    error = _refusal(path)
    assert (error.where, error.reason) == (f"{path}:2", "low: not a decimal number: '1\\x00'")


@pytest.mark.parametrize("name", ["c.csv", "c.csv.gz"])
def test_text_the_csv_module_refuses_is_named_at_its_line(tmp_path: Path, name: str) -> None:
    """A field longer than the csv module's limit, after 5,000 plain rows (several blocks): the
    csv module reads from the block it is in, and its error names the file's line."""
    rows = "".join(f"{n * 60_000},100,101,99,100.5,1\n" for n in range(5000))
    huge = "1" * (csv.field_size_limit() + 1)
    path = _written(tmp_path, name, HEAD + rows + f"300000000,100,101,99,100,{huge}\n")
    error = _refusal(path)
    assert (error.where, error.reason) == (
        f"{path}:5002",
        f"not CSV text (field larger than field limit ({csv.field_size_limit()}))",
    )


def test_a_gz_that_is_not_gzip_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.csv.gz"
    path.write_text(HEAD + "0,1,1,1,1,1\n")
    assert "not a readable gzip file" in _refusal(path).reason


def test_a_truncated_gz_is_refused_after_its_last_whole_line(tmp_path: Path) -> None:
    rows = "".join(f"{i * 60_000},1,1,1,1,1\n" for i in range(2000))
    packed = gzip.compress((HEAD + rows).encode())
    path = tmp_path / "c.csv.gz"
    path.write_bytes(packed[: len(packed) // 2])
    error = _refusal(path)
    assert "truncated" in error.reason
    line = int(error.where.rpartition(":")[2])
    assert 2 < line < 2002


def test_a_hole_in_a_candle_replay_is_a_counted_gap(tmp_path: Path) -> None:
    """Two 1-minute bars 626 days apart: one gap of 626 × 1440 − 1 missing bars, journaled as a
    feed gap and counted in the summary (it said ``gaps 0``)."""
    late = 626 * 86_400_000
    path = _written(tmp_path, "c.csv", HEAD + f"0,1,1,1,1,1\n60000,1,1,1,1,1\n{late},1,1,1,1,1\n")
    assert main(["--home", str(tmp_path), "replay", "--file", str(path), "--run-id", "r"]) == 0
    summary = json.loads((tmp_path / "runs" / "r" / "summary.json").read_text())
    assert summary["feed"]["gaps"] == 1
    assert summary["feed"]["gap_bars"] == 626 * 1440 - 2
    assert summary["feed"]["missing"] == 626 * 1440 - 2
    assert summary["health"] == "degraded"
    assert summary["health_reasons"] == [f"1 gap: {626 * 1440 - 2:,} bars missing"]


@pytest.mark.parametrize("name", ["c.csv", "c.csv.gz"])
def test_progress_is_the_share_of_the_file_read(tmp_path: Path, name: str) -> None:
    """Every 4,096 rows the reader says how much of the file (compressed or not) it has read:
    rising, within (0, 1], about where the row is."""
    rows = 20_000
    body = "".join(f"{n * 60_000},100,101,99,100.5,{n % 97}\n" for n in range(rows))
    path = tmp_path / name
    text = (HEAD + body).encode()
    path.write_bytes(gzip.compress(text) if name.endswith(".gz") else text)
    seen: list[float] = []
    assert len(list(read_candles(path, interval_ms=60_000, progress=seen.append))) == rows
    assert len(seen) == (rows + 1) // 4096
    assert seen == sorted(seen)
    assert 0 < seen[0] < seen[-1] <= 1
    # The last at line 16,384 of 20,001: a gzip's reader runs ahead by a compressed buffer.
    assert seen[-1] == pytest.approx(16_384 / (rows + 1), abs=0.1)
