"""Binance USD-M frames → events: every real frame decodes, a sample of each kind is checked
field by field, and anything off-schema is refused with the path to what is wrong."""

from __future__ import annotations

import json
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest

from tests.venues.binance_usdm.binance_frames import docs, real_samples, recorded, samples, text
from trio_paper.codec import MalformedMessage
from trio_paper.model import (
    BarUpdate,
    MarkPrice,
    Parsed,
    Quote,
    Side,
    SubscribeResult,
    Ticker,
    Trade,
)
from trio_paper.venues.binance_usdm import ws
from trio_paper.venues.binance_usdm.ws import Client, parse_frame

HOUR = 3_600_000


@pytest.fixture(autouse=True)
def _data(shared_data: Path) -> None:
    """Fail, not skip, when ../shared/data is missing (the frame lists would be empty)."""


# --- every real frame ------------------------------------------------------------------------


def test_every_frame_of_the_2021_capture_decodes_with_no_unknown_keys() -> None:
    frames = recorded()
    assert len(frames) == 1535
    kinds: dict[str, int] = {}
    for raw in frames:
        parsed = parse_frame(raw)
        assert parsed.unknown == ()
        kind = json.loads(raw)["stream"].split("@", 1)[1]
        kinds[kind] = kinds.get(kind, 0) + 1
        events = {type(e) for e in parsed.events}
        expected = {
            "bookTicker": {Quote}, "aggTrade": {Trade}, "kline_1m": {BarUpdate},
            "depth@100ms": set(),
        }[kind]  # fmt: skip
        assert events == expected, raw
    assert kinds == {"bookTicker": 613, "depth@100ms": 764, "kline_1m": 67, "aggTrade": 91}


def test_every_real_btcusdt_sample_decodes() -> None:
    frames = real_samples()
    assert len(frames) == 13
    for frame in frames:
        parse_frame(text(frame))


def test_the_two_samples_tardis_synthesized_are_not_binance_streams() -> None:
    """``depthSnapshot`` and ``openInterest`` are REST answers tardis dressed up as pushes;
    Binance sends no such streams, so they are refused (even without tardis's own marker)."""
    generated = [msg for msg in samples() if msg.get("generated")]
    assert [m["stream"] for m in generated] == ["btcusdt@depthSnapshot", "btcusdt@openInterest"]
    for frame in generated:
        del frame["generated"]
        with pytest.raises(MalformedMessage, match="unknown stream") as caught:
            parse_frame(text(frame))
        assert caught.value.where == "$.stream"


def test_every_docs_example_decodes_and_its_extra_fields_are_counted() -> None:
    frames = docs()
    assert len(frames) == 14
    unknown = [parse_frame(text(frame)).unknown for frame in frames]
    assert unknown[0] == ("$.st",)  # aggTrade
    assert unknown[1] == ("$.ps", "$.st")  # bookTicker
    assert unknown[3] == ()  # kline closed


# --- field by field, one of each kind ---------------------------------------------------------


def test_a_kline_push_of_the_capture() -> None:
    raw = next(r for r in recorded() if "kline" in r)
    assert parse_frame(raw) == Parsed((
        BarUpdate("CTKUSDT", 60_000, 1626992700000, D("1.01000"), D("1.01100"), D("1.01000"),
                  D("1.01100"), D("3917"), D("3957.89900"), 1626992741424, closed=False),
    ))  # fmt: skip


def test_the_closing_kline_push_of_the_capture_is_closed() -> None:
    raw = next(r for r in recorded() if '"x":true' in r and "SUSHIUSDT" in r)
    (update,) = parse_frame(raw).events
    assert update == BarUpdate(
        "SUSHIUSDT", 60_000, 1626992700000, D("7.6080"), D("7.6180"), D("7.6070"),
        D("7.6170"), D("3005"), D("22875.8590"), 1626992760203, closed=True,
    )  # fmt: skip


def test_the_docs_klines_open_and_closed() -> None:
    closed, still_open = (parse_frame(text(f)).events[0] for f in docs()[3:5])
    assert closed == BarUpdate(
        "BTCUSDT", 60_000, 1638747660000, D("0.0010"), D("0.0025"), D("0.0010"), D("0.0020"),
        D("1000"), D("1.0000"), 1638747660000, closed=True,
    )  # fmt: skip
    assert isinstance(still_open, BarUpdate)
    assert not still_open.closed
    assert still_open.low == D("0.0015")


def test_a_btcusdt_book_ticker() -> None:
    assert parse_frame(text(samples()[14])) == Parsed((
        Quote("BTCUSDT", 1612137603571, D("33134.42"), D("0.170"), D("33139.39"), D("0.380")),
    ))  # fmt: skip


def test_a_book_ticker_of_the_capture() -> None:
    assert parse_frame(recorded()[0]).events == (
        Quote("SUSHIUSDT", 1626992741017, D("7.6110"), D("2"), D("7.6120"), D("297")),
    )


