"""Binance's side of the kline endpoint: what a query selects and how a bad one is refused; and
the whole backfill round trip, sans-IO: our request → Binance's rules → its body → our bars."""

from __future__ import annotations

from decimal import Decimal as D
from urllib.parse import parse_qs, urlencode

import pytest

from trio_paper.model import Bar
from trio_paper.venues.binance_usdm import rest, server
from trio_paper.venues.binance_usdm.rest_server import (
    DEFAULT_LIMIT,
    KlineQuery,
    kline_query,
    select_klines,
)

MIN = 60_000
T0 = 1751328000000  # 2025-07-01T00:00:00Z
SYMBOLS = frozenset({"BTCUSDT"})
BARS = [
    Bar("BTCUSDT", MIN, T0 + i * MIN, D(100 + i), D(101 + i), D(99 + i), D("100.5") + i, D(1),
        D(100), "ws")
    for i in range(2000)
]  # fmt: skip


def _query(**params: object) -> dict[str, list[str]]:
    return parse_qs(urlencode(params), keep_blank_values=True)


def test_our_request_selects_exactly_the_range_it_asks_for() -> None:
    request = rest.kline_request("BTCUSDT", "1min", T0 + 10 * MIN, T0 + 20 * MIN, 1000)
    query = kline_query(parse_qs(urlencode(request.query)), SYMBOLS)
    body = server.klines_body(select_klines(BARS, query))
    bars = rest.parse_klines(body, "BTCUSDT", MIN)
    assert [b.open_time for b in bars] == [T0 + i * MIN for i in range(10, 20)]
    assert [b.close for b in bars] == [b.close for b in BARS[10:20]]
    assert {b.source for b in bars} == {"rest"}


def test_a_start_pages_forward_and_no_start_takes_the_newest() -> None:
    ask = {"symbol": "BTCUSDT", "interval": "1m"}
    forward = select_klines(BARS, kline_query(_query(**ask, startTime=T0, limit=3), SYMBOLS))
    assert [b.open_time for b in forward] == [T0, T0 + MIN, T0 + 2 * MIN]
    up_to = _query(**ask, endTime=T0 + 9 * MIN, limit=2)
    newest = select_klines(BARS, kline_query(up_to, SYMBOLS))
    assert [b.open_time for b in newest] == [T0 + 8 * MIN, T0 + 9 * MIN]


def test_the_limit_defaults_to_500() -> None:
    query = kline_query(_query(symbol="BTCUSDT", interval="1m"), SYMBOLS)
    assert query == KlineQuery("BTCUSDT", MIN, None, None, DEFAULT_LIMIT)
    assert select_klines(BARS, query) == BARS[-500:]


@pytest.mark.parametrize(
    ("params", "code", "message"),
    [
        ({"interval": "1m"}, -1102, "Mandatory parameter 'symbol'"),
        ({"symbol": "", "interval": "1m"}, -1102, "Mandatory parameter 'symbol'"),
        ({"symbol": "btcusdt", "interval": "1m"}, -1121, "Invalid symbol."),
        ({"symbol": "BTCUSDT", "interval": "1min"}, -1120, "Invalid interval."),
        ({"symbol": "BTCUSDT", "interval": "1m", "limit": 1501}, -1130, "limit"),
        ({"symbol": "BTCUSDT", "interval": "1m", "limit": 0}, -1130, "limit"),
        ({"symbol": "BTCUSDT", "interval": "1m", "startTime": "1e12"}, -1100, "'startTime'"),
        ({"symbol": "BTCUSDT", "interval": "1m", "startTime": 2, "endTime": 1}, -1130,
         "startTime should be less than endTime"),
    ],
)  # fmt: skip
def test_bad_queries_get_binances_codes(params: dict[str, object], code: int, message: str) -> None:
    with pytest.raises(rest.BinanceRestError) as caught:
        kline_query(_query(**params), SYMBOLS)
    assert caught.value.code == code
    assert message in caught.value.message
    body = server.error_body(caught.value.code, caught.value.message)
    with pytest.raises(rest.BinanceRestError, match=str(code)):
        rest.parse_klines(body, "BTCUSDT", MIN)


def test_a_parameter_given_twice_is_refused() -> None:
    with pytest.raises(rest.BinanceRestError, match="symbol"):
        kline_query({"symbol": ["BTCUSDT", "ETHUSDT"], "interval": ["1m"]}, SYMBOLS)
