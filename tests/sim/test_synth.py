"""Recordings built from real candles: deterministic bytes, each minute's last kline push equal to
its candle, a path through both extremes, quotes around the price, funding in percent, a final
tick that closes the last bar, and the shipped recordings rebuilt byte for byte."""

from __future__ import annotations

import csv
import gzip
import itertools
import json
import re
import shlex
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trio_paper.inputs import Backfill, Frame, Item, SessionStart, StopRequested, Tick
from trio_paper.model import Bar, MarkPrice
from trio_paper.sim.synth import FundingRates, from_candles, price_path
from trio_paper.store.recording import Header, RecordingReader
from trio_paper.venues.bitunix import rest as bitunix_rest
from trio_paper.venues.bitunix import ws as bitunix
from trio_paper.venues.decoder import MarketDecoder

D = Decimal
MIN = 60_000
REPO = Path(__file__).resolve().parents[2]
START = 1746707340000  # 2025-05-08T12:29:00Z, the demo's first minute
TICK = D("0.1")


def _candle_rows(shared_data: Path, start: int, minutes: int) -> list[dict[str, str]]:
    """The source rows, read with the csv module alone."""
    path = shared_data / "candles" / "binance_usdm_BTCUSDT_1m.csv.gz"
    end = start + minutes * MIN
    with gzip.open(path, "rt", encoding="utf-8", newline="") as handle:
        return [row for row in csv.DictReader(handle) if start <= int(row["open_time_ms"]) < end]


def _build(shared_data: Path, out: Path, minutes: int = 3, warmup: int = 5) -> int:
    candles = shared_data / "candles"
    return from_candles(
        candles / "binance_usdm_BTCUSDT_1m.csv.gz", "2025-05-08T12:29:00Z", minutes, warmup,
        candles / "binance_usdm_BTCUSDT_funding_rate_8h.csv", "BTCUSDT", 0, out,
    )  # fmt: skip


