"""The 2026 route split, as the simulator applies it: which path delivers which stream."""

from __future__ import annotations

import pytest

from trio_paper.venues.binance_usdm import VENUE
from trio_paper.venues.binance_usdm.routes import (
    MARKET,
    PUBLIC,
    Target,
    delivers,
    parse_target,
    route_of,
)


@pytest.mark.parametrize(
    ("stream", "route"),
    [
        ("btcusdt@kline_1m", MARKET), ("btcusdt@markPrice@1s", MARKET),
        ("btcusdt@aggTrade", MARKET), ("btcusdt@ticker", MARKET), ("btcusdt@forceOrder", MARKET),
        ("btcusdt@bookTicker", PUBLIC), ("btcusdt@depth@100ms", PUBLIC),
        ("btcusdt@depth5", PUBLIC),
    ],
)  # fmt: skip
def test_each_stream_has_its_route(stream: str, route: str) -> None:
    assert route_of(stream) == route


def test_the_sessions_own_urls_name_their_routes_and_streams() -> None:
    market, public = VENUE.sockets("ws://127.0.0.1:9", "BTCUSDT", "1min")
    for socket in (market, public):
        target = parse_target(socket.url.removeprefix("ws://127.0.0.1:9"))
        assert target.streams == socket.channels
        assert all(delivers(target, stream) for stream in target.streams)
    assert parse_target("/market/stream?streams=btcusdt@kline_1m/btcusdt@markPrice@1s") == Target(
        MARKET, ("btcusdt@kline_1m", "btcusdt@markPrice@1s")
    )


def test_a_stream_on_the_wrong_route_is_never_delivered() -> None:
    assert not delivers(parse_target("/public/stream?streams=btcusdt@kline_1m"), "btcusdt@kline_1m")
    assert not delivers(parse_target("/market/ws"), "btcusdt@bookTicker")


@pytest.mark.parametrize("path", ["/stream?streams=btcusdt@kline_1m", "/ws", "/ws/"])
def test_the_legacy_paths_connect_but_deliver_nothing(path: str) -> None:
    target = parse_target(path)
    assert target.route is None
    assert not delivers(target, "btcusdt@kline_1m")
    assert not delivers(target, "btcusdt@bookTicker")


def test_subscribing_paths_name_no_streams() -> None:
    assert parse_target("/public/ws") == Target(PUBLIC, ())
    assert parse_target("/market/stream") == Target(MARKET, ())


@pytest.mark.parametrize("path", ["/", "/private/ws", "/market/streams?x=1", "/public/"])
def test_other_paths_are_refused_by_name(path: str) -> None:
    with pytest.raises(ValueError, match="no such WebSocket path"):
        parse_target(path)
