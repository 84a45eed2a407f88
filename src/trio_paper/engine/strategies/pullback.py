"""Pullback / breakout with the trend: ATR stop, target at an R multiple.

The trend is the side of a long EMA the close is on. With the trend up, go long when

- the close breaks out above the highest high of the last ``breakout_bars`` bars, or
- the previous bar pulled back to the short EMA (its low within ``pullback_atr`` ATRs of it)
  and this bar closes above the previous bar's high;

and mirror for shorts. The stop sits ``stop_atr`` ATRs from the close; the target ``target_r``
times that distance on the other side.
"""

from __future__ import annotations

from collections.abc import Sequence

import attrs
from attrs.validators import ge, gt

from ...model import Bar, Side
from ..intents import Enter, Intent
from .base import Strategy, View


@attrs.frozen
class Params:
    trend_ema: int = attrs.field(default=50, validator=ge(2))
    pullback_ema: int = attrs.field(default=20, validator=ge(2))
    atr_period: int = attrs.field(default=14, validator=ge(1))
    breakout_bars: int = attrs.field(default=20, validator=ge(2))
    pullback_atr: float = attrs.field(default=0.5, validator=ge(0))
    stop_atr: float = attrs.field(default=1.5, validator=gt(0))
    target_r: float = attrs.field(default=2.0, validator=gt(0))


@attrs.define
class State:
    trend: float | None = None
    pull: float | None = None
    atr: float | None = None
    prev_close: float | None = None
    prev_high: float | None = None
    prev_low: float | None = None
    highs: list[float] = attrs.Factory(list)
    lows: list[float] = attrs.Factory(list)
    bars: int = 0


def _ema(previous: float | None, value: float, period: int) -> float:
    return value if previous is None else previous + 2 / (period + 1) * (value - previous)


class Pullback(Strategy[Params, State]):
    name = "pullback"
    Params = Params
    State = State

    @property
    def warmup_bars(self) -> int:
        return max(self.params.trend_ema * 3, self.params.breakout_bars)

    def on_bar(self, bar: Bar, view: View) -> Sequence[Intent]:
        p, s = self.params, self.state
        high, low, close = float(bar.high), float(bar.low), float(bar.close)
        true_range = (
            high - low
            if s.prev_close is None
            else max(high - low, abs(high - s.prev_close), abs(low - s.prev_close))
        )
        # Signals compare this bar with the state before it.
        side = self._signal(high, low, close) if s.bars >= self.warmup_bars else None
        s.trend = _ema(s.trend, close, p.trend_ema)
        s.pull = _ema(s.pull, close, p.pullback_ema)
        s.atr = true_range if s.atr is None else s.atr + (true_range - s.atr) / p.atr_period
        s.prev_close, s.prev_high, s.prev_low = close, high, low
        s.highs = [*s.highs, high][-p.breakout_bars :]
        s.lows = [*s.lows, low][-p.breakout_bars :]
        s.bars += 1
        if side is None or view.position != 0 or not s.atr:
            return ()
        risk = s.atr * p.stop_atr
        stop = view.price(close - risk * side.sign)
        target = view.price(close + risk * p.target_r * side.sign)
        return (Enter(side, stop=stop, target=target, tag="pullback"),)

    def _signal(self, high: float, low: float, close: float) -> Side | None:
        p, s = self.params, self.state
        if s.trend is None or s.pull is None or s.atr is None:
            return None
        if s.prev_high is None or s.prev_low is None:
            return None
        band = p.pullback_atr * s.atr
        if close > s.trend:
            breakout = close > max(s.highs)
            pulled_back = s.prev_low <= s.pull + band and close > s.prev_high
            return Side.BUY if breakout or pulled_back else None
        if close < s.trend:
            breakout = close < min(s.lows)
            pulled_back = s.prev_high >= s.pull - band and close < s.prev_low
            return Side.SELL if breakout or pulled_back else None
        return None
