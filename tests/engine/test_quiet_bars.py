"""A quiet bar (flat, no orders, the same UTC day, no limit to look at) of a run of closed bars
skips the day's roll and the limits' checks (``Engine.on_closed_bars``), and no such bar checks
the limits again after a strategy that did nothing. Both shortcuts are held here to the engine
without them, record for record and state for state, over random markets and random intents."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from tests.engine.enginekit import MIN, SYMBOL, T0, D, Scripted, mark, quote
from tests.engine.test_engine_properties import TICK, configs, dts, intent_specs, moves, to_intents
from trio_paper.codec import converter, dumps
from trio_paper.config import Config, evolve
from trio_paper.core import engine_settings
from trio_paper.engine.engine import Engine, fresh_state
from trio_paper.engine.intents import Enter, Exit, Intent
from trio_paper.engine.records import Record, RecordType
from trio_paper.engine.strategies import Strategy, View
from trio_paper.model import Bar, Side


class Failing(Scripted):
    """Raises on the bar it is told to, as a strategy with a bug does."""

    fail_next = False

    def on_bar(self, bar: Bar, view: View) -> Sequence[Intent]:
        if self.fail_next:
            self.fail_next = False
            raise ValueError("a strategy's bug")
        return super().on_bar(bar, view)


class Reference(Engine):
    """The engine as it was before the shortcuts: every bar rolls the day and checks the limits
    before the strategy, and again after it."""

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.risk.quiet = lambda t: False  # type: ignore[method-assign]

    def _ask_strategy(self, *args: Any, **kwargs: Any) -> bool:
        super()._ask_strategy(*args, **kwargs)
        return True


sparse: st.SearchStrategy[Any] = st.one_of(
    st.just([]), st.just([]), st.just([]), intent_specs, st.just("fail")
)
"""Intents on one bar in four or five: a strategy that mostly waits, as most do; now and then
it raises instead."""
bars = st.tuples(
    st.just("bar"), dts, moves, st.integers(0, 40), st.integers(0, 40),
    st.sampled_from(["csv", "csv", "ws"]), st.booleans(), sparse,
)  # fmt: skip
steps = st.one_of(
    bars,
    bars,
    bars,
    st.tuples(st.just("quote"), dts, moves, sparse),
    st.tuples(st.just("mark"), dts, st.sampled_from(["0", "0.003"]), st.booleans()),
    st.tuples(st.just("down"), dts, st.sampled_from(["disconnected", "stale"])),
    st.tuples(st.just("kill"), dts),
)


def closed(engine: Engine, bar: Bar) -> None:
    """``bar`` as a run of one closed bar, as a candle file's come; an engine error is raised."""

    def failed(i: int, exc: Exception) -> None:
        raise exc

    engine.on_closed_bars([bar], [()], [None], failed)


def _started(cls: type[Engine], cfg: Config, strategy: Strategy[Any, Any]) -> Engine:
    settings_ = engine_settings(cfg)
    e = cls(settings_, strategy, fresh_state(settings_))
    e.start(T0, "quiet", False, "bitunix", SYMBOL, "1min")
    e.on_market(T0, mark(T0, "1000", "0", T0 - 1))
    return e


