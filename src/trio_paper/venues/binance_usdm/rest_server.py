"""Binance's side of ``GET /fapi/v1/klines``, for the simulator: which bars a query selects,
and the errors Binance answers a bad one with. No I/O.

Binance answers errors with an HTTP 4xx status and ``{"code": <negative>, "msg": ...}``
(``server.error_body``); a session sees them as ``rest.BinanceRestError``. Rules (PROTOCOL.md
§4): ``startTime`` and ``endTime`` bound the open time inclusively; with a start the page runs
forward from it, without one it is the newest ``limit`` bars up to the end (or up to now);
``limit`` defaults to 500 and may not exceed 1500.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import attrs

from ...model import Bar
from .rest import MAX_KLINE_LIMIT, BinanceRestError
from .ws import BINANCE_INTERVALS, INTERVALS

DEFAULT_LIMIT = 500
BAD_REQUEST = 400
"""The HTTP status of every error below."""
TOO_MANY_REQUESTS = 429
"""The HTTP status (with code -1003) when the request weight limit is exceeded."""

MANDATORY_PARAMETER = -1102
INVALID_INTERVAL = -1120
INVALID_SYMBOL = -1121
ILLEGAL_CHARACTERS = -1100
INVALID_PARAMETER = -1130
RATE_LIMITED = -1003

_INTERVAL_MS = {binance: INTERVALS[name] for name, binance in BINANCE_INTERVALS.items()}


@attrs.frozen
class KlineQuery:
    """A checked kline query: open times in ``[start, end]`` (``None``: unbounded), at most
    ``limit`` rows."""

    symbol: str
    interval_ms: int
    start: int | None
    end: int | None
    limit: int


def kline_query(query: Mapping[str, list[str]], symbols: frozenset[str]) -> KlineQuery:
    """Check a query string (as ``urllib.parse.parse_qs`` gives it) as Binance does; a bad one is
    a ``BinanceRestError`` with Binance's code and wording, to send with ``BAD_REQUEST``."""
    symbol = _text(query, "symbol")
    interval = _text(query, "interval")
    if symbol not in symbols:  # Binance matches the symbol exactly: upper case
        raise BinanceRestError(INVALID_SYMBOL, "Invalid symbol.")
    if interval not in _INTERVAL_MS:
        raise BinanceRestError(INVALID_INTERVAL, "Invalid interval.")
    limit = _number(query, "limit")
    if limit is not None and not 1 <= limit <= MAX_KLINE_LIMIT:
        raise BinanceRestError(INVALID_PARAMETER, "Invalid data sent for a parameter: limit.")
    start, end = _number(query, "startTime"), _number(query, "endTime")
    if start is not None and end is not None and start > end:
        raise BinanceRestError(INVALID_PARAMETER, "startTime should be less than endTime.")
    return KlineQuery(symbol, _INTERVAL_MS[interval], start, end, limit or DEFAULT_LIMIT)


def select_klines(bars: Sequence[Bar], query: KlineQuery) -> list[Bar]:
    """The bars ``query`` selects from ``bars`` (one symbol and interval, ascending)."""
    chosen = [
        bar for bar in bars
        if (query.start is None or bar.open_time >= query.start)
        and (query.end is None or bar.open_time <= query.end)
    ]  # fmt: skip
    if query.start is None:
        return chosen[-query.limit :]
    return chosen[: query.limit]


def _text(query: Mapping[str, list[str]], name: str) -> str:
    values = query.get(name)
    if not values or values == [""]:
        raise BinanceRestError(
            MANDATORY_PARAMETER,
            f"Mandatory parameter '{name}' was not sent, was empty/null, or malformed.",
        )
    if len(values) != 1:
        raise BinanceRestError(INVALID_PARAMETER, f"Invalid data sent for a parameter: {name}.")
    return values[0]


def _number(query: Mapping[str, list[str]], name: str) -> int | None:
    if name not in query:
        return None
    text = _text(query, name)
    if not (text.isascii() and text.isdigit()):
        raise BinanceRestError(
            ILLEGAL_CHARACTERS, f"Illegal characters found in parameter '{name}'."
        )
    return int(text)
