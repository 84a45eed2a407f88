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
``tests/venues/bitunix/test_fastpath.py`` holds the two paths to that.

``push`` goes one step earlier, to the frame's text: a push written exactly as Bitunix writes
it (compact, keys in its order, decimals of plain digits) is read with one regular expression
instead of ``orjson.loads`` and the checks on the dict. A text that matches is one whose JSON
parses to a dict the functions below accept with the same values (no escapes, no duplicate
keys, ASCII only), so it gives what they give; any other text is declined, to them. It is two
steps, so that a replay can take the first elsewhere: ``split`` cuts the text into its fields
(the expression), ``parse_split`` makes and checks the event (``store/readahead.py``).
"""

from __future__ import annotations

import re
from decimal import Decimal
from functools import lru_cache
from typing import Any

from ...batch import maker
from ...codec import strict_decimal
from ...model import BarUpdate, MarkPrice, Quote
from ...times import INTERVAL_MS, iso_to_ms
from ..sanity import SETTLEMENT_HORIZON_MS, Bounds

_bar_update = maker(BarUpdate)
_quote = maker(Quote)
_mark_price = maker(MarkPrice)
"""The events, made by their slots: one for nearly every frame (``batch``)."""

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
    return _bar_update(
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
    return _quote(frame["symbol"], frame["ts"], bid_price, bid_qty, ask_price, ask_qty)


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
    return _mark_price(
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


# --- the text of a push ------------------------------------------------------------------------

# Every repeat is possessive (``{m,n}+``, ``?+``): what follows each is a character it cannot
# match, so giving characters back could never lead to a match, and not trying is faster.
_SYMBOL = r'"symbol":"([0-9A-Za-z]{1,40}+)"'
_TS = r'"ts":(0|[1-9][0-9]{0,17}+)'
"""An int orjson reads as the same int: no sign, no leading zero, within 64 bits."""
_DEC = r'"([0-9]{1,20}+(?:\.[0-9]{1,20}+)?+)"'
"""A decimal ``strict_decimal`` reads as ``Decimal(text)``: ASCII digits and one point, far
inside its exponent bound. Never negative: a size that matches is not below zero."""
_KLINE_TEXT = re.compile(
    rf'\{{"ch":"market_kline_([0-9a-z]{{1,8}}+)",{_SYMBOL},{_TS},"data":\{{"o":{_DEC},'
    rf'"c":{_DEC},"h":{_DEC},"l":{_DEC},"b":{_DEC},"q":{_DEC}\}}\}}'
).fullmatch
_BOOK_TEXT = re.compile(
    rf'\{{"ch":"depth_book1",{_SYMBOL},{_TS},"data":\{{"b":\[\[{_DEC},{_DEC}\]\],'
    rf'"a":\[\[{_DEC},{_DEC}\]\]\}}\}}'
).fullmatch
_PRICE_TEXT = re.compile(
    rf'\{{"ch":"price",{_SYMBOL},{_TS},"data":\{{"ip":{_DEC},"mp":{_DEC},'
    rf'"fr":"(-?+[0-9]{{1,20}}+(?:\.[0-9]{{1,20}}+)?+)","ft":"([0-9A-Za-z:.+-]{{1,40}}+)",'
    rf'"nft":"([0-9A-Za-z:.+-]{{1,40}}+)"\}}\}}'
).fullmatch


_PRICES: dict[str, Decimal] = {}
_PRICES_KEPT = 2048
"""Prices read, by their text: a push repeats most of the last ones (a kline's open, high and
low hold for minutes), and a look-up costs a third of ``Decimal(text)``, which is exact and
the same in any context. Emptied when full: half a megabyte at most, and 85 % of the day
recording's prices found (93 % with four times as many kept, 80 % with half)."""
_known_price = _PRICES.get


def _price(text: str) -> Decimal:
    """``Decimal(text)`` of a price's text not in ``_PRICES``, kept there."""
    if len(_PRICES) >= _PRICES_KEPT:
        _PRICES.clear()
    value = _PRICES[text] = Decimal(text)
    return value


def split(raw: str | bytes) -> str | None:
    """The fields of a kline, ``depth_book1`` or ``price`` push written exactly as Bitunix
    writes it, cut from its text by its expression and joined by commas: what ``parse_split``
    reads. None for any other text (always for bytes: a binary frame is none of these).

    Their number says which push it is: 6 a book, 7 a price, 9 a kline. Each is non-empty,
    with no comma or line break (the expressions allow none)."""
    if type(raw) is not str:
        return None
    if raw.startswith('{"ch":"depth_book1"'):
        match = _BOOK_TEXT(raw)
    elif raw.startswith('{"ch":"market_kline_'):
        match = _KLINE_TEXT(raw)
    elif raw.startswith('{"ch":"price"'):
        match = _PRICE_TEXT(raw)
    else:
        return None
    return None if match is None else ",".join(match.groups())