def test_a_btcusdt_agg_trade_of_2019_without_an_id() -> None:
    assert parse_frame(text(samples()[0])).events == (
        Trade("BTCUSDT", 1568693103463, 1568693103463, D("10223.74"), D("0.236"), Side.BUY),
    )


def test_an_agg_trade_with_buyer_as_maker_was_a_sell() -> None:
    assert parse_frame(text(docs()[0])).events == (
        Trade("BTCUSDT", 123456789, 123456785, D("0.001"), D("100"), Side.SELL),
    )


def test_a_btcusdt_mark_price_maps_next_funding_to_the_settlement_before_it() -> None:
    (mark,) = parse_frame(text(samples()[9])).events
    assert mark == MarkPrice(
        "BTCUSDT", 1597536008000, D("11857.56000000"), D("11851.86949091"), D("0.00015640"),
        1597564800000 - 8 * HOUR, 1597564800000, D("0.00015640"),
    )  # fmt: skip
    assert mark.funding_time == 1597536000000  # 2020-08-16T00:00:00Z, 8 s before E


def test_a_2019_mark_price_has_no_index_and_uses_the_mark() -> None:
    (mark,) = parse_frame(text(samples()[2])).events
    assert mark == MarkPrice(
        "BTCUSDT", 1569888003001, D("8291.34697815"), D("8291.34697815"), D("0.00010000"),
        1569916800000 - 8 * HOUR, 1569916800000, D("0.00010000"),
    )  # fmt: skip


def test_a_delivery_contract_mark_price_has_no_funding_times() -> None:
    (mark,) = parse_frame(text(samples()[13])).events
    assert isinstance(mark, MarkPrice)
    assert (mark.symbol, mark.funding_time, mark.next_funding_time) == ("BTCBUSD_210129", 0, 0)


def test_a_btcusdt_ticker() -> None:
    assert parse_frame(text(samples()[1])).events == (
        Ticker("BTCUSDT", 1568693103467, D("10223.74"), D("10311.91"), D("10329.38"),
               D("10080.70"), D("20248.900"), D("207024349.13"), D("-0.855")),
    )  # fmt: skip


def test_market_trades_are_trades_and_insurance_fund_fills_are_not() -> None:
    assert parse_frame(text(samples()[11])).events == (
        Trade("BTCUSDT", 1596240000596, 1596240000519, D("11343.67"), D("0.467"), Side.SELL),
    )
    assert parse_frame(text(samples()[4])).events == (  # 2019: no X at all
        Trade("BTCUSDT", 1574381164089, 1574381164086, D("7627.60"), D("0.044"), Side.BUY),
    )
    assert parse_frame(text(samples()[10])) == Parsed(())


@pytest.mark.parametrize("index", [5, 7, 12])
def test_depth_and_liquidations_decode_to_nothing(index: int) -> None:
    assert parse_frame(text(samples()[index])) == Parsed(())


# --- answers ---------------------------------------------------------------------------------


def test_the_subscribe_answer() -> None:
    assert parse_frame('{"result":null,"id":1}') == Parsed(
        (SubscribeResult("subscribe", True, "id 1"),)
    )


def test_an_error_answer() -> None:
    raw = '{"error":{"code":2,"msg":"Invalid request: unknown variant"},"id":null}'
    assert parse_frame(raw).events == (
        SubscribeResult("subscribe", False, "2: Invalid request: unknown variant"),
    )


def test_the_subscribe_frame() -> None:
    assert ws.subscribe_frame(["btcusdt@kline_1m"], 7) == (
        '{"method":"SUBSCRIBE","params":["btcusdt@kline_1m"],"id":7}'
    )


# --- refusals --------------------------------------------------------------------------------


KLINE = {"stream": "btcusdt@kline_1m", "data": docs()[3] if docs() else {}}
BOOK = {"stream": "btcusdt@bookTicker", "data": samples()[14]["data"] if samples() else {}}
MARK = {"stream": "btcusdt@markPrice@1s", "data": samples()[9]["data"] if samples() else {}}


def _edit(frame: dict[str, Any], path: str, value: object) -> str:
    copy = json.loads(json.dumps(frame))
    node = copy
    *parents, last = path.split(".")
    for key in parents:
        node = node[key]
    if value is _DROP:
        del node[last]
    else:
        node[last] = value
    return text(copy)


_DROP = object()