@settings(
    max_examples=300,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(
    cfg=configs(),
    next_open=st.booleans(),
    touchy=st.booleans(),
    script=st.lists(steps, min_size=10, max_size=80),
)
def test_quiet_bars_journal_and_leave_the_state_as_the_full_path_does(
    cfg: Config, next_open: bool, touchy: bool, script: list[tuple[Any, ...]]
) -> None:
    if next_open:
        cfg = evolve(cfg, broker={"fill_at": "next_open"})
    if touchy:  # limits that trip on the first loss: a halt right after a strategy's exit
        cfg = evolve(cfg, risk={"breaker_losses": 1, "daily_loss_limit_pct": D("0.01")})
    ours, theirs = Failing(), Failing()
    fast, full = _started(Engine, cfg, ours), _started(Reference, cfg, theirs)
    t, level, settled = T0, 10_000, T0 - 1
    quiet = 0
    for step in script:
        kind = step[0]
        t += step[1]
        if kind in ("bar", "quote"):
            previous, level = level, max(1000, level + step[2])
        price = D(level) * TICK
        if kind == "bar":
            _, _, _, up, down, source, history, specs = step
            o = D(previous) * TICK
            hi, lo = max(o, price) + up * TICK, max(TICK, min(o, price) - down * TICK)
            bar = Bar(SYMBOL, MIN, t - MIN, o, hi, lo, price, D(3), D(0), source)
            quiet += not history and fast.broker.idle() and fast.risk.quiet(t)
            for engine, strategy in ((fast, ours), (full, theirs)):
                strategy.fail_next = specs == "fail"
                strategy.on_next_bar = [] if specs == "fail" else to_intents(specs, price)
                if history:
                    engine.on_bar(t, bar, live=False)
                else:
                    closed(engine, bar)
        elif kind == "quote":
            for engine, strategy in ((fast, ours), (full, theirs)):
                strategy.on_next_quote = [] if step[3] == "fail" else to_intents(step[3], price)
                engine.on_market(t, quote(str(price), str(price + TICK)))
        elif kind == "mark":
            settled = t - 1 if step[3] else settled
            for engine in (fast, full):
                engine.on_market(t, mark(t, str(price), step[2], settled))
        elif kind == "down":
            for engine in (fast, full):
                engine.feed_event(t, step[2])
        else:
            for engine in (fast, full):
                engine.kill(t, "test")
        assert [dumps(r) for r in fast.out] == [dumps(r) for r in full.out], step
        assert converter.unstructure(fast.snapshot()) == converter.unstructure(full.snapshot())
        assert [v.equity for v in ours.views] == [v.equity for v in theirs.views]
        fast.out.clear()
        full.out.clear()
    event("quiet bars: " + ("none" if not quiet else "1-9" if quiet < 10 else "10+"))


def test_most_bars_of_a_flat_strategy_are_quiet() -> None:
    """The shortcut's conditions hold for a strategy that never trades, bars in one day: after
    the first (which rolls the day), every bar is quiet. (That the shortcut saves time is the
    benchmark's to show: bench/README.md.)"""
    e = _started(Engine, Config(), Scripted())
    closed(e, Bar(SYMBOL, MIN, T0, D(1000), D(1001), D(999), D(1000), D(3), D(0), "csv"))
    quiet = 0
    for i in range(2, 50):
        t = T0 + i * MIN
        quiet += e.broker.idle() and e.risk.quiet(t)
        closed(e, Bar(SYMBOL, MIN, t - MIN, D(1000), D(1001), D(999), D(1000), D(3), D(0), "csv"))
    assert quiet == 48


@pytest.mark.parametrize("how", ["exit", "error"])
def test_a_losing_exit_on_a_bar_halts_on_that_bar(how: str) -> None:
    """The limits are checked again after a strategy that acted, or raised: the breaker (one
    loss) trips on the bar whose exit lost, not on the next input."""
    cfg = evolve(Config(), risk={"breaker_losses": 1})
    strategy = Failing()
    e = _started(Engine, cfg, strategy)

    def bar(minute: int, close: int) -> list[Record]:
        t = T0 + minute * MIN
        c = D(close)
        closed(e, Bar(SYMBOL, MIN, t - MIN, c, c, c, c, D(3), D(0), "csv"))
        out, e.out = e.out, []
        return out

    bar(1, 1000)
    strategy.on_next_bar = [Enter(Side.BUY, stop=D(990))]
    assert [r["type"] for r in bar(2, 1000)][-1] == RecordType.FILL
    if how == "exit":
        strategy.on_next_bar = [Exit("test")]
    else:
        strategy.fail_next = True
    records = bar(3, 998)
    assert [r["type"] for r in records][-3:] == [RecordType.FILL, RecordType.EXIT, RecordType.RISK]
    assert records[-1]["reason"] == "breaker: 1 losing trades in a row"
