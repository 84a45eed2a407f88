"""``binance_usdm.VENUE`` as a session sees it: the two sockets of the 2026 split, intervals,
limits, and the sans-IO client and parsers it hands out."""

from __future__ import annotations

from decimal import Decimal as D

import pytest

from trio_paper.model import Bar, BarUpdate
from trio_paper.venues import binance_usdm
from trio_paper.venues.binance_usdm import VENUE, rest, server, ws
from trio_paper.venues.venue import Client, KlineRequest, Socket, Venue

_: Venue = VENUE  # mypy checks the whole interface here
_client: type[Client] = ws.Client


def test_the_venue_is_named_and_points_at_binance_by_default() -> None:
    assert VENUE.name == "binance_usdm"
    assert VENUE.ws_url == "wss://fstream.binance.com"
    assert VENUE.rest_url == "https://fapi.binance.com"
    assert VENUE.max_client_messages_per_s == 10
    assert VENUE.max_kline_page <= 1500


def test_intervals_are_the_config_names_with_their_lengths() -> None:
    assert list(VENUE.intervals) == [
        "1min", "3min", "5min", "15min", "30min", "60min", "2h", "4h", "6h", "8h", "12h",
        "1day", "3day", "1week",
    ]  # fmt: skip
    assert VENUE.intervals["1min"] == 60_000
    assert VENUE.intervals["60min"] == 3_600_000
    assert VENUE.intervals["1week"] == 7 * 86_400_000


def test_two_sockets_market_and_public() -> None:
    assert VENUE.sockets("wss://fstream.binance.com", "BTCUSDT", "1min") == [
        Socket(
            "wss://fstream.binance.com/market/stream?streams=btcusdt@kline_1m/btcusdt@markPrice@1s",
            binance_usdm.MARKET,
            ("btcusdt@kline_1m", "btcusdt@markPrice@1s"),
        ),
        Socket(
            "wss://fstream.binance.com/public/stream?streams=btcusdt@bookTicker",
            binance_usdm.QUOTES,
            ("btcusdt@bookTicker",),
        ),
    ]


def test_a_base_url_override_keeps_the_routes() -> None:
    market, public = VENUE.sockets("ws://127.0.0.1:8765/", "ETHUSDT", "5min")
    assert (
        market.url
        == "ws://127.0.0.1:8765/market/stream?streams=ethusdt@kline_5m/ethusdt@markPrice@1s"
    )
    assert public.url == "ws://127.0.0.1:8765/public/stream?streams=ethusdt@bookTicker"


def test_an_unknown_interval_is_refused_before_any_socket() -> None:
    with pytest.raises(ValueError, match="unknown interval '1m'"):
        VENUE.sockets("wss://fstream.binance.com", "BTCUSDT", "1m")


def test_each_socket_gets_a_fresh_client_for_the_symbol() -> None:
    market, public = VENUE.sockets(VENUE.ws_url, "BTCUSDT", "1min")
    first, second = VENUE.client(market, "BTCUSDT"), VENUE.client(public, "BTCUSDT")
    assert first is not second
    assert first.opening() == second.opening() == []
    assert first.ping(0) is None


def test_the_venue_parses_what_its_server_side_builds() -> None:
    update = BarUpdate(
        "BTCUSDT", 60_000, 1751328000000, D("1"), D("2"), D("0.5"), D("1.5"), D("3"), D("4"),
        1751328059999, closed=True,
    )  # fmt: skip
    assert VENUE.parse_frame(server.kline_frame(update)).events == (update,)
    bar = Bar("BTCUSDT", 60_000, 1751328000000, D("1"), D("2"), D("0.5"), D("1.5"), D("3"),
              D("4"), "rest")  # fmt: skip
    assert VENUE.parse_klines(server.klines_body([bar]), "BTCUSDT", 60_000) == [bar]
    assert VENUE.kline_request("BTCUSDT", "1min", 0, 60_000, 1) == KlineRequest(
        rest.KLINE_PATH,
        {"symbol": "BTCUSDT", "interval": "1m", "startTime": "0", "endTime": "59999", "limit": "1"},
    )
