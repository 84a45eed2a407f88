"""Binance USD-M REST klines: the request for a range, and strict parsing of the rows."""

from __future__ import annotations

import json
from decimal import Decimal as D

import pytest

from trio_paper.codec import MalformedMessage
from trio_paper.model import Bar
from trio_paper.venues.binance_usdm import rest
from trio_paper.venues.venue import KlineRequest, RestError

MIN = 60_000
T0 = 1751328000000  # 2025-07-01T00:00:00Z

ROW = [
    T0, "107135.70", "107160.00", "107135.60", "107146.40", "78.514", T0 + MIN - 1,
    "8411775.60540", 2169, "43.112", "4618985.57230", "0",
]  # fmt: skip
"""A row as the docs spell it: numbers of money as strings, times and the trade count as ints."""


def _body(*rows: list[object]) -> str:
    return json.dumps(list(rows))


def _row(minute: int, **changes: object) -> list[object]:
    row = list(ROW)
    row[0] = T0 + minute * MIN
    row[6] = T0 + (minute + 1) * MIN - 1
    for position, value in changes.items():
        row[int(position.lstrip("_"))] = value
    return row


def test_the_request_asks_for_open_times_in_the_half_open_range() -> None:
    request = rest.kline_request("BTCUSDT", "1min", T0, T0 + 5 * MIN, 5)
    assert request == KlineRequest(
        "/fapi/v1/klines",
        {"symbol": "BTCUSDT", "interval": "1m", "startTime": str(T0),
         "endTime": str(T0 + 5 * MIN - 1), "limit": "5"},
    )  # fmt: skip


def test_the_request_uses_binance_interval_names_and_caps_the_limit() -> None:
    request = rest.kline_request("btcusdt", "60min", T0, T0 + 2000 * 3_600_000, 2000)
    assert request.query["interval"] == "1h"
    assert request.query["limit"] == "1500"
    assert request.query["symbol"] == "BTCUSDT"


@pytest.mark.parametrize(
    ("interval", "start", "end", "limit", "message"),
    [
        ("1m", T0, T0 + MIN, 1, "unknown interval '1m'"),
        ("1min", T0, T0, 1, "empty range"),
        ("1min", T0, T0 + MIN, 0, "limit must be at least 1"),
    ],
)
def test_a_bad_request_is_a_value_error(
    interval: str, start: int, end: int, limit: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        rest.kline_request("BTCUSDT", interval, start, end, limit)


def test_rows_become_closed_bars_field_by_field() -> None:
    bars = rest.parse_klines(_body(_row(0), _row(1, _4="107150.00")), "BTCUSDT", MIN)
    assert bars == [
        Bar("BTCUSDT", MIN, T0, D("107135.70"), D("107160.00"), D("107135.60"), D("107146.40"),
            D("78.514"), D("8411775.60540"), "rest"),
        Bar("BTCUSDT", MIN, T0 + MIN, D("107135.70"), D("107160.00"), D("107135.60"),
            D("107150.00"), D("78.514"), D("8411775.60540"), "rest"),
    ]  # fmt: skip


def test_an_empty_answer_is_no_bars() -> None:
    assert rest.parse_klines("[]", "BTCUSDT", MIN) == []


def test_the_forming_bar_is_dropped_by_the_time_given() -> None:
    body = _body(_row(0), _row(1), _row(2))
    now = T0 + 2 * MIN + 30_000  # minute 2 is still forming
    assert [b.open_time for b in rest.parse_klines(body, "BTCUSDT", MIN, now_ms=now)] == [
        T0,
        T0 + MIN,
    ]
    just_done = T0 + 3 * MIN
    assert len(rest.parse_klines(body, "BTCUSDT", MIN, now_ms=just_done)) == 3


def test_an_error_body_is_a_rest_error_with_its_code() -> None:
    with pytest.raises(RestError, match=r"Binance REST error -1121: Invalid symbol\.") as caught:
        rest.parse_klines('{"code":-1121,"msg":"Invalid symbol."}', "BTCUSDT", MIN)
    assert isinstance(caught.value, rest.BinanceRestError)
    assert caught.value.code == -1121


@pytest.mark.parametrize(
    ("body", "where", "reason"),
    [
        (_body(_row(0, _1=107135.7)), "$[0][1]", "expected a decimal string"),
        (_body(_row(0, _0=str(T0))), "$[0][0]", "expected int"),
        (_body(_row(0, _4="0")), "$[0][4]", "must be > 0"),
        (_body(_row(0, _6=T0 + MIN)), "$[0][6]", "close time"),
        (_body(_row(0)[:11]), "$[0]", "expected a list of 12"),
        (_body(_row(1), _row(0)), "$[1][0]", "rows not ascending"),
        (_body(_row(0), _row(0)), "$[1][0]", "rows not ascending"),
        ('{"code":"-1121","msg":"x"}', "$.code", "expected int"),
        ('{"rows":[]}', "$.code", "required key missing"),
        ('"klines"', "$", "expected a list"),
        ("<html>", "$", "not JSON"),
    ],
)
def test_bad_bodies_are_refused_with_a_path(body: str, where: str, reason: str) -> None:
    with pytest.raises(MalformedMessage) as caught:
        rest.parse_klines(body, "BTCUSDT", MIN)
    assert caught.value.where == where
    assert reason in caught.value.reason
