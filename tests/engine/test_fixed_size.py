"""``Enter(..., qty=...)``: a fixed size, rounded down to the lot and still held to risk's limits.

Every entry here is a market buy at a quote of 999.9 / 1000.0 with no slippage, so it is priced
at 1000.0. Defaults: cash 10,000, lot 0.0001, minimum notional 5, max notional 50,000, max
leverage 5 (notional ≤ 50,000), account leverage 10.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from tests.engine.enginekit import T0, D, Scripted, config, engine, enter, of_type
from trio_paper.engine.intents import Enter
from trio_paper.engine.records import Record
from trio_paper.model import Side


def first_order(qty: str, account: dict[str, Any] | None = None, **risk: Any) -> Record:
    """The ``order`` (or the ``reject``) a fixed-size entry of ``qty`` gets."""
    cfg = config(broker={"slippage_pct": D(0)}, risk=risk, account=account or {})
    s = Scripted()
    e = engine(cfg, s)
    enter(e, s, T0 + 1000, "999.9", "1000.0", Enter(Side.BUY, stop=D("990"), qty=D(qty)))
    orders, rejects = of_type(e.out, "order"), of_type(e.out, "reject")
    return orders[0] if orders else rejects[0]


def test_a_fixed_size_is_used_as_asked_not_sized_by_risk() -> None:
    """Risk sizing would buy 100 ÷ (1000 − 990) = 10; a fixed 0.5 buys 0.5."""
    order = first_order("0.5")
    assert (order["type"], order["qty"]) == ("order", D("0.5"))


def test_a_fixed_size_rounds_down_to_the_lot_step() -> None:
    """0.12349 → 0.1234 (lot 0.0001), never up."""
    assert first_order("0.12349")["qty"] == D("0.1234")


@pytest.mark.parametrize(
    ("qty", "outcome"),
    [
        ("0.005", D("0.005")),  # 0.005 × 1000 = 5.000: exactly the minimum, accepted
        ("0.00499", "size 0.0049 (4.90 USDT) is under the minimum notional 5"),  # lot → 0.0049
        ("0.00009", "size 0.0000 (0.00 USDT) is under the minimum notional 5"),  # under one lot
    ],
)
def test_the_minimum_notional_holds_at_its_boundary(qty: str, outcome: Decimal | str) -> None:
    record = first_order(qty)
    assert record["qty" if record["type"] == "order" else "reason"] == outcome


@pytest.mark.parametrize(
    ("qty", "outcome"),
    [
        ("20", D("20")),  # 20 × 1000 = 20,000: exactly the cap
        ("20.0001", "size 20.0001 (20000.10 USDT) is over the max notional 20000"),
    ],
)
def test_the_max_notional_refuses_rather_than_shrinks(qty: str, outcome: Decimal | str) -> None:
    record = first_order(qty, max_notional_usdt=D("20000"))
    assert record["qty" if record["type"] == "order" else "reason"] == outcome


@pytest.mark.parametrize(
    ("qty", "outcome"),
    [
        ("50", D("50")),  # 50 × 1000 = 50,000 = equity 10,000 × 5: exactly the cap
        ("50.0001", "size 50.0001 (50000.10 USDT) is over the max leverage 5× of equity 10000.00"),
    ],
)
def test_the_max_leverage_holds_at_its_boundary(qty: str, outcome: Decimal | str) -> None:
    record = first_order(qty, max_notional_usdt=D("100000"))
    assert record["qty" if record["type"] == "order" else "reason"] == outcome


def test_a_fixed_size_needs_the_margin() -> None:
    """At 2× account leverage, 25 × 1000 = 25,000 needs 12,500 of margin; cash is 10,000."""
    record = first_order("25", account={"leverage": 2})
    assert record["reason"] == "insufficient margin"


def test_qty_and_risk_pct_together_is_an_error() -> None:
    with pytest.raises(ValueError, match="a qty or a risk_pct, not both"):
        Enter(Side.BUY, qty=D("1"), risk_pct=D("1"))


@pytest.mark.parametrize("qty", ["0", "-1", "NaN"])
def test_qty_must_be_positive(qty: str) -> None:
    with pytest.raises(ValueError, match="qty must be a positive number"):
        Enter(Side.BUY, qty=D(qty))
