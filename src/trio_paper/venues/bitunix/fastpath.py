"""Bitunix's three common pushes, checked by hand: the fast path of ``bitunix.parse_frame``.

Kline, ``depth_book1`` and ``price`` pushes are nearly all of a session's traffic (a day of
BTCUSDT: 44 %, 44 % and 11 %). Parsing one through cattrs takes about 6 µs, most of it in
generic machinery (dispatch, per-field hooks, error bookkeeping); checking the same schema by
hand takes about half of that, which is most of what lets a replay run at 100,000+ frames/s
(``bench/README.md``).

Each function here takes a push that is *plainly* well-formed — exactly the keys its schema in
``bitunix`` names, each of exactly its type, every decimal read by ``strict_decimal``, every
price positive, the book not crossed — and returns its event, equal to what the strict path
returns. For anything else it returns None, and ``parse_frame`` structures the push through
cattrs as before: that path accepts it or raises the ``MalformedMessage`` that says where and
why. So the fast path may only ever decline, never refuse or accept on its own;
``tests/venues/test_bitunix_fastpath.py`` holds the two paths to that.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any

from ...codec import strict_decimal
from ...model import BarUpdate, MarkPrice, Quote
from ...times import iso_to_ms

_ENVELOPE = frozenset({"ch", "symbol", "ts", "data"})
_KLINE = frozenset({"o", "c", "h", "l", "b", "q"})
_BOOK = frozenset({"b", "a"})
_PRICE = frozenset({"ip", "mp", "fr", "ft", "nft"})


def kline(frame: dict[str, Any], interval_ms: int) -> BarUpdate | None:
    """A ``market_kline_*`` push whose interval is ``interval_ms``, or None."""
    data = _data(frame, _KLINE)
    if data is None:
        return None
    try:
        o, h, low, c = (
            strict_decimal(data["o"]), strict_decimal(data["h"]),
            strict_decimal(data["l"]), strict_decimal(data["c"]),
        )  # fmt: skip
        volume, quote_volume = strict_decimal(data["b"]), strict_decimal(data["q"])
    except (TypeError, ValueError):
        return None
    if not (o > 0 and h > 0 and low > 0 and c > 0):
        return None
    ts: int = frame["ts"]
    open_time = ts // interval_ms * interval_ms
    return BarUpdate(
        frame["symbol"], interval_ms, open_time, o, h, low, c, volume, quote_volume, ts
    )


def quote(frame: dict[str, Any]) -> Quote | None:
    """A ``depth_book*`` push with one level a side (``depth_book1``), or None."""
    data = _data(frame, _BOOK)
    if data is None:
        return None
    bids, asks = data["b"], data["a"]
    if not (type(bids) is list and len(bids) == 1 and type(asks) is list and len(asks) == 1):
        return None
    bid, ask = bids[0], asks[0]
    if not (type(bid) is list and len(bid) == 2 and type(ask) is list and len(ask) == 2):
        return None
    try:
        bid_price, bid_qty = strict_decimal(bid[0]), strict_decimal(bid[1])
        ask_price, ask_qty = strict_decimal(ask[0]), strict_decimal(ask[1])
    except (TypeError, ValueError):
        return None
    if not 0 < bid_price < ask_price:
        return None
    return Quote(frame["symbol"], frame["ts"], bid_price, bid_qty, ask_price, ask_qty)


def mark_price(frame: dict[str, Any]) -> MarkPrice | None:
    """A ``price`` push, or None."""
    data = _data(frame, _PRICE)
    if data is None:
        return None
    try:
        index, mark = strict_decimal(data["ip"]), strict_decimal(data["mp"])
        rate = strict_decimal(data["fr"])
    except (TypeError, ValueError):
        return None
    ft, nft = data["ft"], data["nft"]
    if not (index > 0 and mark > 0 and type(ft) is str and type(nft) is str):
        return None
    funding_time, next_funding_time = _settlement_ms(ft), _settlement_ms(nft)
    if funding_time is None or next_funding_time is None:
        return None
    return MarkPrice(
        frame["symbol"], frame["ts"], mark, index, rate.scaleb(-2), funding_time, next_funding_time
    )


def _data(frame: dict[str, Any], keys: frozenset[str]) -> dict[str, Any] | None:
    """The push's ``data`` if the envelope is exact and ``data`` an object with ``keys``."""
    if frame.keys() != _ENVELOPE or type(frame["symbol"]) is not str:
        return None
    data = frame["data"]
    if type(frame["ts"]) is not int or type(data) is not dict or data.keys() != keys:
        return None
    return data


@lru_cache(maxsize=64)
def _settlement_ms(text: str) -> int | None:
    """An ISO time with a zone → ms, or None. Cached: a ``price`` push every 2 s repeats the
    same two settlement times for 8 hours."""
    try:
        return iso_to_ms(text)
    except ValueError:  # not ISO-8601, or no zone
        return None
