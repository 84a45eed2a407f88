"""Strategies: the built-ins' warm-up and signals, loading, containment, saved state."""

from __future__ import annotations

import re
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from tests.engine.enginekit import MIN, T0, D, Scripted, bar, config, engine, enter, of_type, quote
from trio_paper.engine.engine import MAX_STRATEGY_ERRORS
from trio_paper.engine.intents import Enter, Exit, Intent
from trio_paper.engine.strategies import Strategy, StrategyError, View, load
from trio_paper.engine.strategies.ema_cross import EmaCross
from trio_paper.engine.strategies.pullback import Pullback
from trio_paper.model import Bar, Quote, Side

DOCS = Path(__file__).resolve().parents[2] / "docs" / "strategies.md"


def view(position: str = "0", t: int = T0) -> View:
    return View(t, D(position), None, D("10000"), None, D("0.1"), True)


def closes(prices: Sequence[float | int | str]) -> list[Bar]:
    """One-minute bars closing at ``prices`` (open = high = low = close)."""
    return [bar(T0 + i * MIN, str(p), str(p), str(p), str(p)) for i, p in enumerate(prices)]


def signals(strategy: Strategy[Any, Any], bars: Sequence[Bar]) -> dict[int, Sequence[Intent]]:
    """Bar number (1-based) → the intents the strategy returned on it, where there were any."""
    out = {}
    for number, b in enumerate(bars, start=1):
        intents = strategy.on_bar(b, view())
        if intents:
            out[number] = intents
    return out


# --- ema_cross ------------------------------------------------------------------------------------


def test_ema_cross_is_silent_through_its_warmup() -> None:
    """fast 2 / slow 3: warm-up 9 bars. A cross on bar 5 is ignored; the same cross after the
    warm-up is a signal.

    (Regression: it used to signal once ``slow`` bars were seen, before its own warm-up.)
    """
    strategy = load("ema_cross", {"fast": 2, "slow": 3})
    assert strategy.warmup_bars == 9
    early = signals(strategy, closes([1000, 1000, 1000, 990, 1000, 990, 1000, 990, 1000]))
    assert early == {}
    assert signals(strategy, closes([990, 1000])) != {}


def test_ema_cross_signals_with_its_stop_and_target() -> None:
    """After 12 flat bars: 990 sets the trend down, 1000 crosses up, 980 crosses back down.

    Bar 14: fast = 993.33 + ⅔ × 6.67 = 997.78 > slow = 995 + ½ × 5 = 997.5 → buy at 1000,
    stop 1000 − 0.5 % = 995.0, target 1000 + 2 × 5 = 1010.0.
    Bar 15: fast = 985.93 < slow = 988.75 → when long: exit, then sell at 980,
    stop 980 + 4.9 = 984.9, target 980 − 9.8 = 970.2.
    """
    strategy = load("ema_cross", {"fast": 2, "slow": 3, "target_r": 2})
    bars = closes([1000] * 12 + [990, 1000, 980])
    assert signals(strategy, bars[:13]) == {}
    buy = strategy.on_bar(bars[13], view())
    assert buy == [Enter(Side.BUY, stop=D("995.0"), target=D("1010.0"), tag="cross")]
    sell = strategy.on_bar(bars[14], view(position="1"))
    assert sell == [
        Exit("cross"),
        Enter(Side.SELL, stop=D("984.9"), target=D("970.2"), tag="cross"),
    ]


# --- pullback -------------------------------------------------------------------------------------


def rising(count: int) -> list[Bar]:
    """Bars stepping up 2 a bar, range 2, closing at the high: every true range is 2, so the
    ATR is exactly 2, and every close breaks out above the previous highs."""
    return [
        bar(T0 + i * MIN, str(1000 + 2 * i), str(1002 + 2 * i), str(1000 + 2 * i),
            str(1002 + 2 * i))
        for i in range(1, count + 1)
    ]  # fmt: skip


def test_pullback_is_silent_through_its_warmup_then_breaks_out() -> None:
    """trend 3, breakout 3: warm-up 9 bars; the breakout on bar 10 is its first signal.

    Bar 10 closes at 1022, ATR 2: stop 1022 − 1.5 × 2 = 1019.0, target 1022 + 2 × 3 = 1028.0.
    (Regression: it used to signal from bar 4, before its own warm-up.)
    """
    strategy = load(
        "pullback", {"trend_ema": 3, "pullback_ema": 2, "atr_period": 2, "breakout_bars": 3}
    )
    assert strategy.warmup_bars == 9
    found = signals(strategy, rising(10))
    assert list(found) == [10]
    assert found[10] == (Enter(Side.BUY, stop=D("1019.0"), target=D("1028.0"), tag="pullback"),)


def test_pullback_stays_out_while_a_position_is_open() -> None:
    """No new entry while ``view.position`` is not zero."""
    strategy = Pullback(Pullback.Params(trend_ema=3, pullback_ema=2, atr_period=2, breakout_bars=3))
    for b in rising(9):
        strategy.on_bar(b, view())
    assert strategy.on_bar(rising(10)[-1], view(position="1")) == ()