def parse_split(
    fields: str, received: int = 0, bounds: Bounds | None = None
) -> BarUpdate | Quote | MarkPrice | None:
    """The event of the push whose ``split`` is ``fields``, or None.

    Equal to what the functions above make of ``orjson.loads(raw)`` whenever it is not None.
    With ``bounds``, also None unless ``bounds.sane(event, received)``: the numbers are checked
    where they are read, and only those a text can leave in doubt (a size read here is never
    negative, a bid is already below its ask)."""
    cut = fields.split(",")
    n = len(cut)
    if n == 6:
        return _quote_fields(cut, bounds, received)
    if n == 9:
        return _kline_fields(cut, bounds, received)
    return _mark_price_fields(cut, bounds, received)


def push(
    raw: str | bytes, received: int = 0, bounds: Bounds | None = None
) -> BarUpdate | Quote | MarkPrice | None:
    """The event of a kline, ``depth_book1`` or ``price`` push read from its text, or None:
    ``parse_split`` of its ``split``. It is Bitunix's ``Venue.parse_sane``."""
    fields = split(raw)
    return None if fields is None else parse_split(fields, received, bounds)


def _quote_fields(fields: list[str], bounds: Bounds | None, received: int) -> Quote | None:
    symbol, ts_text, bid_text, bid_qty, ask_text, ask_qty = fields
    bid = _known_price(bid_text) or _price(bid_text)
    ask = _known_price(ask_text) or _price(ask_text)
    ts = int(ts_text)
    if bounds is None:
        if not 0 < bid < ask:
            return None
    else:  # the floor is positive
        skew = bounds.max_skew_ms
        if not (
            bounds.min_price <= bid < ask <= bounds.max_price and -skew <= ts - received <= skew
        ):
            return None
    return _quote(symbol, ts, bid, Decimal(bid_qty), ask, Decimal(ask_qty))


def _kline_fields(fields: list[str], bounds: Bounds | None, received: int) -> BarUpdate | None:
    interval, symbol, ts_text, o_text, c_text, h_text, low_text, volume, quote_volume = fields
    interval_ms = INTERVAL_MS.get(interval)
    if interval_ms is None:
        return None
    o = _known_price(o_text) or _price(o_text)
    h = _known_price(h_text) or _price(h_text)
    low = _known_price(low_text) or _price(low_text)
    c = _known_price(c_text) or _price(c_text)
    ts = int(ts_text)
    if bounds is None:
        if not (o > 0 and h > 0 and low > 0 and c > 0):
            return None
    else:  # the floor is positive; the open time, from ``ts`` here, is within its interval
        skew = bounds.max_skew_ms
        if not (
            bounds.min_price <= low <= h <= bounds.max_price and low <= o <= h and low <= c <= h
            and -skew <= ts - received <= skew
        ):  # fmt: skip
            return None
    open_time = ts // interval_ms * interval_ms
    return _bar_update(
        symbol, interval_ms, open_time, o, h, low, c, Decimal(volume), Decimal(quote_volume), ts
    )


def _mark_price_fields(fields: list[str], bounds: Bounds | None, received: int) -> MarkPrice | None:
    symbol, ts_text, index_text, mark_text, rate_text, ft, nft = fields
    index = _known_price(index_text) or _price(index_text)
    mark = _known_price(mark_text) or _price(mark_text)
    if bounds is None and not (index > 0 and mark > 0):
        return None  # else the bounds' positive floor, below
    funding_time, next_funding_time = _settlement_ms(ft), _settlement_ms(nft)
    if funding_time is None or next_funding_time is None:
        return None
    ts, rate = int(ts_text), Decimal(rate_text).scaleb(-2)
    if bounds is not None:
        lo, hi, skew = bounds.min_price, bounds.max_price, bounds.max_skew_ms
        horizon = skew + SETTLEMENT_HORIZON_MS
        if not (
            lo <= mark <= hi and lo <= index <= hi and abs(rate) <= bounds.max_funding_rate
            and -skew <= ts - received <= skew
            and (not funding_time or abs(funding_time - received) <= horizon)
            and (not next_funding_time or abs(next_funding_time - received) <= horizon)
        ):  # fmt: skip
            return None
    return _mark_price(symbol, ts, mark, index, rate, funding_time, next_funding_time)
