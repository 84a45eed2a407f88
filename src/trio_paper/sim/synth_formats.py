"""How a synthesized recording writes its frames, per venue: the same walked prices, quotes and
funding (``synth``) in Bitunix's frames or in Binance USD-M's.

A format also says what a live session on that venue would have recorded before its first
frame (connected and subscribed, once per socket) and how a warm-up REST answer looks.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from typing import Protocol

import attrs

from .. import venues
from ..codec import dumps
from ..inputs import Control, FeedConnected, Subscribed
from ..model import Bar, BarUpdate, MarkPrice, Quote
from ..times import MINUTE_MS, ms_to_iso
from ..venues.binance_usdm import server as binance_server
from ..venues.bitunix import rest as bitunix_rest


@attrs.frozen
class Walk:
    """One push's worth of a minute being walked: the bar so far, at exchange time ``ts``."""

    bar: Bar
    ts: int
    high: Decimal
    low: Decimal
    close: Decimal
    volume: Decimal
    quote_volume: Decimal
    last: bool


class Format(Protocol):
    @property
    def venue(self) -> str: ...

    @property
    def mark_every_ms(self) -> int:
        """How often a mark-price frame is written."""

    @property
    def rate_due_next(self) -> bool:
        """Whether a mark frame states the rate due at the next settlement (Binance's ``r``),
        rather than the one settled last (Bitunix's ``fr``)."""

    def kline(self, w: Walk) -> str: ...

    def quote(self, q: Quote) -> str: ...

    def mark(self, m: MarkPrice) -> str: ...

    def klines_body(self, bars: list[Bar]) -> str: ...


def plain(value: Decimal) -> str:
    """Decimal text as Bitunix writes it: no exponent, no trailing zeros (``68590``, ``0.226``)."""
    return format(value.normalize(), "f")


def _iso_s(ms: int) -> str:
    return ms_to_iso(ms)[:-5] + "Z"


def _push(ch: str, symbol: str, ts: int, data: dict[str, object]) -> str:
    return dumps({"ch": ch, "symbol": symbol, "ts": ts, "data": data}).decode()


@attrs.frozen
class BitunixFormat:
    """``market_kline_1min``, ``depth_book1`` and ``price`` (a mark every 2 s; ``fr`` in %)."""

    venue: str = "bitunix"
    mark_every_ms: int = 2_000
    rate_due_next: bool = False

    def kline(self, w: Walk) -> str:
        return _push("market_kline_1min", w.bar.symbol, w.ts, {
            "o": plain(w.bar.open), "c": plain(w.close), "h": plain(w.high), "l": plain(w.low),
            "b": plain(w.volume), "q": plain(w.quote_volume),
        })  # fmt: skip

    def quote(self, q: Quote) -> str:
        return _push("depth_book1", q.symbol, q.ts, {
            "b": [[plain(q.bid), plain(q.bid_qty)]], "a": [[plain(q.ask), plain(q.ask_qty)]],
        })  # fmt: skip

    def mark(self, m: MarkPrice) -> str:
        return _push("price", m.symbol, m.ts, {
            "ip": plain(m.index), "mp": plain(m.mark), "fr": plain(m.funding_rate * 100),
            "ft": _iso_s(m.funding_time), "nft": _iso_s(m.next_funding_time),
        })  # fmt: skip

    def klines_body(self, bars: list[Bar]) -> str:
        return bitunix_rest.klines_body(bars).decode()


@attrs.frozen
class BinanceFormat:
    """``<s>@kline_1m`` (closed on ``x``), ``<s>@bookTicker`` and ``<s>@markPrice@1s`` (a mark
    every second; ``r`` the rate due at ``T``, the next settlement), in stream envelopes."""

    venue: str = "binance_usdm"
    mark_every_ms: int = 1_000
    rate_due_next: bool = True

    def kline(self, w: Walk) -> str:
        b = w.bar
        return binance_server.kline_frame(
            BarUpdate(
                b.symbol, MINUTE_MS, b.open_time, b.open, w.high, w.low, w.close, w.volume,
                w.quote_volume, w.ts, closed=w.last,
            )
        )  # fmt: skip

    def quote(self, q: Quote) -> str:
        return binance_server.book_ticker_frame(q, q.ts)

    def mark(self, m: MarkPrice) -> str:
        return binance_server.mark_price_frame(m)

    def klines_body(self, bars: list[Bar]) -> str:
        return binance_server.klines_body(bars).decode()


FORMATS: dict[str, Format] = {f.venue: f for f in (BitunixFormat(), BinanceFormat())}


def format_of(venue: str) -> Format:
    if venue not in FORMATS:
        raise ValueError(f"cannot write {venue!r} recordings; one of {', '.join(FORMATS)}")
    return FORMATS[venue]


def opening(venue: str, symbol: str, seq: Iterator[int], t: int) -> Iterator[Control]:
    """What a live session records on connecting: ``connected`` and ``subscribed`` for each of
    the venue's sockets (named, where it has several), at the venue's real URLs."""
    v = venues.get(venue)
    sockets = v.sockets(v.ws_url, symbol, "1min")
    for socket in sockets:
        name = socket.carries if len(sockets) > 1 else ""
        yield FeedConnected(next(seq), t, socket.url, name)
        yield Subscribed(next(seq), t, list(socket.channels), name)


def channels(venue: str, symbol: str) -> list[str]:
    """Every channel (stream) a session on ``venue`` subscribes, for the recording's header."""
    v = venues.get(venue)
    return [ch for socket in v.sockets(v.ws_url, symbol, "1min") for ch in socket.channels]
