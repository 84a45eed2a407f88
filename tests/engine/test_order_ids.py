"""Order ids: the broker's own are a counter, only a strategy's chosen ids are kept, so the
checkpoint no longer grows with every fill (issue 11, item 16); duplicates are still refused."""

from __future__ import annotations

from tests.engine.enginekit import MIN, T0, D, config, of_type
from tests.test_core import Session, depth
from trio_paper.engine.intents import Enter, Exit
from trio_paper.model import Side


def round_trips(s: Session, count: int) -> None:
    """``count`` entries and exits, a quote each, far enough apart for the risk limits."""
    t = T0 + 1000
    for _ in range(count):
        s.strategy.on_next_quote = [Enter(Side.BUY, stop=D("990"))]
        s.frame(t, depth(t, "999.9", "1000.0"))
        s.strategy.on_next_quote = [Exit("done")]
        s.frame(t + 500, depth(t + 500, "999.9", "1000.0"))
        t += 2 * MIN


def test_broker_ids_are_not_kept_in_the_state() -> None:
    """Before: every order's id went into ``used_ids``, saved and fsync'd after every fill."""
    s = Session(config(broker={"slippage_pct": D(0)}, risk={"breaker_losses": 100}))
    round_trips(s, 5)
    assert len(of_type(s.out, "fill")) + len(of_type(s.out, "exit")) >= 10
    broker = s.core.engine.state.broker
    assert broker.used_ids == []
    assert broker.next_order > 10


def test_a_client_id_equal_to_an_issued_id_or_a_chosen_one_is_refused() -> None:
    s = Session(config(broker={"slippage_pct": D(0)}, risk={"breaker_losses": 100}))
    round_trips(s, 1)  # issues o1 and o2
    t = T0 + 10 * MIN
    for client_id, refused in [("o1", True), ("mine", False), ("mine", True)]:
        s.strategy.on_next_quote = [Enter(Side.BUY, stop=D("990"), client_id=client_id)]
        records = s.frame(t, depth(t, "999.9", "1000.0"))
        rejects = [r for r in of_type(records, "reject") if "duplicate" in r["reason"]]
        assert bool(rejects) is refused, (client_id, records)
        s.strategy.on_next_quote = [Exit("done")]
        s.frame(t + 500, depth(t + 500, "999.9", "1000.0"))
        t += 2 * MIN
    assert s.core.engine.state.broker.used_ids == ["mine"]
    assert s.core.engine.broker.new_order_id() not in ("o1", "o2", "mine")
