"""What the paper account holds: orders, the position, cash. Mutable, and saved whole.

Every class here is an attrs class that the converter (un)structures losslessly, so a
checkpoint is ``converter.unstructure(state)`` and a restore is ``structure(data, State)``.
"""

from __future__ import annotations

from decimal import Decimal

import attrs

from ..model import Quote, Side

ZERO = Decimal(0)


@attrs.define
class Order:
    """A working or finished order. ``id`` is the client order id: unique, so idempotent."""

    id: str
    side: Side
    kind: str  # "market" or "limit"
    qty: Decimal
    created: int
    tag: str = ""
    price: Decimal | None = None
    stop: Decimal | None = None
    target: Decimal | None = None
    trail_pct: Decimal | None = None
    reduce_only: bool = False
    expires: int | None = None
    filled: Decimal = ZERO
    volume_seen: Decimal = ZERO

    @property
    def remaining(self) -> Decimal:
        return self.qty - self.filled


@attrs.define
class Position:
    """The net position: ``qty`` > 0 long, < 0 short, 0 flat; protection rides on it."""

    qty: Decimal = ZERO
    entry: Decimal = ZERO
    opened: int = 0
    trade: int = 0
    margin: Decimal = ZERO
    stop: Decimal | None = None
    target: Decimal | None = None
    trail_pct: Decimal | None = None
    best: Decimal | None = None
    realized: Decimal = ZERO
    fees: Decimal = ZERO
    funding: Decimal = ZERO

    @property
    def side(self) -> Side | None:
        if self.qty > 0:
            return Side.BUY
        if self.qty < 0:
            return Side.SELL
        return None


@attrs.define
class Account:
    """Cash is the wallet: starting cash + realized PnL − fees − funding paid."""

    cash: Decimal
    realized: Decimal = ZERO
    fees: Decimal = ZERO
    funding: Decimal = ZERO
    trades: int = 0


@attrs.define
class Market:
    """The broker's view of the market: the last quote and last price, with receive times."""

    quote: Quote | None = None
    quote_t: int = 0
    last: Decimal | None = None
    last_t: int = 0
    mark: Decimal | None = None
    mark_t: int = 0
    funding_time: int | None = None
    next_funding_time: int | None = None
    next_funding_rate: Decimal | None = None
    """The rate a venue announced for ``next_funding_time`` (``MarkPrice.next_funding_rate``)."""
    bar_open: int | None = None
    bar_volume: Decimal = ZERO
    stale_since: int | None = None
    valid_after: int | None = None
    quotes_down: bool = False
    """The quotes' own socket is down or stale (``model.QUOTE_SOCKET``): nothing fills."""


@attrs.define
class BrokerState:
    account: Account
    position: Position = attrs.Factory(Position)
    orders: list[Order] = attrs.Factory(list)
    market: Market = attrs.Factory(Market)
    next_order: int = 1
    used_ids: list[str] = attrs.Factory(list)