@pytest.mark.parametrize(
    ("frame", "path", "value", "where", "reason"),
    [
        (KLINE, "data.k.o", 1.5, "$.data.k.o", "expected a decimal string"),
        (KLINE, "data.k.c", "0", "$.data.k.c", "must be > 0"),
        (KLINE, "data.k.x", "true", "$.data.k.x", "expected bool"),
        (KLINE, "data.k.t", "1638747660000", "$.data.k.t", "expected int"),
        (KLINE, "data.k.T", 1638747720000, "$.data", "close time"),
        (KLINE, "data.k.i", "5m", "$.data", "on a stream of '1m'"),
        (KLINE, "data.k.i", "7m", "$.data.k.i", "unknown kline interval"),
        (KLINE, "data.k.s", "ETHUSDT", "$.data.k.s", "kline of 'ETHUSDT'"),
        (KLINE, "data.k.v", _DROP, "$.data.k.v", "required key missing"),
        (KLINE, "data.s", "ETHUSDT", "$.data", "on a stream of 'btcusdt'"),
        (KLINE, "data.e", "trade", "$.data.e", "on a stream of 'kline'"),
        (KLINE, "data.e", "klines", "$.data.e", "unknown event"),
        (KLINE, "stream", "btcusdt@kline_1min", "$.stream", "unknown stream"),
        (KLINE, "stream", "BTCUSDT@kline_1m", "$.stream", "unknown stream"),
        (KLINE, "data", [], "$.data", "expected an object"),
        (KLINE, "extra", 1, "$.extra", "unknown key"),
        (BOOK, "data.b", "33139.39", "$.data", "crossed book"),
        (BOOK, "data.b", "0", "$.data", "empty book"),
        (BOOK, "data.a", "NaN", "$.data.a", "not a decimal"),
        (BOOK, "data.u", None, "$.data.u", "expected int"),
        (MARK, "data.p", "-1", "$.data.p", "must be > 0"),
        (MARK, "data.r", 0.0001, "$.data.r", "expected a decimal string"),
        (MARK, "data.T", _DROP, "$.data.T", "required key missing"),
    ],
)
def test_bad_frames_are_refused_with_a_path(
    frame: dict[str, Any], path: str, value: object, where: str, reason: str
) -> None:
    with pytest.raises(MalformedMessage) as caught:
        parse_frame(_edit(frame, path, value))
    assert caught.value.where == where
    assert reason in caught.value.reason


@pytest.mark.parametrize(
    ("raw", "where", "reason"),
    [
        ("not json", "$", "not JSON"),
        ("[]", "$", "expected an object"),
        ("{}", "$", "neither a stream push"),
        ('{"result":null}', "$", "neither a stream push"),
        ('{"result":null,"id":"1"}', "$.id", "expected int"),
        ('{"result":1,"id":1}', "$.result", "expected a list"),
        ('{"e":"kline"}', "$.E", "required key missing"),
        ('{"stream":"btcusdt@kline_1m"}', "$.data", "required key missing"),
    ],
)
def test_bad_text_is_refused_with_a_path(raw: str, where: str, reason: str) -> None:
    with pytest.raises(MalformedMessage) as caught:
        parse_frame(raw)
    assert (caught.value.where, reason in caught.value.reason) == (where, True)


def test_unknown_keys_in_a_payload_are_reported_not_refused() -> None:
    frame = json.loads(json.dumps(KLINE))
    frame["data"]["new"] = 1
    frame["data"]["k"]["newer"] = "x"
    parsed = parse_frame(text(frame))
    assert parsed.unknown == ("$.data.new", "$.data.k.newer")
    assert isinstance(parsed.events[0], BarUpdate)


# --- the connection ----------------------------------------------------------------------------


def test_the_client_sends_nothing_and_answers_nothing() -> None:
    client = Client("BTCUSDT")
    assert client.opening() == []
    assert client.ping(1_700_000_000_000) is None


def test_the_client_says_which_frames_are_market_data_for_its_symbol() -> None:
    client = Client("BTCUSDT")
    ours = client.receive(text(BOOK))
    assert (ours.market, ours.pong, ours.error) == (True, False, None)
    assert ours.parsed == parse_frame(text(BOOK))
    other = Client("SUSHIUSDT").receive(text(BOOK))
    assert (other.market, other.pong) == (False, False)
    answer = client.receive('{"result":null,"id":1}')
    assert (answer.market, answer.pong) == (False, False)
    depth = client.receive(text(samples()[5]))
    assert (depth.market, depth.error) == (False, None)


def test_the_client_hands_back_a_bad_frame_instead_of_raising() -> None:
    received = Client("BTCUSDT").receive(_edit(BOOK, "data.b", "99999"))
    assert received.parsed is None
    assert received.error is not None
    assert received.error.reason.startswith("crossed book")
    assert not received.market


def test_intervals_map_both_ways() -> None:
    assert ws.binance_interval("1min") == "1m"
    assert ws.binance_interval("60min") == "1h"
    assert ws.binance_interval("1week") == "1w"
    assert set(ws.BINANCE_INTERVALS) == set(ws.INTERVALS)
    with pytest.raises(ValueError, match="unknown interval '1m'"):
        ws.binance_interval("1m")
    for name, binance in ws.BINANCE_INTERVALS.items():
        assert ws.kline_stream("BTCUSDT", name) == f"btcusdt@kline_{binance}"
