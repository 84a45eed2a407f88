"""What a strategy may ask for. Risk turns an intent into a sized order, or refuses it."""

from __future__ import annotations

from decimal import Decimal

import attrs

from ..model import Side


@attrs.frozen
class Enter:
    """Open a position. ``kind`` is ``market`` or ``limit`` (then ``price`` is required).

    ``stop`` sizes the trade (without one, risk's ``default_stop_pct`` applies); ``target`` takes
    profit; ``trail_pct`` trails the stop behind the best price. ``risk_pct`` overrides the
    configured risk for this trade, up to the cap. ``qty`` asks for a fixed size instead (base
    units, rounded down to the lot step, still refused over the notional, leverage and margin
    limits); it excludes ``risk_pct``. ``client_id`` makes the intent idempotent.
    """

    side: Side
    kind: str = attrs.field(default="market", validator=attrs.validators.in_(["market", "limit"]))
    price: Decimal | None = None
    stop: Decimal | None = None
    target: Decimal | None = None
    trail_pct: Decimal | None = None
    risk_pct: Decimal | None = None
    client_id: str | None = None
    tag: str = ""
    qty: Decimal | None = None

    def __attrs_post_init__(self) -> None:
        if (self.kind == "limit") != (self.price is not None):
            raise ValueError("a limit entry needs a price, and only a limit entry has one")
        if self.qty is not None:
            if self.risk_pct is not None:
                raise ValueError("an entry has a qty or a risk_pct, not both")
            if not (self.qty.is_finite() and self.qty > 0):
                raise ValueError(f"qty must be a positive number, not {self.qty}")


@attrs.frozen
class Exit:
    """Close the whole position at market and cancel working entries."""

    reason: str = "signal"


@attrs.frozen
class CancelEntries:
    """Cancel working entry orders."""

    reason: str = "strategy"


Intent = Enter | Exit | CancelEntries