@pytest.fixture(scope="module")
def small(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Three minutes from 12:29 with a five-candle warm-up, as plain lines."""
    out = tmp_path_factory.mktemp("small") / "small.jsonl"
    assert _build(shared_data, out) == 3 * 270 + 6
    return out


def _items(path: Path) -> tuple[Header, list[Item]]:
    with RecordingReader(path) as reader:
        items = list(reader)
        assert reader.truncated is None
        return reader.header, items


def _pushes(items: list[Item]) -> Iterator[tuple[int, dict[str, Any]]]:
    for item in items:
        if isinstance(item, Frame):
            assert isinstance(item.raw, str)
            yield item.t, json.loads(item.raw)


# --- the intrabar path -----------------------------------------------------------------------


def _bar(o: str, h: str, lo: str, c: str) -> Bar:
    return Bar("BTCUSDT", MIN, 0, D(o), D(h), D(lo), D(c), D("1"), D("1"), "csv")


def test_path_of_a_real_down_minute() -> None:
    """12:29: o 99400.1 h 99400.1 l 99370 c 99379.9; the open is the high, so the walk goes
    down to the low, back to the high... and ends at the close, 120 steps in all."""
    path = price_path(_bar("99400.1", "99400.1", "99370", "99379.9"), 120)
    assert len(path) == 120
    assert (path[0], path[-1]) == (D("99400.1"), D("99379.9"))
    assert (max(path), min(path)) == (D("99400.1"), D("99370"))


def test_path_of_a_flat_minute_still_has_every_step() -> None:
    """A minute without a trade (o = h = l = c) still gets a push every 500 ms."""
    path = price_path(_bar("100", "100", "100", "100"), 120)
    assert path == [D("100")] * 120


@given(
    st.lists(st.integers(0, 5000), min_size=4, max_size=4),
    st.integers(4, 240),
)
def test_any_path_starts_at_open_touches_both_extremes_and_ends_at_close(
    prices: list[int], steps: int
) -> None:
    low, a, b, high = sorted(prices)
    o, c = (a, b) if prices[0] % 2 else (b, a)
    bar = _bar(str(o * TICK + 1000), str(high * TICK + 1000), str(low * TICK + 1000),
               str(c * TICK + 1000))  # fmt: skip
    path = price_path(bar, steps)
    assert len(path) == steps
    assert (path[0], path[-1]) == (bar.open, bar.close)
    assert (max(path), min(path)) == (bar.high, bar.low)
    assert all(p % TICK == 0 for p in path)


# --- a small recording, frame by frame -------------------------------------------------------


def test_building_twice_gives_identical_bytes(
    shared_data: Path, small: Path, tmp_path: Path
) -> None:
    again = tmp_path / "small.jsonl"
    _build(shared_data, again)
    assert again.read_bytes() == small.read_bytes()
    packed_a, packed_b = tmp_path / "a" / "r.jsonl.gz", tmp_path / "b" / "r.jsonl.gz"
    for out in (packed_a, packed_b):
        out.parent.mkdir()
        _build(shared_data, out)
    assert packed_a.read_bytes() == packed_b.read_bytes()
    assert gzip.decompress(packed_a.read_bytes()) == small.read_bytes()


def test_header_and_control_items(shared_data: Path, small: Path) -> None:
    header, items = _items(small)
    assert header.venue == "bitunix"
    assert header.symbol == "BTCUSDT"
    assert header.channels == ["market_kline_1min", "depth_book1", "trade", "price"]
    assert header.interval == "1min"
    assert header.created == "2025-05-08T12:29:00Z"
    assert "binance_usdm_BTCUSDT_1m.csv.gz" in header.source
    assert [item.seq for item in items] == list(range(1, len(items) + 1))
    assert isinstance(items[0], SessionStart)
    assert [type(item).__name__ for item in items[1:4]] == [
        "FeedConnected", "Subscribed", "Backfill",
    ]  # fmt: skip
    assert isinstance(items[-2], Tick)
    assert isinstance(items[-1], StopRequested)
    ts = [item.t for item in items]
    assert ts == sorted(ts)  # receive times never go back


def test_the_warmup_backfill_carries_the_candles_before_the_start(
    shared_data: Path, small: Path
) -> None:
    _, items = _items(small)
    backfill = items[3]
    assert isinstance(backfill, Backfill)
    assert (backfill.start, backfill.end) == (START - 5 * MIN, START)
    assert backfill.body is not None
    bars = bitunix_rest.parse_klines(backfill.body, "BTCUSDT", MIN)
    rows = _candle_rows(shared_data, START - 5 * MIN, 5)
    assert [(b.open_time, b.close, b.volume) for b in bars] == [
        (int(r["open_time_ms"]), D(r["close"]), D(r["volume"])) for r in rows
    ]


def test_each_minutes_kline_pushes(shared_data: Path, small: Path) -> None:
    """A push every 500 ms inside its minute; the first at the open, the running high and low
    reaching the candle's, and the last carrying the candle's exact OHLCV."""
    _, items = _items(small)
    klines = [(t, f) for t, f in _pushes(items) if f["ch"] == "market_kline_1min"]
    rows = _candle_rows(shared_data, START, 3)
    assert len(klines) == 3 * 120
    for minute, row in enumerate(rows):
        pushes = [f for _, f in klines[minute * 120 : (minute + 1) * 120]]
        open_time = int(row["open_time_ms"])
        stamps = [f["ts"] for f in pushes]
        assert all(open_time <= ts < open_time + MIN for ts in stamps)
        assert {b - a for a, b in itertools.pairwise(stamps)} == {500}
        assert D(pushes[0]["data"]["c"]) == D(row["open"])
        walked = [D(f["data"]["c"]) for f in pushes]
        assert (max(walked), min(walked)) == (D(row["high"]), D(row["low"]))
        last = pushes[-1]["data"]
        assert [D(last[k]) for k in "ohlcb"] == [
            D(row[k]) for k in ("open", "high", "low", "close", "volume")
        ]
        volumes = [D(f["data"]["b"]) for f in pushes]
        assert volumes == sorted(volumes)


def test_quotes_bracket_the_price(small: Path) -> None:
    """Each depth_book1 follows a kline push 3 ms later: bid < ask, bid ≤ last ≤ ask, a spread
    of one to five ticks, all on the tick grid."""
    _, items = _items(small)
    last: Decimal | None = None
    quotes = 0
    for _, frame in _pushes(items):
        if frame["ch"] == "market_kline_1min":
            last = D(frame["data"]["c"])
            kline_ts = frame["ts"]
        elif frame["ch"] == "depth_book1":
            assert last is not None
            assert frame["ts"] == kline_ts + 3
            ((bid, bid_qty),), ((ask, ask_qty),) = frame["data"]["b"], frame["data"]["a"]
            bid, ask = D(bid), D(ask)
            assert bid < ask
            assert bid <= last <= ask
            assert (ask - bid) / TICK in {1, 2, 3, 5}
            assert bid % TICK == ask % TICK == 0
            assert D(bid_qty) > 0 < D(ask_qty)
            quotes += 1
    assert quotes == 3 * 120


def test_price_frames_carry_the_funding_rate_in_percent(small: Path) -> None:
    """At 12:29 on 2025-05-08 the last settlement was 08:00 at 4.608e-05 (the CSV's row), which
    Bitunix would send as 0.004608 percent; mark and index stay within 3 bps of the price."""
    _, items = _items(small)
    last = D(0)
    prices = []
    for _, frame in _pushes(items):
        if frame["ch"] == "market_kline_1min":
            last = D(frame["data"]["c"])
        elif frame["ch"] == "price":
            prices.append(frame)
            data = frame["data"]
            assert (data["fr"], data["ft"], data["nft"]) == (
                "0.004608", "2025-05-08T08:00:00Z", "2025-05-08T16:00:00Z",
            )  # fmt: skip
            for key in ("mp", "ip"):
                assert abs(D(data[key]) - last) / last < D("0.0003")
    assert len(prices) == 3 * 30  # one every 2 s
    parsed = bitunix.parse_frame(json.dumps(prices[0]))
    (mark,) = parsed.events
    assert isinstance(mark, MarkPrice)
    assert mark.funding_rate == D("0.00004608")


def test_receive_times_trail_the_exchange_times(small: Path) -> None:
    _, items = _items(small)
    for t, frame in _pushes(items):
        assert t - frame["ts"] >= 20


def test_the_final_tick_closes_the_last_bar(shared_data: Path, small: Path) -> None:
    """Through MarketDecoder (venue clock = receive time + skew), every minute closes: the
    last one on the recording's final tick."""
    _, items = _items(small)
    decoder = MarketDecoder.create("BTCUSDT", MIN, 2_000)
    closed: list[Bar] = []
    for item in items:
        if isinstance(item, Frame):
            parsed = bitunix.parse_frame(item.raw)
            closed += [e for e in decoder.on_frame(item.t, parsed) if isinstance(e, Bar)]
        elif isinstance(item, Tick):
            closed += decoder.on_clock(item.t)
    assert [bar.open_time for bar in closed] == [START, START + MIN, START + 2 * MIN]


def test_funding_rates_by_settlement(shared_data: Path) -> None:
    rates = FundingRates(shared_data / "candles" / "binance_usdm_BTCUSDT_funding_rate_8h.csv")
    # 16:00:00.002 in the file is the 16:00 settlement.
    assert rates.settled_before(1746720000000 + 5 * MIN) == (1746720000000, D("5.728e-05"))
    assert rates.settled_before(1746720000000 - 1) == (1746691200000, D("4.608e-05"))
    assert FundingRates(None).settled_before(1746720000000) == (1746720000000, D(0))
    assert rates.settled_before(0) == (0, D(0))  # before the file: none known


def test_bad_requests(shared_data: Path, tmp_path: Path) -> None:
    candles = shared_data / "candles" / "binance_usdm_BTCUSDT_1m.csv.gz"
    with pytest.raises(ValueError, match="is not on a minute"):
        from_candles(candles, "2025-05-08T12:29:30Z", 3, 0, None, "BTCUSDT", 0, tmp_path / "x")
    with pytest.raises(ValueError, match="has 0 of the 3 minutes"):
        from_candles(candles, "2024-01-01T00:00:00Z", 3, 0, None, "BTCUSDT", 0, tmp_path / "x")


# --- the shipped recordings -------------------------------------------------------------------


def _makefile_commands() -> dict[str, list[str]]:
    """The ``recordings from-candles`` commands of ``make recordings``, by output file name."""
    text = (REPO / "Makefile").read_text(encoding="utf-8").replace("\\\n", " ")
    candles = re.search(r"^CANDLES\s*:=\s*(\S+)", text, re.MULTILINE)
    assert candles is not None
    commands = {}
    for line in text.splitlines():
        if "recordings from-candles" in line:
            words = shlex.split(line.replace("$(CANDLES)", candles[1]))
            args = words[words.index("from-candles") + 1 :]
            commands[Path(args[args.index("--out") + 1]).name] = args
    return commands


def _trio_paper() -> list[str]:
    script = Path(sys.executable).parent / "trio-paper"
    return [str(script)] if script.exists() else [sys.executable, "-m", "trio_paper"]


def _rebuild(name: str, tmp_path: Path) -> Path:
    args = _makefile_commands()[name]
    out = tmp_path / name  # same file name: gzip stores it in its header
    args[args.index("--out") + 1] = str(out)
    run = subprocess.run(
        [*_trio_paper(), "recordings", "from-candles", *args],
        cwd=REPO, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert run.stdout.startswith("wrote ")
    return out


def test_the_shipped_demo_is_what_make_recordings_builds(
    demo_recording: Path, tmp_path: Path
) -> None:
    rebuilt = _rebuild(demo_recording.name, tmp_path)
    assert rebuilt.read_bytes() == demo_recording.read_bytes()


@pytest.mark.slow
def test_the_shipped_day_is_what_make_recordings_builds(
    day_recording: Path, tmp_path: Path
) -> None:
    rebuilt = _rebuild(day_recording.name, tmp_path)
    assert rebuilt.read_bytes() == day_recording.read_bytes()