# --- loading --------------------------------------------------------------------------------------


def test_builtins_load_by_name_with_their_params() -> None:
    """The names in config.yaml; params are checked and reported by ``describe``."""
    ema = load("ema_cross", {})
    assert isinstance(ema, EmaCross)
    assert ema.warmup_bars == 63  # 3 × slow (21)
    pull = load("pullback", {"trend_ema": 30, "stop_atr": 2})
    assert isinstance(pull, Pullback)
    assert pull.params.stop_atr == 2.0
    assert pull.describe()["name"] == "pullback"
    assert pull.describe()["params"]["trend_ema"] == 30


def example_source() -> str:
    """The complete example strategy in docs/strategies.md."""
    text = DOCS.read_text(encoding="utf-8")
    match = re.search(r"<!-- example: (\w+)\.py -->\s*```python\n(.*?)```", text, re.S)
    assert match, "docs/strategies.md has no marked example"
    return match.group(2)


def test_the_documented_example_loads_by_dotted_path_and_trades(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The example in docs/strategies.md, saved as a module: loaded by ``module:Class``, it
    warms up, enters through the engine, and its state round-trips."""
    (tmp_path / "docs_example_strategy.py").write_text(example_source(), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    strategy = load("docs_example_strategy:Breakout", {"lookback": 3})
    assert strategy.warmup_bars == 3
    e = engine(config(), strategy)
    for i, price in enumerate(["1000", "1001", "1000.5", "1001", "1003"]):
        t = T0 + (i + 1) * MIN
        e.on_market(t - 100, _quote_at(price))
        e.on_bar(t, bar(t - MIN, price, price, price, price), live=True)
    orders = of_type(e.out, "order")
    assert len(orders) == 1
    assert orders[0]["side"] == "buy"
    assert of_type(e.out, "fill")
    data = strategy.snapshot()
    again = load("docs_example_strategy:Breakout", {"lookback": 3})
    again.restore(data)
    assert again.state == strategy.state


def _quote_at(price: str) -> Quote:
    """A one-tick quote whose ask is ``price``."""
    return quote(str(D(price) - D("0.1")), price)


def test_a_strategy_from_a_module_of_ones_own(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """``package.module:Class`` imports a package from ``sys.path`` and checks params."""
    package = tmp_path / "my_strats_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "flat.py").write_text(
        "import attrs\n"
        "from trio_paper.engine.strategies import Strategy\n\n"
        "@attrs.frozen\n"
        "class Params:\n"
        "    size: int = 1\n\n"
        "class Flat(Strategy):\n"
        "    name = 'flat'\n"
        "    Params = Params\n"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    strategy = load("my_strats_pkg.flat:Flat", {"size": 3})
    assert strategy.name == "flat"
    assert strategy.params.size == 3
    with pytest.raises(StrategyError, match=r"^strategy my_strats_pkg.flat:Flat: params.*colour"):
        load("my_strats_pkg.flat:Flat", {"colour": "red"})


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "nope",
            "unknown strategy 'nope': use one of ema_cross, pullback, or package.module:Class",
        ),
        (
            "nope:",
            "unknown strategy 'nope:': use one of ema_cross, pullback, or package.module:Class",
        ),
        (
            "no_such_module_xyz:X",
            "strategy no_such_module_xyz:X: cannot import no_such_module_xyz "
            "(ModuleNotFoundError: No module named 'no_such_module_xyz')",
        ),
        ("json:loads", "strategy json:loads: loads is not a trio_paper Strategy subclass"),
        ("json:Nope", "strategy json:Nope: Nope is not a trio_paper Strategy subclass"),
    ],
)
def test_a_bad_path_is_a_clear_error(spec: str, message: str) -> None:
    """Unknown names, missing modules and non-strategies each say what is wrong."""
    with pytest.raises(StrategyError) as caught:
        load(spec, {})
    assert str(caught.value) == message


def test_a_module_that_fails_to_import_is_a_strategy_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A module raising at import is reported, not a traceback (it used to escape as-is)."""
    (tmp_path / "broken_strategy_mod.py").write_text("raise RuntimeError('boom')\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "broken_strategy_mod", raising=False)
    with pytest.raises(StrategyError) as caught:
        load("broken_strategy_mod:X", {})
    assert str(caught.value) == (
        "strategy broken_strategy_mod:X: cannot import broken_strategy_mod (RuntimeError: boom)"
    )


@pytest.mark.parametrize(
    ("spec", "params", "says"),
    [
        ("ema_cross", {"fast": 30, "slow": 10}, ["fast (30) must be shorter than slow (10)"]),
        ("ema_cross", {"fast": "x"}, ["fast", "expected int, got str 'x'"]),
        ("ema_cross", {"bogus": 1}, ["bogus", "unknown key"]),
        ("pullback", {"stop_atr": 0}, ["stop_atr", "must be > 0"]),
    ],
)
def test_bad_params_are_a_clear_error(spec: str, params: dict[str, Any], says: list[str]) -> None:
    """Wrong values, wrong types and unknown keys are refused before start, naming the key."""
    with pytest.raises(StrategyError) as caught:
        load(spec, params)
    message = str(caught.value)
    assert message.startswith(f"strategy {spec}: params")
    for part in says:
        assert part in message


# --- containment ----------------------------------------------------------------------------------


class Explosive(Scripted):
    """Enters on quotes when asked; raises on every bar."""

    name = "explosive"

    def __init__(self) -> None:
        super().__init__()
        self.calls = 0

    def on_bar(self, bar: Bar, view: View) -> Sequence[Intent]:
        self.calls += 1
        raise RuntimeError("boom")


def test_a_strategy_that_raises_is_contained_and_the_position_flattened() -> None:
    """The error is a ``strategy`` record; entries are cancelled, the position closed, and the
    session goes on; after MAX_STRATEGY_ERRORS the strategy is no longer called."""
    s = Explosive()
    e = engine(config(broker={"slippage_pct": D(0)}), s)
    enter(e, s, T0 + 1000, "999.9", "1000.0", Enter(Side.BUY, stop=D("990")))
    e.on_market(T0 + MIN - 100, _quote_at("1001.0"))
    e.on_bar(T0 + MIN, bar(T0, "1000", "1001", "1000", "1001"), live=True)
    (error,) = of_type(e.out, "strategy")
    assert error == {
        "seq": error["seq"], "ts": T0 + MIN, "type": "strategy", "event": "error",
        "error": "RuntimeError: boom", "errors": 1, "disabled": False,
    }  # fmt: skip
    (exit_,) = of_type(e.out, "exit")
    assert exit_["reason"] == "strategy_error"
    assert exit_["price"] == D("1000.9")  # the bid
    assert e.broker.position.qty == 0
    assert "RuntimeError: boom" in e.notices[0]
    assert "Traceback" in e.notices[0]
    for i in range(2, 2 + MAX_STRATEGY_ERRORS + 3):
        e.on_bar(T0 + i * MIN, bar(T0 + (i - 1) * MIN, "1000", "1000", "1000", "1000"), True)
    errors = of_type(e.out, "strategy")
    assert len(errors) == MAX_STRATEGY_ERRORS
    assert errors[-1]["disabled"] is True
    assert [r["disabled"] for r in errors].count(True) == 1
    assert s.calls == MAX_STRATEGY_ERRORS
    assert len(of_type(e.out, "bar")) == 1 + MAX_STRATEGY_ERRORS + 3  # the session went on


def test_returning_something_that_is_not_an_intent_counts_as_an_error() -> None:
    """A strategy's bad return value is its error, not the engine's."""
    s = Scripted()
    e = engine(config(), s)
    s.on_next_bar = ["buy"]  # type: ignore[list-item]
    e.on_bar(T0 + MIN, bar(T0, "1000", "1000", "1000", "1000"), live=True)
    (error,) = of_type(e.out, "strategy")
    assert error["error"] == "TypeError: not an intent: 'buy'"


# --- history bars and saved state -----------------------------------------------------------------


def test_history_bars_reach_the_strategy_but_never_trade() -> None:
    """``live=False`` bars (a backfill) warm the strategy up; its entries are refused in bulk."""
    s = Scripted()
    e = engine(config(), s)
    e.on_market(T0 + 100, _quote_at("1000"))
    for i in range(3):
        s.on_next_bar = [Enter(Side.BUY, stop=D("990"))]
        e.on_bar(T0 + 200, bar(T0 - (3 - i) * MIN, "1000", "1000", "1000", "1000"), live=False)
    assert [v.live for v in s.views] == [False] * 3
    assert of_type(e.out, "order") == []
    e.report_history_intents(T0 + 300)
    (reject,) = of_type(e.out, "reject")
    assert reject["reason"] == "3 entries asked for on history bars (a backfill)"


@pytest.mark.parametrize(
    ("spec", "params"),
    [
        ("ema_cross", {"fast": 3, "slow": 8}),
        ("pullback", {"trend_ema": 10, "pullback_ema": 5, "breakout_bars": 5}),
    ],
)
def test_builtin_state_is_saved_and_restored_exactly(spec: str, params: dict[str, Any]) -> None:
    """Snapshot mid-stream, restore into a new instance: same state, then the same signals."""
    prices = [1000 + (i * 37 % 23) - (i * 11 % 17) + i // 5 for i in range(120)]
    bars = closes(prices)
    original = load(spec, params)
    signals(original, bars[:60])
    restored = load(spec, params)
    restored.restore(original.snapshot())
    assert restored.state == original.state
    later_a, later_b = signals(original, bars[60:]), signals(restored, bars[60:])
    assert later_a == later_b
    assert later_a, "the test needs signals after the restore"
