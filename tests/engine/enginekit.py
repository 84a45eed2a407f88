"""Builders for engine tests: configs, market events, a scripted strategy, a recording broker.

Everything here builds real engine objects; nothing stands in for our own code.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from decimal import Decimal
from typing import Any

from trio_paper.config import Config, evolve
from trio_paper.core import Core, engine_settings
from trio_paper.engine.broker import Broker
from trio_paper.engine.engine import Engine, fresh_state
from trio_paper.engine.intents import Intent
from trio_paper.engine.records import Record
from trio_paper.engine.state import Account, BrokerState, Order
from trio_paper.engine.strategies import Strategy, View
from trio_paper.inputs import Frame, Input, SessionStart
from trio_paper.model import Bar, MarkPrice, Quote, Side

D = Decimal
T0 = 1_746_662_400_000
"""2025-05-08T00:00:00Z, the start of a UTC day."""
MIN = 60_000
SYMBOL = "BTCUSDT"


def config(**sections: dict[str, Any]) -> Config:
    """The default config with some keys replaced (``config(broker={"slippage_pct": D(0)})``)."""
    return evolve(Config(), **sections)


def quote(bid: str, ask: str, ts: int = 0) -> Quote:
    return Quote(SYMBOL, ts, D(bid), D("5"), D(ask), D("5"))


def bar(
    open_time: int, o: str, h: str, lo: str, c: str, volume: str = "10", source: str = "ws"
) -> Bar:
    return Bar(SYMBOL, MIN, open_time, D(o), D(h), D(lo), D(c), D(volume), D(0), source)


def mark(t: int, price: str, rate: str, funding_time: int) -> MarkPrice:
    """A mark-price event; ``rate`` is a fraction, as the model carries it."""
    next_time = funding_time + 8 * 3600_000
    return MarkPrice(SYMBOL, t, D(price), D(price), D(rate), funding_time, next_time)


class Scripted(Strategy[Any, Any]):
    """Returns whatever the test queued for its next bar or quote; nothing otherwise."""

    name = "scripted"

    def __init__(self, params: Any = None) -> None:
        super().__init__(self.Params())
        self.on_next_bar: list[Intent] = []
        self.on_next_quote: list[Intent] = []
        self.views: list[View] = []

    def on_bar(self, bar: Bar, view: View) -> Sequence[Intent]:
        self.views.append(view)
        out, self.on_next_bar = self.on_next_bar, []
        return out

    def on_quote(self, quote: Quote, view: View) -> Sequence[Intent]:
        out, self.on_next_quote = self.on_next_quote, []
        return out


def engine(cfg: Config, strategy: Strategy[Any, Any] | None = None, t: int = T0) -> Engine:
    """A fresh engine with its session started at ``t``."""
    settings = engine_settings(cfg)
    eng = Engine(settings, strategy if strategy is not None else Scripted(), fresh_state(settings))
    eng.start(t, "test", False, "bitunix", SYMBOL, "1min")
    eng.out.clear()
    return eng


def of_type(records: Sequence[Record], kind: str) -> list[Record]:
    return [r for r in records if r["type"] == kind]


class Recorder:
    """A broker's ``emit``: keeps every record as ``(type, fields)``."""

    def __init__(self) -> None:
        self.records: list[tuple[str, dict[str, Any]]] = []

    def __call__(self, kind: str, /, **fields: Any) -> None:
        self.records.append((kind, fields))

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [fields for k, fields in self.records if k == kind]


def broker(cfg: Config, cash: str = "10000") -> tuple[Broker, Recorder]:
    """A bare paper broker over ``cfg``'s settings, with its records kept."""
    rec = Recorder()
    return Broker(engine_settings(cfg).broker, BrokerState(Account(D(cash))), rec), rec


def enter(eng: Engine, strategy: Scripted, t: int, bid: str, ask: str, *intents: Intent) -> None:
    """Deliver ``intents`` as the strategy's answer to a quote ``bid``/``ask`` at ``t``."""
    strategy.on_next_quote = list(intents)
    eng.on_market(t, quote(bid, ask))


def market(side: Side, qty: str, t: int, oid: str = "m1", **kw: Any) -> Order:
    return Order(oid, side, "market", D(qty), t, **kw)


def limit(side: Side, qty: str, price: str, t: int, oid: str = "l1", **kw: Any) -> Order:
    return Order(oid, side, "limit", D(qty), t, price=D(price), **kw)


class FedCore:
    """A ``Core`` fed item by item through its one door, keeping every record it wrote."""

    def __init__(self, strategy: Scripted, cfg: Config | None = None, run_id: str = "test") -> None:
        self.strategy = strategy
        self.core = Core(cfg or config(broker={"slippage_pct": D(0)}), strategy)
        self.seq = itertools.count(1)
        self.out: list[Record] = []
        self.feed(SessionStart(next(self.seq), T0 + 500, run_id))

    def feed(self, item: Input) -> list[Record]:
        records = self.core.on_item(item).records
        self.out += records
        return records

    def frame(self, t: int, raw: str) -> list[Record]:
        return self.feed(Frame(next(self.seq), t, raw))
