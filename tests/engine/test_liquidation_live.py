"""Live liquidation: on the fresh mark, else on the last fresh price; never on stale data.

Default settings: leverage 10, maintenance margin 0.5 %, prices stale after 5 s. A long 1 at 100
is liquidated at 100 × (1 − 0.1 + 0.005) = 90.5.
"""

from __future__ import annotations

from tests.engine.enginekit import T0, D, Recorder, broker, config, mark, market, quote
from trio_paper.engine.broker import Broker
from trio_paper.model import Side

NO_SLIP = config(broker={"slippage_pct": D(0)})


def long_at_100(t: int) -> tuple[Broker, Recorder]:
    b, rec = broker(NO_SLIP)
    b.on_quote(t, quote("99.9", "100.0"))
    b.submit(t, market(Side.BUY, "1", t))
    assert b.position.entry == D("100.0")
    return b, rec


def test_a_fresh_mark_outranks_the_last_price() -> None:
    """Mark 95 at T0+1 s; a quote with mid 89.95 at T0+3 s: the mark is 2 s old, still fresh,
    and above 90.5, so the position stays."""
    b, rec = long_at_100(T0)
    b.on_mark(T0 + 1000, mark(T0 + 1000, "95", "0", T0 - 1))
    b.on_quote(T0 + 3000, quote("89.9", "90.0"))
    assert b.position.qty == 1
    assert rec.of("exit") == []


def test_a_stale_mark_gives_way_to_the_last_fresh_price() -> None:
    """The same mark 95 is 6 s old at T0+7 s (> 5 s): the quote's mid 89.95 ≤ 90.5 liquidates,
    at the liquidation price 90.5."""
    b, rec = long_at_100(T0)
    b.on_mark(T0 + 1000, mark(T0 + 1000, "95", "0", T0 - 1))
    b.on_quote(T0 + 7000, quote("89.9", "90.0"))
    (exit_,) = rec.of("exit")
    assert (exit_["reason"], exit_["price"]) == ("liquidation", D("90.5"))


def test_an_old_mark_never_liquidates_a_newer_position() -> None:
    """A mark of 85 seen 10 s before a long at 100 opened is stale by then: a later trade at
    99.5 is the price that counts, and the position stays. (It used to be liquidated on the
    old mark, however old it was.)"""
    b, rec = broker(NO_SLIP)
    b.on_mark(T0, mark(T0, "85", "0", T0 - 1))
    b.on_quote(T0 + 10_000, quote("99.9", "100.0"))
    b.submit(T0 + 10_000, market(Side.BUY, "1", T0 + 10_000))
    b.on_last(T0 + 10_500, D("99.5"))
    assert b.position.qty == 1
    assert rec.of("exit") == []


def test_a_mark_from_before_a_feed_drop_never_liquidates() -> None:
    """Mark 85 at T0, a drop at T0+0.1 s, then a long at 100 on a fresh quote: 0.3 s later the
    mark is young but from before the drop, so the trade at 99.5 counts and the position
    stays."""
    b, rec = broker(NO_SLIP)
    b.on_mark(T0, mark(T0, "85", "0", T0 - 1))
    b.on_feed_down(T0 + 100)
    b.on_quote(T0 + 200, quote("99.9", "100.0"))
    b.submit(T0 + 200, market(Side.BUY, "1", T0 + 200))
    b.on_last(T0 + 300, D("99.5"))
    assert b.position.qty == 1
    assert rec.of("exit") == []
