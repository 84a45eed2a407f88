"""Binance mark-price pushes through the real broker: funding is charged once per settlement, at
the first push after it, stamped with the settlement, only on positions held through it, at the
last rate announced for it.

This pins the mapping ``ws.FUNDING_INTERVAL_MS`` documents, including its one approximation: when
no push announced the settlement (the feed was down across it), the rate charged is the first
push's ``r`` after it, which is already the next period's estimate.
"""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

from trio_paper.codec import converter, dumps, structure
from trio_paper.config import Config, evolve
from trio_paper.core import engine_settings
from trio_paper.engine.broker import Broker
from trio_paper.engine.state import Account, BrokerState, Order
from trio_paper.model import MarkPrice, Quote, Side
from trio_paper.venues.binance_usdm.ws import parse_frame

SETTLEMENT = 1751356800000  # 2025-07-01T08:00:00Z
EIGHT_HOURS = 8 * 3_600_000


def push(e: int, mark: str, rate: str, next_funding: int) -> MarkPrice:
    """A ``btcusdt@markPrice@1s`` push as Binance sends it, parsed."""
    data = {
        "e": "markPriceUpdate", "E": e, "s": "BTCUSDT", "p": mark, "i": mark, "P": mark,
        "r": rate, "T": next_funding,
    }  # fmt: skip
    (event,) = parse_frame(dumps({"stream": "btcusdt@markPrice@1s", "data": data})).events
    assert isinstance(event, MarkPrice)
    return event


class Records:
    def __init__(self) -> None:
        self.funding: list[dict[str, Any]] = []

    def __call__(self, kind: str, /, **fields: Any) -> None:
        if kind == "funding":
            self.funding.append(fields)


def long_position(opened_at: int, *seen: MarkPrice) -> tuple[Broker, Records]:
    """A broker that saw the marks ``seen``, then bought 0.5 BTC at ``opened_at`` at 100,000."""
    cfg: Config = evolve(Config(), broker={"slippage_pct": D(0)})
    records = Records()
    broker = Broker(engine_settings(cfg).broker, BrokerState(Account(D("100000"))), records)
    for mark in seen:
        broker.on_mark(mark.ts, mark)
    broker.on_quote(opened_at, Quote("BTCUSDT", opened_at, D("99999.9"), D(5), D("100000"), D(5)))
    broker.submit(opened_at, Order("m1", Side.BUY, "market", D("0.5"), opened_at))
    assert broker.position.qty == D("0.5")
    return broker, records


def test_funding_is_charged_once_after_the_settlement_at_the_last_rate_announced_for_it() -> None:
    """Before: the rate charged was the first push's after the settlement (0.00003), which is
    the next period's estimate; Binance settled at the last one announced, 0.00012."""
    broker, records = long_position(SETTLEMENT - 60_000)
    for e, rate in ((SETTLEMENT - 50_000, "0.00010000"), (SETTLEMENT - 1_000, "0.00012000")):
        broker.on_mark(e, push(e, "100000", rate, SETTLEMENT))
    assert records.funding == []  # before the settlement: nothing
    cash = broker.state.account.cash
    after = SETTLEMENT + 1_000
    broker.on_mark(after, push(after, "100100", "0.00003000", SETTLEMENT + EIGHT_HOURS))
    assert records.funding == [
        {"rate": D("0.00012000"), "mark": D("100100"), "qty": D("0.5"),
         "amount": D("-6.006000000"), "settled": SETTLEMENT},
    ]  # fmt: skip
    assert broker.state.account.cash == cash - D("6.006")
    later = SETTLEMENT + 2_000
    broker.on_mark(later, push(later, "100200", "0.00003000", SETTLEMENT + EIGHT_HOURS))
    assert len(records.funding) == 1


def test_a_position_opened_after_the_settlement_pays_nothing_for_it() -> None:
    before = push(SETTLEMENT - 1_000, "100000", "0.0001", SETTLEMENT)
    broker, records = long_position(SETTLEMENT + 500, before)
    after = SETTLEMENT + 1_000
    broker.on_mark(after, push(after, "100000", "0.0001", SETTLEMENT + EIGHT_HOURS))
    assert records.funding == []
    held, held_records = long_position(SETTLEMENT - 500, before)  # the same, opened before
    held.on_mark(after, push(after, "100000", "0.0001", SETTLEMENT + EIGHT_HOURS))
    assert [f["settled"] for f in held_records.funding] == [SETTLEMENT]


def test_a_delivery_contract_never_pays_funding() -> None:
    broker, records = long_position(SETTLEMENT - 60_000)
    for e in (SETTLEMENT - 1_000, SETTLEMENT + 1_000, SETTLEMENT + EIGHT_HOURS + 1_000):
        broker.on_mark(e, push(e, "100000", "0.00000000", 0))
    assert records.funding == []


def test_a_settlement_no_push_announced_falls_back_to_the_next_periods_rate() -> None:
    """The feed was down from before the previous settlement until after this one: the last
    rate seen was announced for the previous settlement, not this one, so it is not used."""
    earlier = push(
        SETTLEMENT - EIGHT_HOURS - 1_000, "100000", "0.00050000", SETTLEMENT - EIGHT_HOURS
    )
    broker, records = long_position(SETTLEMENT - EIGHT_HOURS - 500, earlier)
    after = SETTLEMENT + 1_000
    broker.on_mark(after, push(after, "100000", "0.00003000", SETTLEMENT + EIGHT_HOURS))
    assert [(f["rate"], f["settled"]) for f in records.funding] == [(D("0.00003000"), SETTLEMENT)]


def test_the_rate_announced_survives_a_restart_before_the_settlement() -> None:
    """A checkpoint between the last announcement and the settlement keeps the rate: the
    restored broker charges what an uninterrupted one would."""
    broker, _ = long_position(SETTLEMENT - 60_000)
    broker.on_mark(SETTLEMENT - 1_000, push(SETTLEMENT - 1_000, "100000", "0.00012000", SETTLEMENT))
    saved = converter.unstructure(broker.state)
    records = Records()
    restored = Broker(broker.settings, structure(saved, BrokerState), records)
    after = SETTLEMENT + 1_000
    restored.on_mark(after, push(after, "100000", "0.00003000", SETTLEMENT + EIGHT_HOURS))
    assert [f["rate"] for f in records.funding] == [D("0.00012000")]
