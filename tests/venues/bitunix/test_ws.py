"""The Bitunix sans-IO module against every frame in shared/data/bitunix/frames.jsonl, plus the
schema rules, the frames we send and the REST kline parser.

Expected values are read off the frames by hand: prices are the frame's strings, ``open_time`` is
``ts // 60000 * 60000``, ISO times were converted on paper (2026-01-01T00:00Z = 1767225600 s,
plus whole days and hours), and ``fr`` is in percent (-0.00077 % = -0.0000077).
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from trio_paper.codec import MalformedMessage
from trio_paper.model import (
    Bar,
    BarUpdate,
    Connected,
    MarkPrice,
    Parsed,
    Pong,
    Quote,
    Side,
    SubscribeResult,
    Ticker,
    Trade,
)
from trio_paper.venues.bitunix import rest as bitunix_rest
from trio_paper.venues.bitunix import ws as bitunix

D = Decimal


def _frames(shared_data: Path) -> list[dict[str, Any]]:
    path = shared_data / "bitunix" / "frames.jsonl"
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


# Line number in frames.jsonl → what the decoder must make of it.
INBOUND: dict[int, Parsed | tuple[str, str]] = {
    1: Parsed((Connected(ok=True),)),
    3: Parsed(
        (Quote("BTCUSDT", 1790126515693, D("86699.6"), D("2.274"), D("86699.7"), D("0.7095")),)
    ),
    4: Parsed((Quote("BTCUSDC", 1790126515690, D("86687.9"), D("0.806"), D("86688"), D("0.59")),)),
    5: Parsed(
        (Quote("BTCUSD", 1790126515690, D("86683.3"), D("206002.1"), D("86683.4"), D("96555.8")),)
    ),
    # NOPEUSDT: an unknown symbol's one frame of empty levels.
    6: ("$.data.b[0]", "not a decimal number: ''"),
    7: Parsed(
        (
            MarkPrice(
                "BTCUSDT",
                1790126515695,
                mark=D("86688.3"),
                index=D("86720.6"),
                funding_rate=D("-0.0000077"),  # "-0.00077" percent
                funding_time=1790121600000,  # 2026-09-23T00:00:00Z
                next_funding_time=1790150400000,  # 2026-09-23T08:00:00Z
            ),
        )
    ),
    8: Parsed(
        (
            Ticker(
                "BTCUSDT",
                1790126515684,
                last=D("86688.2"),
                open=D("85567"),
                high=D("86815.6"),
                low=D("85080"),
                volume=D("27478.1701"),
                quote_volume=D("2362759522.50052"),
                change=D("1.3103182302"),
            ),
        )
    ),
    10: Parsed((Pong(echo=1790126498, server=1790126491),)),
    11: Parsed((SubscribeResult("unsubscribe", ok=True, message="success"),)),
    12: Parsed((SubscribeResult("subscribe", ok=False, message="subscribe channel > 300"),)),
    14: Parsed((Pong(echo=1732519687, server=1732519690),)),
    16: Parsed(()),  # mark-price klines are checked, then not used
    17: Parsed(
        (Quote("BTCUSDT", 1732178884994, D("7403.89"), D("0.002"), D("7405.96"), D("3.34")),)
    ),
    18: Parsed(
        (
            Ticker(
                "BNBUSDT",
                1732178884994,
                last=D("0.0025"),
                open=D("0.0010"),
                high=D("0.0025"),
                low=D("0.0010"),
                volume=D("10000"),
                quote_volume=D("1"),
                change=D("0.98"),
            ),
        )
    ),
    # The docs' envelope says BNBUSDT and data.s BTCUSDT; pushes route on the envelope.
    19: Parsed(
        (
            Ticker(
                "BNBUSDT",
                1732178884994,
                last=D("68650.9"),
                open=D("69141.6"),
                high=D("70319.9"),
                low=D("68241.9"),
                volume=D("26295.3977"),
                quote_volume=D("1823374525.0193"),
                change=D("-0.7097029863"),
            ),
        )
    ),
    20: Parsed(
        (
            # t 2026-04-07T05:47:52Z = 1767225600 + 96 days + 5 h 47 min 52 s = 1775540872 s
            Trade("BTCUSDT", 1775540872598, 1775540872000, D("68621.4"), D("0.7142"), Side.BUY),
            Trade("BTCUSDT", 1775540872598, 1775540872000, D("68621.4"), D("0.0018"), Side.SELL),
        )
    ),
    21: Parsed(
        (
            BarUpdate(
                "BTCUSDT",
                60_000,
                open_time=1775541360000,
                open=D("68581.4"),
                high=D("68590"),
                low=D("68579.5"),
                close=D("68583.4"),
                volume=D("5.2395"),
                quote_volume=D("359348.14078"),
                ts=1775541412718,
            ),
        )
    ),
    22: Parsed(
        (Quote("BTCUSDT", 1775541541009, D("7403.89"), D("0.002"), D("7405.96"), D("3.34")),)
    ),
    23: Parsed(
        (
            MarkPrice(
                "BNBUSDT",
                1732178884994,
                mark=D("10000"),
                index=D("0.0010"),
                funding_rate=D("0.00013461"),  # "0.013461" percent
                funding_time=1733310000000,  # 2024-12-04T11:00:00Z
                next_funding_time=1733313600000,  # 2024-12-04T12:00:00Z
            ),
        )
    ),
    24: Parsed(
        (
            Ticker(
                "BTCUSDT",
                1732178884994,
                last=D("68650.9"),
                open=D("69141.6"),
                high=D("70319.9"),
                low=D("68241.9"),
                volume=D("26295.3977"),
                quote_volume=D("1823374525.0193"),
                change=D("-0.7097029863"),
            ),
            Quote("BTCUSDT", 1732178884994, D("68650.9"), D("0.9747"), D("68651"), D("2.3606")),
            Ticker(
                "ETHUSDT",
                1732178884994,
                last=D("2104.61"),
                open=D("2128.49"),
                high=D("2173.75"),
                low=D("2086.79"),
                volume=D("945498.652"),
                quote_volume=D("2018286647.13588"),
                change=D("-1.1219221138"),
            ),
            Quote("ETHUSDT", 1732178884994, D("2104.6"), D("27.789"), D("2104.61"), D("7.905")),
        )
    ),
    25: Parsed(
        (
            BarUpdate(
                "BTCUSDT",
                60_000,
                open_time=1786650720000,
                open=D("63404.6"),
                high=D("63404.8"),
                low=D("63404.5"),
                close=D("63404.7"),
                volume=D("0.2413"),
                quote_volume=D("15299.54977"),
                ts=1786650732204,
            ),
        )
    ),
    26: Parsed((Connected(ok=True),)),
    27: Parsed(
        (
            BarUpdate(
                "BTCUSDT",
                60_000,
                open_time=1786650720000,
                open=D("63404.6"),
                high=D("63404.7"),
                low=D("63404.6"),
                close=D("63404.6"),
                volume=D("0.226"),
                quote_volume=D("14329.45786"),
                ts=1786650730275,
            ),
        )
    ),
}

# Line number → the builder call that must produce an equivalent frame.
OUTBOUND: dict[int, list[str]] = {
    # One frame for two symbols; our builder makes one per symbol: the args must concatenate.
    2: [
        bitunix.subscribe_frame("BTCUSDT", ["depth_book15"]),
        bitunix.subscribe_frame("BTCUSD", ["depth_book15"]),
        bitunix.subscribe_frame("BTCUSDT", ["price"]),
    ],
    9: [bitunix.ping_frame(1790126498)],
    13: [bitunix.ping_frame(1732519687)],
    15: [bitunix.subscribe_frame("BTCUSDT", ["market_kline_1min", "depth_books"])],
}


def test_every_frame_in_the_file_is_covered(shared_data: Path) -> None:
    """No frame of frames.jsonl escapes the tests below: each line has an expectation."""
    frames = _frames(shared_data)
    inbound = {n for n, f in enumerate(frames, start=1) if f["dir"] == "in"}
    outbound = {n for n, f in enumerate(frames, start=1) if f["dir"] == "out"}
    assert inbound == set(INBOUND)
    assert outbound == set(OUTBOUND)
    assert len(frames) == 27


@pytest.mark.parametrize("line", sorted(INBOUND))
def test_inbound_frame_decodes_to_hand_checked_values(shared_data: Path, line: int) -> None:
    raw = _frames(shared_data)[line - 1]["raw"]
    expected = INBOUND[line]
    if isinstance(expected, Parsed):
        assert bitunix.parse_frame(raw) == expected
        assert bitunix.parse_frame(raw.encode()) == expected  # bytes decode the same
    else:
        with pytest.raises(MalformedMessage) as info:
            bitunix.parse_frame(raw)
        assert (info.value.where, info.value.reason) == expected


@pytest.mark.parametrize("line", sorted(OUTBOUND))
def test_outbound_frame_is_what_our_builders_send(shared_data: Path, line: int) -> None:
    raw = _frames(shared_data)[line - 1]["raw"]
    built = OUTBOUND[line]
    if len(built) == 1:
        assert built[0] == raw  # byte for byte: compact, same key order
    else:
        wire = json.loads(raw)
        ours = [json.loads(frame) for frame in built]
        assert {frame["op"] for frame in ours} == {wire["op"]}
        assert [arg for frame in ours for arg in frame["args"]] == wire["args"]


def test_prices_keep_the_frames_exact_text() -> None:
    """A "3.340" stays 3.340: the Decimal is built from the string, trailing zero and all."""
    raw = (
        '{"ch":"depth_book1","symbol":"BTCUSDT","ts":1,'
        '"data":{"b":[["7403.89","0.002"]],"a":[["7405.96","3.340"]]}}'
    )
    (quote,) = bitunix.parse_frame(raw).events
    assert isinstance(quote, Quote)
    assert str(quote.ask_qty) == "3.340"


def test_builders() -> None:
    assert bitunix.kline_channel("1min") == "market_kline_1min"
    assert bitunix.kline_channel("15min") == "market_kline_15min"
    with pytest.raises(ValueError, match="unknown interval '1m'"):
        bitunix.kline_channel("1m")  # not a Bitunix channel
    assert bitunix.unsubscribe_frame("BTCUSDT", ["trade"]) == (
        '{"op":"unsubscribe","args":[{"symbol":"BTCUSDT","ch":"trade"}]}'
    )
    assert bitunix.ping_frame(0) == '{"op":"ping","ping":0}'


# --- schema rules, one frame at a time ------------------------------------------------------

KLINE: dict[str, Any] = {
    "ch": "market_kline_1min",
    "symbol": "BTCUSDT",
    "ts": 1786650730275,
    "data": {"o": "1", "c": "1", "h": "1", "l": "1", "b": "1", "q": "1"},
}
DEPTH: dict[str, Any] = {
    "ch": "depth_book1",
    "symbol": "BTCUSDT",
    "ts": 1,
    "data": {"b": [["7403.89", "0.002"]], "a": [["7405.96", "3.340"]]},
}
TRADE: dict[str, Any] = {
    "ch": "trade",
    "symbol": "BTCUSDT",
    "ts": 1,
    "data": [{"t": "2026-04-07T05:47:52Z", "p": "68621.4", "v": "0.7142", "s": "buy"}],
}
PRICE: dict[str, Any] = {
    "ch": "price",
    "symbol": "BTCUSDT",
    "ts": 1,
    "data": {
        "ip": "1",
        "mp": "1",
        "fr": "-0.00077",
        "ft": "2026-09-23T00:00:00Z",
        "nft": "2026-09-23T08:00:00Z",
    },
}
TICKER: dict[str, Any] = {
    "ch": "ticker",
    "symbol": "BTCUSDT",
    "ts": 1,
    "data": {"la": "2", "o": "1", "h": "3", "l": "1", "b": "5", "q": "9", "r": "0.5"},
}
TICKERS: dict[str, Any] = {
    "ch": "tickers",
    "ts": 1,
    "data": [{**TICKER["data"], "s": "BTCUSDT", "bd": "1", "ak": "2", "bv": "3", "av": "4"}],
}


def _edit(frame: dict[str, Any], path: tuple[str | int, ...], value: object) -> str:
    """``frame`` as text with the value at ``path`` replaced (``...`` deletes it)."""
    data: Any = json.loads(json.dumps(frame))
    node = data
    for key in path[:-1]:
        node = node[key]
    if value is ...:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return json.dumps(data)


@pytest.mark.parametrize(
    ("frame", "path", "value", "where", "reason"),
    [
        (KLINE, ("data", "v"), "1", "$.data.v", "unknown key"),
        (KLINE, ("extra",), 1, "$.extra", "unknown key"),
        (KLINE, ("data", "o"), ..., "$.data.o", "required key missing"),
        (KLINE, ("data", "o"), 1.5, "$.data.o", "expected a decimal string, got float 1.5"),
        (KLINE, ("ts",), "1786650730275", "$.ts", "expected int, got str"),
        (KLINE, ("ts",), 1786650730275.0, "$.ts", "expected int, got float"),
        (KLINE, ("ch",), "market_kline_1m", "$.ch", "unknown kline interval '1m'"),
        (KLINE, ("data",), [], "$.data", "expected an object, got a list of 0"),
        (DEPTH, ("data", "u"), 1, "$.data.u", "unknown key"),
        (DEPTH, ("data", "b"), [], "$.data.b", "empty book side"),
        (DEPTH, ("data", "a", 0), ["7400", "1"], "$.data", "crossed book: bid 7403.89 >= ask 7400"),
        (DEPTH, ("data", "a", 0), ["7405.96"], "$.data.a[0]", "expected a [price, size] pair"),
        (TRADE, ("data", 0, "id"), 7, "$.data[0].id", "unknown key"),
        (TRADE, ("data", 0, "s"), "BUY", "$.data[0].s", "'BUY' is not a valid Side"),
        (TRADE, ("data", 0, "t"), "2026-04-07T05:47:52", "$.data[0].t", "has no timezone"),
        (TRADE, ("data",), {"t": "x"}, "$.data", "expected a list, got dict"),
        (PRICE, ("data", "fr"), -0.00077, "$.data.fr", "expected a decimal string, got float"),
        (PRICE, ("data", "x"), "1", "$.data.x", "unknown key"),
        (PRICE, ("data", "nft"), "2026-09-23", "$.data.nft", "has no timezone"),
        (PRICE, ("data", "fr"), "1e999999", "$.data.fr", "decimal out of range"),
        (TICKER, ("extra",), 1, "$.extra", "unknown key"),  # the envelope is fixed
        (TICKER, ("data", "la"), 2, "$.data.la", "expected a decimal string, got int"),
        (TICKER, ("data",), [], "$.data", "expected an object, got list"),
        (TICKERS, ("data", 0, "s"), ..., "$.data[0].s", "required key missing"),
        (TICKERS, ("data",), {}, "$.data", "expected a list, got dict"),
        (TICKERS, ("symbol",), "BTCUSDT", "$.symbol", "unknown key"),
        (KLINE, ("data", "o"), "0", "$.data.o", "must be > 0: 0"),
        (KLINE, ("data", "l"), "-1", "$.data.l", "must be > 0: -1"),
        (DEPTH, ("data", "b", 0), ["0", "1"], "$.data.b[0]", "must be > 0: 0"),
        (TRADE, ("data", 0, "p"), "0", "$.data[0].p", "must be > 0: 0"),
        (PRICE, ("data", "mp"), "-86688.3", "$.data.mp", "must be > 0: -86688.3"),
        (TICKER, ("data", "la"), "0", "$.data.la", "must be > 0: 0"),
        (TICKERS, ("data", 0, "bd"), "3", "$.data[0]", "not a book: bid 3, ask 2"),
        (TICKERS, ("data", 0, "bd"), "0", "$.data[0]", "not a book: bid 0, ask 2"),
        (KLINE, ("ch",), "market_depth", "$.ch", "unknown channel 'market_depth'"),
        (KLINE, ("ch",), 5, "$", "neither a push (ch) nor a control frame (op)"),
    ],
)
def test_off_schema_frames_are_refused_with_path_and_reason(
    frame: dict[str, Any], path: tuple[str | int, ...], value: object, where: str, reason: str
) -> None:
    """Fixed schemas (kline, depth, trade, price, every envelope) refuse unknown keys, wrong
    types and impossible values; the error says where and why."""
    with pytest.raises(MalformedMessage) as info:
        bitunix.parse_frame(_edit(frame, path, value))
    assert info.value.where == where
    assert reason in info.value.reason


def test_unchanged_reference_frames_decode() -> None:
    """The frames the refusal cases edit are themselves good (so each refusal is the edit's)."""
    for frame in (KLINE, DEPTH, TRADE, PRICE, TICKER, TICKERS):
        assert bitunix.parse_frame(json.dumps(frame)).events


def test_zero_volumes_and_negative_funding_are_fine() -> None:
    """Only prices must be positive: a minute's first push may carry no volume yet, and a
    funding rate is often negative."""
    (update,) = bitunix.parse_frame(_edit(KLINE, ("data", "b"), "0")).events
    assert isinstance(update, BarUpdate)
    assert update.volume == 0
    (mark,) = bitunix.parse_frame(_edit(PRICE, ("data", "fr"), "-0.3")).events
    assert isinstance(mark, MarkPrice)
    assert mark.funding_rate == D("-0.003")


def test_ticker_tolerates_and_counts_unknown_keys() -> None:
    """Bitunix extends ticker data (it added ``s``): a new key is dropped and reported."""
    parsed = bitunix.parse_frame(_edit(TICKER, ("data", "new"), "1"))
    assert parsed.unknown == ("$.data.new",)
    assert parsed.events == (
        Ticker("BTCUSDT", 1, D("2"), D("1"), D("3"), D("1"), D("5"), D("9"), D("0.5")),
    )
    parsed = bitunix.parse_frame(_edit(TICKERS, ("data", 0, "zz"), [1]))
    assert parsed.unknown == ("$.data[0].zz",)
    assert parsed.events == (
        Ticker("BTCUSDT", 1, D("2"), D("1"), D("3"), D("1"), D("5"), D("9"), D("0.5")),
        Quote("BTCUSDT", 1, D("1"), D("3"), D("2"), D("4")),
    )


def test_tickers_without_best_bid_ask_give_no_quote() -> None:
    data = {k: v for k, v in TICKERS["data"][0].items() if k != "ak"}
    parsed = bitunix.parse_frame(json.dumps({**TICKERS, "data": [data]}))
    assert [type(event) for event in parsed.events] == [Ticker]


@pytest.mark.parametrize(
    ("raw", "where", "reason"),
    [
        ('{"op":"login","data":{}}', "$.op", "unknown op 'login'"),
        ('{"op":"connect","data":{"result":"true"}}', "$.data.result", "expected bool, got str"),
        ('{"op":"ping","pong":"1790126498","ping":1}', "$.pong", "expected int, got str"),
        ('{"op":"ping","pong":1}', "$.ping", "required key missing"),
        ('{"op":"unsubscribe","ts":1,"data":5}', "$.data", "expected str, got int 5"),
        ('{"op":"subscribe","data":"success"}', "$.op", "unknown op 'subscribe'"),
        ("[]", "$", "expected an object, got a list of 0"),
        ("{}", "$", "neither a push (ch) nor a control frame (op)"),
        ("not json", "$", "not JSON"),
    ],
)
def test_off_schema_control_frames(raw: str, where: str, reason: str) -> None:
    with pytest.raises(MalformedMessage) as info:
        bitunix.parse_frame(raw)
    assert info.value.where == where
    assert reason in info.value.reason


def test_not_utf8_bytes_are_one_malformed_message() -> None:
    with pytest.raises(MalformedMessage) as info:
        bitunix.parse_frame(b'{"op":"connect","data":{"result":true}}\xff')
    assert (info.value.where, info.value.reason) == ("$", "not UTF-8")


# --- REST klines ------------------------------------------------------------------------------

DOCS_REST = (
    '{"code":0,"data":[{"open":60000,"high":60001,"close":60000,"low":59989.2,"time":111111,'
    '"quoteVol":"1","baseVol":"60000","type":"LAST_PRICE"}],"msg":"Success"}'
)


def test_rest_docs_example_is_refused_for_its_off_boundary_time() -> None:
    """The docs' ``time`` 111111 is not on a minute: a bar that cannot be placed is refused."""
    with pytest.raises(MalformedMessage) as info:
        bitunix_rest.parse_klines(DOCS_REST, "BTCUSDT", 60_000)
    assert info.value.where == "$.data[0].time"
    assert "not on a bar boundary" in info.value.reason


def test_rest_docs_example_on_a_boundary_swaps_the_volume_names() -> None:
    """REST's ``quoteVol`` is the coin volume and ``baseVol`` the quote volume; JSON numbers
    are read through their shortest text (59989.2, not a binary fraction)."""
    body = DOCS_REST.replace('"time":111111', '"time":1775541360000')
    (bar,) = bitunix_rest.parse_klines(body, "BTCUSDT", 60_000)
    assert bar == Bar(
        "BTCUSDT", 60_000, 1775541360000, open=D("60000"), high=D("60001"), low=D("59989.2"),
        close=D("60000"), volume=D("1"), quote_volume=D("60000"), source="rest",
    )  # fmt: skip


def test_rest_klines_are_returned_oldest_first_and_may_use_string_times() -> None:
    body = {
        "code": 0,
        "msg": "Success",
        "data": [
            {"open": "2", "high": "2", "low": "2", "close": "2", "time": "120000",
             "quoteVol": "1", "baseVol": "2"},
            {"open": "1", "high": "1", "low": "1", "close": "1", "time": 60000,
             "quoteVol": "1", "baseVol": "1"},
        ],
    }  # fmt: skip
    bars = bitunix_rest.parse_klines(json.dumps(body), "BTCUSDT", 60_000)
    assert [(b.open_time, b.close) for b in bars] == [(60_000, D("1")), (120_000, D("2"))]
    assert bitunix_rest.parse_klines('{"code":0,"msg":"","data":null}', "BTCUSDT", 60_000) == []


@pytest.mark.parametrize(
    ("field", "value", "where", "reason"),
    [
        ("time", "²", "$.data[0].time", "not a millisecond time: '²'"),
        ("time", 60000.0, "$.data[0].time", "not a millisecond time"),
        ("open", True, "$.data[0].open", "expected a decimal string, got bool"),
        ("open", "NaN", "$.data[0].open", "not a decimal number"),
        ("low", None, "$.data[0].low", "expected a decimal string, got null"),
        ("open", 0, "$.data[0].open", "must be > 0: 0"),
        ("close", "-1", "$.data[0].close", "must be > 0: -1"),
        ("extra", 1, "$.data[0].extra", "unknown key"),
    ],
)
def test_rest_kline_fields_are_checked(field: str, value: object, where: str, reason: str) -> None:
    kline = {"open": 1, "high": 1, "low": 1, "close": 1, "time": 60000, "quoteVol": 1, "baseVol": 1}
    body = json.dumps({"code": 0, "msg": "", "data": [{**kline, field: value}]})
    with pytest.raises(MalformedMessage) as info:
        bitunix_rest.parse_klines(body, "BTCUSDT", 60_000)
    assert info.value.where == where
    assert reason in info.value.reason


def test_rest_error_code_is_a_rest_error() -> None:
    """Errors come back as HTTP 200 with a non-zero code."""
    body = '{"code":20015,"data":null,"msg":"this Futures is not allowed to trade."}'
    with pytest.raises(bitunix_rest.RestError) as info:
        bitunix_rest.parse_klines(body, "NOPEUSDT", 60_000)
    assert info.value.code == 20015
    assert info.value.message == "this Futures is not allowed to trade."


def test_klines_body_parses_back_to_the_same_bars() -> None:
    bars = [
        Bar("BTCUSDT", 60_000, 1746662400000, D("96988.4"), D("97044.5"), D("96988.4"),
            D("97044.5"), D("97.9"), D("9500649.55"), "rest"),
        Bar("BTCUSDT", 60_000, 1746662460000, D("97044.5"), D("97050"), D("97000.1"),
            D("97001"), D("12.345"), D("1197477.3"), "rest"),
    ]  # fmt: skip
    assert bitunix_rest.parse_klines(bitunix_rest.klines_body(bars), "BTCUSDT", 60_000) == bars


def test_kline_query() -> None:
    query = bitunix_rest.kline_query("BTCUSDT", "1min", 60_000, 120_000, 500)
    assert query == {
        "symbol": "BTCUSDT", "interval": "1m", "startTime": "60000", "endTime": "120000",
        "limit": "200",
    }  # fmt: skip
    with pytest.raises(ValueError, match="no REST klines"):
        bitunix_rest.kline_query("BTCUSDT", "3min", 0, 1, 1)
