"""A symbol's trading rules from Binance's ``GET /fapi/v1/exchangeInfo``: tick, lot step, minimums.

For setting ``broker.tick_size`` and ``broker.lot_step`` from the venue rather than by hand. The
answer is large and Binance extends it often, so only the one symbol's ``PRICE_FILTER``,
``LOT_SIZE`` and ``MIN_NOTIONAL`` are read, strictly; everything else is ignored. No I/O.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import attrs

from ...codec import MalformedMessage, loads_object, structure

EXCHANGE_INFO_PATH = "/fapi/v1/exchangeInfo"


@attrs.frozen
class SymbolFilters:
    """What Binance accepts for one symbol: prices on ``tick_size``, sizes on ``lot_step`` and at
    least ``min_qty``, orders worth at least ``min_notional`` (USDT)."""

    symbol: str
    tick_size: Decimal
    lot_step: Decimal
    min_qty: Decimal
    min_notional: Decimal | None


_POSITIVE = attrs.validators.gt(Decimal(0))


@attrs.frozen
class _PriceFilter:
    tickSize: Decimal = attrs.field(validator=_POSITIVE)


@attrs.frozen
class _LotSize:
    stepSize: Decimal = attrs.field(validator=_POSITIVE)
    minQty: Decimal


@attrs.frozen
class _MinNotional:
    notional: Decimal


def symbol_filters(body: str | bytes, symbol: str) -> SymbolFilters:
    """``symbol``'s filters from an exchangeInfo answer; a ``MalformedMessage`` naming the path if
    the symbol or one of its filters is missing or off-schema."""
    info = loads_object(body)
    symbols = info.get("symbols")
    if type(symbols) is not list:
        raise MalformedMessage("expected a list of symbols", "$.symbols")
    for index, entry in enumerate(symbols):
        if type(entry) is dict and entry.get("symbol") == symbol:
            return _filters(entry, symbol, f"$.symbols[{index}]")
    raise MalformedMessage(f"symbol {symbol!r} is not listed", "$.symbols")


def _filters(entry: dict[str, Any], symbol: str, where: str) -> SymbolFilters:
    filters = entry.get("filters")
    if type(filters) is not list:
        raise MalformedMessage("expected a list of filters", where + ".filters")
    by_type: dict[str, tuple[dict[str, Any], str]] = {}
    for index, item in enumerate(filters):
        if type(item) is dict and type(item.get("filterType")) is str:
            by_type[item["filterType"]] = (item, f"{where}.filters[{index}]")

    def read(filter_type: str, cls: type[Any]) -> Any:
        if filter_type not in by_type:
            raise MalformedMessage(f"no {filter_type} filter", where + ".filters")
        item, at = by_type[filter_type]
        names = attrs.fields_dict(cls)
        return structure({k: v for k, v in item.items() if k in names}, cls, at)

    price: _PriceFilter = read("PRICE_FILTER", _PriceFilter)
    lot: _LotSize = read("LOT_SIZE", _LotSize)
    notional = read("MIN_NOTIONAL", _MinNotional).notional if "MIN_NOTIONAL" in by_type else None
    return SymbolFilters(symbol, price.tickSize, lot.stepSize, lot.minQty, notional)
