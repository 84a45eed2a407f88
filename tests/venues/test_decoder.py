"""MarketDecoder: one symbol's events out of parsed frames, with the venue clock's skew, the
bar buckets and the feed-health counts."""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path

from trio_paper.model import Bar, BarUpdate, Parsed, Quote
from trio_paper.venues.bitunix import ws as bitunix
from trio_paper.venues.decoder import FeedCounts, MarketDecoder

D = Decimal
MIN = 60_000


def _raw(shared_data: Path, line: int) -> str:
    path = shared_data / "bitunix" / "frames.jsonl"
    raw: str = json.loads(path.read_text(encoding="utf-8").splitlines()[line - 1])["raw"]
    return raw


def test_two_real_kline_pushes_of_one_minute_close_as_the_later_one(shared_data: Path) -> None:
    """frames.jsonl lines 27 and 25 are two pushes of the minute 1786650720000, 2 s apart; the
    bar that closes carries line 25's values."""
    decoder = MarketDecoder.create("BTCUSDT", MIN, 2_000)
    first = decoder.on_frame(1786650730275 + 40, bitunix.parse_frame(_raw(shared_data, 27)))
    second = decoder.on_frame(1786650732204 + 40, bitunix.parse_frame(_raw(shared_data, 25)))
    assert [type(e) for e in first + second] == [BarUpdate, BarUpdate]
    assert decoder.skew_ms == -40
    # Closes when local time + skew reaches the minute's end plus the grace.
    end = 1786650720000 + MIN + 2_000
    assert decoder.on_clock(end + 40 - 1) == []
    assert decoder.on_clock(end + 40) == [
        Bar("BTCUSDT", MIN, 1786650720000, D("63404.6"), D("63404.8"), D("63404.5"),
            D("63404.7"), D("0.2413"), D("15299.54977"), "ws"),
    ]  # fmt: skip


def test_other_symbols_and_control_messages_are_dropped_and_counted(shared_data: Path) -> None:
    decoder = MarketDecoder.create("BTCUSDT", MIN, 2_000)
    connect = decoder.on_frame(1, bitunix.parse_frame(_raw(shared_data, 1)))
    coin_m = decoder.on_frame(2, bitunix.parse_frame(_raw(shared_data, 5)))  # BTCUSD
    tickers = decoder.on_frame(3, bitunix.parse_frame(_raw(shared_data, 24)))  # BTC and ETH
    assert connect == []
    assert coin_m == []
    # The BTCUSDT ticker and quote pass; the ETHUSDT pair is counted.
    btc = bitunix.parse_frame(_raw(shared_data, 24)).events[:2]
    assert tickers == list(btc)
    assert [type(e).__name__ for e in tickers] == ["Ticker", "Quote"]
    decoder.on_bad_frame()
    assert decoder.counts == FeedCounts(frames=4, bad_frames=1, other_symbols=3)


def test_unknown_keys_are_counted() -> None:
    decoder = MarketDecoder.create("BTCUSDT", MIN, 2_000)
    decoder.on_frame(1, Parsed((), unknown=("$.data.x", "$.data.y")))
    assert decoder.counts.unknown_keys == 2


def test_klines_of_another_interval_do_not_touch_the_bars() -> None:
    decoder = MarketDecoder.create("BTCUSDT", MIN, 2_000)
    five = BarUpdate(
        "BTCUSDT", 5 * MIN, 0, D(1), D(1), D(1), D(1), D(1), D(1), 1_000,
    )  # fmt: skip
    assert decoder.on_frame(1_000, Parsed((five,))) == []
    assert decoder.bars.current is None


def test_quotes_pass_through_and_set_the_skew() -> None:
    decoder = MarketDecoder.create("BTCUSDT", MIN, 2_000)
    quote = Quote("BTCUSDT", 10_000, D("1"), D("1"), D("2"), D("1"))
    assert decoder.on_frame(10_070, Parsed((quote,))) == [quote]
    assert decoder.skew_ms == -70


def test_backfill_keeps_this_symbol_and_interval_and_counts() -> None:
    decoder = MarketDecoder.create("BTCUSDT", MIN, 2_000)
    mine = Bar("BTCUSDT", MIN, 0, D(1), D(1), D(1), D(1), D(1), D(1), "rest")
    other = Bar("ETHUSDT", MIN, MIN, D(1), D(1), D(1), D(1), D(1), D(1), "rest")
    five = Bar("BTCUSDT", 5 * MIN, 0, D(1), D(1), D(1), D(1), D(1), D(1), "rest")
    assert decoder.on_backfill(10 * MIN, [mine, other, five]) == [mine]
    assert decoder.counts.backfilled_bars == 1


def test_one_event_alone_is_the_frame_of_that_event(shared_data: Path) -> None:
    """``on_event`` (a replayed push the venue found plainly sane) leaves the decoder as
    ``on_frame`` of the one-event frame does, step by step: outputs, counts, skew, buckets."""
    mark, trades = (bitunix.parse_frame(_raw(shared_data, n)).events for n in (7, 20))
    events = [
        Quote("BTCUSDT", 10_000, D("1"), D("1"), D("2"), D("1")),
        Quote("ETHUSDT", 10_010, D("1"), D("1"), D("2"), D("1")),
        BarUpdate("BTCUSDT", MIN, 0, D(1), D(2), D(1), D(2), D(1), D(1), 10_020),
        BarUpdate("BTCUSDT", MIN, 0, D(1), D(2), D(1), D(2), D(1), D(1), 10_020),  # a duplicate
        BarUpdate("BTCUSDT", 5 * MIN, 0, D(1), D(1), D(1), D(1), D(1), D(1), 10_030),
        BarUpdate("ETHUSDT", MIN, 0, D(1), D(1), D(1), D(1), D(1), D(1), 10_040),
        BarUpdate("BTCUSDT", MIN, 3 * MIN, D(3), D(3), D(3), D(3), D(2), D(6), 3 * MIN + 50),
        *mark,
        *trades,
        *bitunix.parse_frame(_raw(shared_data, 1)).events,  # a control message
        *bitunix.parse_frame(_raw(shared_data, 24)).events,  # a ticker, a quote, ETH's
    ]
    assert len({type(e) for e in events}) == 6  # quote, update, mark, trade, control, ticker
    alone = MarketDecoder.create("BTCUSDT", MIN, 2_000)
    framed = MarketDecoder.create("BTCUSDT", MIN, 2_000)
    for t, event in enumerate(events, start=10_100):
        assert alone.on_event(t, event) == framed.on_frame(t, Parsed((event,)))
        assert alone == framed
    assert framed.counts.frames == len(events)
    assert framed.bars.counts.duplicates == 1
