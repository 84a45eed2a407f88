"""The strategy interface: closed bars and quotes in, intents out, state that can be saved.

A strategy is a class with two attrs classes beside it: ``Params`` (what ``config.yaml`` may
set; unknown keys are an error) and ``State`` (everything it remembers, saved in every
checkpoint, so a restart resumes it exactly). See ``docs/strategies.md``.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import Any, ClassVar, Generic, TypeVar

import attrs

from ...codec import converter, structure
from ...model import Bar, Quote
from ..intents import Intent
from ..steps import on_step


@attrs.frozen(slots=False)
class View:
    """What a strategy may know of the account and the market when it is called.

    (Not slotted: one is built for every bar, and attrs builds a frozen class with a
    ``__dict__`` in two thirds of the time.)"""

    t: int
    position: Decimal
    entry: Decimal | None
    equity: Decimal
    quote: Quote | None
    tick_size: Decimal
    live: bool
    """False for bars from a backfill or a warm-up: history, whose intents are refused."""

    def price(self, value: float | Decimal) -> Decimal:
        """A computed price (an indicator is a float) on the instrument's tick grid."""
        price = Decimal(repr(value)) if isinstance(value, float) else value
        return on_step(price, self.tick_size)


@attrs.frozen
class NoParams:
    pass


@attrs.define
class NoState:
    pass


P = TypeVar("P")
S = TypeVar("S")


class Strategy(Generic[P, S]):
    """Subclass this; set ``name``, ``Params`` and ``State``; override what you need."""

    name: ClassVar[str] = ""
    Params: ClassVar[type[Any]] = NoParams
    State: ClassVar[type[Any]] = NoState

    spec: str | None = None
    """Set by ``load``: the name or ``package.module:Class`` it was loaded by."""

    def __init__(self, params: P) -> None:
        self.params = params
        self.state: S = self.State()

    @property
    def warmup_bars(self) -> int:
        """Closed bars needed before the first signal; the session backfills this many."""
        return 0

    def on_bar(self, bar: Bar, view: View) -> Sequence[Intent]:
        return ()

    def on_quote(self, quote: Quote, view: View) -> Sequence[Intent]:
        return ()

    def snapshot(self) -> Any:
        return converter.unstructure(self.state)

    def restore(self, data: Any) -> None:
        self.state = structure(data, self.State, "$.strategy")

    def describe(self) -> dict[str, Any]:
        """How to build this strategy again: ``name`` is what ``load`` was given (a built-in's
        name or a dotted path), so a manifest is enough to recover a run."""
        return {"name": self.spec or self.name, "params": converter.unstructure(self.params)}
