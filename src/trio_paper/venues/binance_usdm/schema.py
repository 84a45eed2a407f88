"""Binance USD-M market-data frames as Binance sends them: one strict attrs class per payload.

Field names are Binance's own (one letter, case-sensitive: ``t`` open time, ``T`` close time).
Prices and sizes are decimal strings, times and ids ints, flags bools; ``ws.parse_frame`` reads
a frame through these with ``codec.structure`` and turns it into ``model`` events.
"""

from __future__ import annotations

import re
from decimal import Decimal
from typing import Any

import attrs

from ...codec import PriceLevels

_POSITIVE = attrs.validators.gt(Decimal(0))
"""For prices: a zero or negative price is a bad frame, not a price to fill orders at."""
_SIDES = attrs.validators.in_(("BUY", "SELL"))


@attrs.frozen
class Envelope:
    stream: str
    data: dict[str, Any]


@attrs.frozen
class Answer:
    result: list[str] | None
    id: int


@attrs.frozen
class ErrorDetail:
    code: int
    msg: str


@attrs.frozen
class ErrorAnswer:
    error: ErrorDetail
    id: int | None


@attrs.frozen
class Kline:
    t: int
    T: int
    s: str
    i: str
    f: int
    L: int
    o: Decimal = attrs.field(validator=_POSITIVE)
    c: Decimal = attrs.field(validator=_POSITIVE)
    h: Decimal = attrs.field(validator=_POSITIVE)
    l: Decimal = attrs.field(validator=_POSITIVE)  # noqa: E741 - the exchange's name
    v: Decimal
    n: int
    x: bool
    q: Decimal
    V: Decimal
    Q: Decimal
    B: str


@attrs.frozen
class KlineEvent:
    e: str
    E: int
    s: str
    k: Kline


@attrs.frozen
class MarkPriceEvent:
    e: str
    E: int
    s: str
    p: Decimal = attrs.field(validator=_POSITIVE)
    r: Decimal
    T: int
    i: Decimal | None = attrs.field(default=None, validator=attrs.validators.optional(_POSITIVE))
    P: Decimal | None = None


@attrs.frozen
class BookTickerEvent:
    e: str
    u: int
    E: int
    T: int
    s: str
    b: Decimal
    B: Decimal
    a: Decimal
    A: Decimal


@attrs.frozen
class AggTradeEvent:
    e: str
    E: int
    s: str
    p: Decimal = attrs.field(validator=_POSITIVE)
    q: Decimal
    f: int
    l: int  # noqa: E741
    T: int
    m: bool
    a: int | None = None  # the aggregate trade id; 2019 frames have none


@attrs.frozen
class TradeEvent:
    e: str
    E: int
    T: int
    s: str
    t: int
    p: Decimal = attrs.field(validator=_POSITIVE)
    q: Decimal
    m: bool
    X: str = "MARKET"


@attrs.frozen
class DepthEvent:
    e: str
    E: int
    T: int
    s: str
    U: int
    u: int
    pu: int
    b: PriceLevels
    a: PriceLevels


@attrs.frozen
class TickerEvent:
    e: str
    E: int
    s: str
    p: Decimal
    P: Decimal
    w: Decimal
    c: Decimal = attrs.field(validator=_POSITIVE)
    Q: Decimal
    o: Decimal = attrs.field(validator=_POSITIVE)
    h: Decimal = attrs.field(validator=_POSITIVE)
    l: Decimal = attrs.field(validator=_POSITIVE)  # noqa: E741
    v: Decimal
    q: Decimal
    O: int  # noqa: E741
    C: int
    F: int
    L: int
    n: int


@attrs.frozen
class ForceOrder:
    s: str
    S: str = attrs.field(validator=_SIDES)
    o: str
    f: str
    q: Decimal
    p: Decimal
    ap: Decimal
    X: str
    l: Decimal  # noqa: E741
    z: Decimal
    T: int


@attrs.frozen
class ForceOrderEvent:
    e: str
    E: int
    o: ForceOrder


@attrs.frozen
class TradeLiteEvent:
    e: str
    E: int
    T: int
    s: str
    q: Decimal
    p: Decimal
    m: bool
    c: str
    S: str = attrs.field(validator=_SIDES)
    L: Decimal
    l: Decimal  # noqa: E741
    t: int
    i: int


NESTED: dict[type, dict[str, type]] = {
    KlineEvent: {"k": Kline},
    ForceOrderEvent: {"o": ForceOrder},
}
"""Payload objects nested one level down, whose unknown keys are tolerated too."""

EVENTS: dict[str, type] = {
    "kline": KlineEvent,
    "markPriceUpdate": MarkPriceEvent,
    "bookTicker": BookTickerEvent,
    "aggTrade": AggTradeEvent,
    "trade": TradeEvent,
    "depthUpdate": DepthEvent,
    "24hrTicker": TickerEvent,
    "forceOrder": ForceOrderEvent,
    "TRADE_LITE": TradeLiteEvent,
}
"""Each payload's event name (``e``) → its schema."""

STREAM = re.compile(
    r"(?P<symbol>[a-z0-9_]+)@(?:(?P<aggTrade>aggTrade)|(?P<trade>trade)"
    r"|(?P<mark>markPrice(?:@1s)?)|(?P<book>bookTicker)|(?P<ticker>ticker)"
    r"|(?P<force>forceOrder)|(?P<depth>depth(?:5|10|20)?(?:@(?:0|100|250|500)ms)?)"
    r"|(?P<kline>kline_(?P<interval>[0-9]+[mhdw])))"
)
"""Market stream names: ``<lower-case symbol>@<kind>``."""

STREAM_EVENTS = {
    "aggTrade": "aggTrade", "trade": "trade", "mark": "markPriceUpdate", "book": "bookTicker",
    "ticker": "24hrTicker", "force": "forceOrder", "depth": "depthUpdate", "kline": "kline",
}  # fmt: skip
"""Which ``STREAM`` group matched → the event (``e``) its payloads must carry."""
