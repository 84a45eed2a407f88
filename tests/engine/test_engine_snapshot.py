"""Engine state — account, orders, risk, strategy — survives a checkpoint round trip exactly."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from decimal import Decimal
from typing import Any

import attrs

from tests.engine.enginekit import MIN, T0, D, bar, config, mark, of_type, quote
from trio_paper.codec import converter, dumps, loads, structure
from trio_paper.config import Config
from trio_paper.core import engine_settings
from trio_paper.engine.engine import Engine, EngineState, fresh_state
from trio_paper.engine.intents import Enter, Exit, Intent
from trio_paper.engine.records import Record
from trio_paper.engine.strategies import Strategy, View
from trio_paper.engine.strategies.base import NoParams
from trio_paper.model import Bar, Side
from trio_paper.times import DAY_MS


@attrs.define
class CountState:
    bars: int = 0
    entries: int = 0
    last_close: Decimal | None = None


class Alternating(Strategy[NoParams, CountState]):
    """Enters on every sixth bar when flat (market and limit in turn), exits five bars later."""

    name = "alternating"
    State = CountState

    def on_bar(self, bar: Bar, view: View) -> Sequence[Intent]:
        s = self.state
        s.bars += 1
        s.last_close = bar.close
        if view.position == 0 and s.bars % 6 == 1:
            s.entries += 1
            if s.entries % 2:
                return (Enter(Side.BUY, stop=bar.close - 20, tag=f"e{s.entries}"),)
            price = bar.close - D("0.5")
            return (Enter(Side.BUY, "limit", price, stop=bar.close - 20, tag=f"e{s.entries}"),)
        if view.position != 0 and s.bars % 6 == 0:
            return (Exit("time"),)
        return ()


CFG = config(risk={"breaker_losses": 2, "min_entry_interval_s": 0.0})
Step = Callable[[Engine], None]


def call(method: str, *args: Any, **kwargs: Any) -> Step:
    """A step that calls ``engine.<method>(*args, **kwargs)``."""

    def step(e: Engine) -> None:
        getattr(e, method)(*args, **kwargs)

    return step


def scenario() -> list[Step]:
    """Two days of a falling market: losing trades, a halt and its end, a partial fill, funding,
    and an exit that waits out a feed drop."""
    steps = [call("on_market", T0 + 100, mark(T0 + 100, "1000", "0.0001", T0))]
    for day in (0, 1):
        for i in range(1, 25):
            t = T0 + day * DAY_MS + i * MIN
            price = D(1000) - D(i) * D("0.7") + (D(3) if i % 4 == 0 else D(0))
            q = quote(str(price - D("0.1")), str(price))
            o, h, lo, c = str(price + 1), str(price + 2), str(price - 2), str(price)
            if i == 6:  # the exit bar closes by the timer during a drop: the close must wait
                b = bar(t - MIN, o, h, lo, c, "30", "ws")
                steps.append(call("feed_event", t - 1000, "disconnected", reason="eof"))
                steps.append(call("on_bar", t, b, live=True))
                steps.append(call("on_clock", t + 1000))
                steps.append(call("on_market", t + 3000, q))
                continue
            b = bar(t - MIN, o, h, lo, c, "30", "csv")
            steps.append(call("on_market", t - 500, q))
            steps.append(call("on_bar", t, b, live=True))
            if i == 3:  # a settlement while long
                steps.append(call("on_market", t + 100, mark(t + 100, "999", "0.0001", t)))
    return steps


def run(cfg: Config, steps: Sequence[Step], split: int | None = None) -> list[Record]:
    """Feed ``steps``; at ``split``, checkpoint to JSON and go on with a rebuilt engine."""
    e = Engine(engine_settings(cfg), Alternating(NoParams()), fresh_state(engine_settings(cfg)))
    e.start(T0, "run", False, "bitunix", "BTCUSDT", "1min")
    out: list[Record] = list(e.out)
    e.out.clear()
    for index, step in enumerate(steps):
        if index == split:
            data = loads(dumps(converter.unstructure(e.snapshot())))
            state = structure(data, EngineState, "$checkpoint")
            assert state == e.state
            e = Engine(engine_settings(cfg), Alternating(NoParams()), state)
        step(e)
        out += e.out
        e.out.clear()
    return out


def test_the_scenario_exercises_what_a_checkpoint_must_keep() -> None:
    """Guard: the uninterrupted run has a halt and its end, a partial fill, funding, a wait."""
    out = run(CFG, scenario())
    assert [r["event"] for r in of_type(out, "risk")] == ["halt", "resumed", "new_day", "halt"]
    assert any(f["remaining"] > 0 for f in of_type(out, "fill"))
    assert len(of_type(out, "funding")) == 2
    assert [r["event"] for r in of_type(out, "feed")].count("quote_stale") == 2
    assert of_type(out, "reject")[0]["reason"].startswith("entries halted")


def test_a_round_trip_at_any_step_changes_nothing() -> None:
    """Checkpoint and restore between any two inputs: the journal is the same, record for record."""
    steps = scenario()
    whole = run(CFG, steps)
    for split in range(len(steps)):
        assert run(CFG, steps, split) == whole, f"differs after a round trip at step {split}"


def test_strategy_state_is_restored_exactly() -> None:
    """The restored strategy has the same state and so makes the same decisions."""
    steps = scenario()
    e = Engine(engine_settings(CFG), Alternating(NoParams()), fresh_state(engine_settings(CFG)))
    e.start(T0, "run", False, "bitunix", "BTCUSDT", "1min")
    for step in steps[:20]:
        step(e)
    data = converter.unstructure(e.snapshot())
    restored = Engine(engine_settings(CFG), Alternating(NoParams()), structure(data, EngineState))
    assert restored.strategy.state == e.strategy.state
    assert restored.strategy.state.bars > 0
    assert restored.risk.state == e.risk.state
