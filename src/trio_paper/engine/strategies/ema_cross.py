"""EMA cross: long when the fast EMA crosses above the slow one, short when below."""

from __future__ import annotations

from collections.abc import Sequence
from decimal import Decimal
from typing import TypeAlias

import attrs
from attrs.validators import ge, gt

from ...model import Bar, Side
from ..intents import Enter, Exit, Intent
from .base import Strategy, View


@attrs.frozen
class Params:
    fast: int = attrs.field(default=9, validator=ge(1))
    slow: int = attrs.field(default=21, validator=ge(2))
    stop_pct: Decimal = attrs.field(default=Decimal("0.5"), validator=gt(Decimal(0)))
    """Stop distance from the entry, in percent; it sizes the trade."""
    target_r: Decimal | None = None
    """Take profit at this multiple of the stop distance; none rides to the next cross."""

    def __attrs_post_init__(self) -> None:
        if self.fast >= self.slow:
            raise ValueError(f"fast ({self.fast}) must be shorter than slow ({self.slow})")


EmaParams: TypeAlias = Params  # the class body's ``Params`` is the class attribute


@attrs.define
class State:
    fast: float | None = None
    slow: float | None = None
    bars: int = 0
    trend: int = 0  # +1 fast above slow, -1 below, 0 not yet known


class EmaCross(Strategy[Params, State]):
    """Reverses on every cross once its warm-up (``3 × slow`` bars) has been seen."""

    name = "ema_cross"
    Params = Params
    State = State

    def __init__(self, params: EmaParams) -> None:
        super().__init__(params)
        self._weights = (2 / (params.fast + 1), 2 / (params.slow + 1), params.slow * 3)
        """Each EMA's weight of a new close, and the warm-up: asked for on every bar."""

    @property
    def warmup_bars(self) -> int:
        return self.params.slow * 3

    def on_bar(self, bar: Bar, view: View) -> Sequence[Intent]:
        p, s = self.params, self.state
        fast_weight, slow_weight, warmup = self._weights
        close = float(bar.close)
        s.fast = close if s.fast is None else s.fast + fast_weight * (close - s.fast)
        s.slow = close if s.slow is None else s.slow + slow_weight * (close - s.slow)
        s.bars += 1
        trend = (s.fast > s.slow) - (s.fast < s.slow)
        crossed = s.bars > warmup and trend != 0 and s.trend not in (0, trend)
        if trend != 0:
            s.trend = trend
        if not crossed:
            return ()
        side = Side.BUY if trend > 0 else Side.SELL
        intents: list[Intent] = []
        if view.position * side.sign < 0:
            intents.append(Exit("cross"))
        offset = bar.close * p.stop_pct / 100
        stop = view.price(bar.close - offset * side.sign)
        target = None
        if p.target_r is not None:
            target = view.price(bar.close + offset * p.target_r * side.sign)
        intents.append(Enter(side, stop=stop, target=target, tag="cross"))
        return intents
