"""BarBuilder: each bucket closes exactly once with its last push's values; everything else is
counted, gaps are reported, and a backfill fills only buckets that are missing and complete."""

from __future__ import annotations

from decimal import Decimal

from hypothesis import given
from hypothesis import strategies as st

from trio_paper.model import Bar, BarGap, BarUpdate, Side
from trio_paper.venues.bars import BarBuilder, BarCounts

MIN = 60_000
T0 = 1746662400000  # 2025-05-08T00:00:00Z
GRACE = 2_000


def push(minute: int, at_ms: int, close: str = "100", high: str = "110") -> BarUpdate:
    """A kline push ``at_ms`` into minute ``minute`` after T0."""
    open_time = T0 + minute * MIN
    return BarUpdate(
        "BTCUSDT", MIN, open_time, Decimal("100"), Decimal(high), Decimal("90"),
        Decimal(close), Decimal("1.5"), Decimal("150"), open_time + at_ms,
    )  # fmt: skip


def closed(update: BarUpdate) -> Bar:
    """The bar ``update`` closes as, written out field by field."""
    return Bar(
        "BTCUSDT", MIN, update.open_time, update.open, update.high, update.low, update.close,
        update.volume, update.quote_volume, "ws",
    )  # fmt: skip


def rest_bar(minute: int) -> Bar:
    return Bar(
        "BTCUSDT", MIN, T0 + minute * MIN, Decimal("1"), Decimal("2"), Decimal("1"),
        Decimal("2"), Decimal("3"), Decimal("6"), "rest",
    )  # fmt: skip


def builder() -> BarBuilder:
    return BarBuilder("BTCUSDT", MIN, GRACE)


def test_a_later_bucket_closes_the_open_one_with_its_last_push() -> None:
    b = builder()
    first, last = push(0, 1_000, close="101"), push(0, 59_500, close="105", high="120")
    assert b.on_update(first) == [first]
    assert b.on_update(last) == [last]
    nxt = push(1, 500)
    assert b.on_update(nxt) == [
        Bar("BTCUSDT", MIN, T0, Decimal("100"), Decimal("120"), Decimal("90"), Decimal("105"),
            Decimal("1.5"), Decimal("150"), "ws"),
        nxt,
    ]  # fmt: skip
    assert b.last_closed == T0
    assert b.counts == BarCounts()


def test_the_clock_closes_at_end_plus_grace_and_only_once() -> None:
    b = builder()
    update = push(0, 30_000)
    b.on_update(update)
    end = T0 + MIN
    assert b.on_clock(end + GRACE - 1) == []
    assert b.on_clock(end + GRACE) == [closed(update)]
    assert b.on_clock(end + GRACE + 1) == []
    assert b.on_clock(end + 10 * MIN) == []
    # The bucket's own pushes are late now; they never close it again.
    assert b.on_update(push(0, 59_000)) == []
    assert b.counts.late == 1
    assert b.on_clock(end + 20 * MIN) == []


def test_clock_with_nothing_open_does_nothing() -> None:
    assert builder().on_clock(T0 + 100 * MIN) == []


def test_duplicates_out_of_order_and_late_pushes_are_counted_never_closed_twice() -> None:
    b = builder()
    b.on_update(push(0, 10_000))
    assert b.on_update(push(0, 10_000, close="999")) == []  # same ts: a duplicate
    assert b.on_update(push(0, 5_000)) == []  # earlier ts in the open bucket
    later = push(1, 1_000)
    assert b.on_update(later)[0] == closed(push(0, 10_000))
    assert b.on_update(push(0, 59_999)) == []  # a push for the closed bucket: late
    assert b.on_update(push(1, 500)) == []  # out of order within bucket 1
    assert b.counts == BarCounts(late=1, out_of_order=2, duplicates=1, missing=0)
    assert b.on_clock(T0 + 2 * MIN + GRACE) == [closed(later)]


def test_a_push_for_an_older_open_bucket_after_a_gap_is_out_of_order() -> None:
    b = builder()
    b.on_update(push(0, 1_000))
    b.on_update(push(3, 1_000))  # closes 0, gap 1..2
    assert b.on_update(push(1, 1_000)) == []
    assert b.counts.out_of_order == 1


def test_a_gap_of_whole_buckets_is_reported() -> None:
    b = builder()
    first = push(0, 1_000)
    b.on_update(first)
    third = push(3, 2_000)
    out = b.on_update(third)
    assert out == [closed(first), BarGap("BTCUSDT", MIN, T0 + MIN, T0 + 3 * MIN), third]
    gap = out[1]
    assert isinstance(gap, BarGap)
    assert gap.count == 2
    assert b.counts.missing == 2


def test_a_gap_after_a_clock_close_is_reported_too() -> None:
    b = builder()
    b.on_update(push(0, 1_000))
    b.on_clock(T0 + MIN + GRACE)
    update = push(2, 1_000)
    assert b.on_update(update) == [BarGap("BTCUSDT", MIN, T0 + MIN, T0 + 2 * MIN), update]
    assert b.counts.missing == 1


def test_no_gap_before_the_first_push_or_between_neighbours() -> None:
    b = builder()
    far = push(500, 1_000)
    assert b.on_update(far) == [far]
    b.on_clock(far.open_time + MIN + GRACE)
    nxt = push(501, 1_000)
    assert b.on_update(nxt) == [nxt]
    assert b.counts.missing == 0


def test_backfill_accepts_only_missing_complete_bars_oldest_first() -> None:
    """Bars already closed, the open bucket, and bars not yet complete are all dropped."""
    b = builder()
    b.on_update(push(0, 1_000))
    b.on_update(push(3, 1_000))  # closes 0; 1 and 2 missing; 3 open
    now = T0 + 3 * MIN + 30_000
    offered = [rest_bar(4), rest_bar(2), rest_bar(0), rest_bar(3), rest_bar(1)]
    assert b.on_backfill(offered, now) == [rest_bar(1), rest_bar(2)]
    assert b.last_closed == T0 + 2 * MIN
    assert b.on_backfill(offered, now) == []  # all seen now
    nxt = push(4, 1_000)
    assert b.on_update(nxt) == [closed(push(3, 1_000)), nxt]  # no gap left to report


def test_backfill_refuses_a_bar_still_open_by_the_clock() -> None:
    b = builder()
    b.on_update(push(0, 1_000))
    b.on_clock(T0 + MIN + GRACE)  # closes 0, nothing open
    assert b.on_backfill([rest_bar(1)], T0 + 2 * MIN - 1) == []
    assert b.on_backfill([rest_bar(1)], T0 + 2 * MIN) == [rest_bar(1)]


def test_backfill_into_a_fresh_builder_is_the_warm_up() -> None:
    b = builder()
    bars = [rest_bar(m) for m in range(5)]
    assert b.on_backfill([*bars, rest_bar(2)], T0 + 5 * MIN) == bars
    assert b.on_update(push(4, 0)) == []  # minute 4 came over REST: its pushes are late
    assert b.counts.late == 1


def test_abandon_forgets_the_open_bucket_without_closing_it() -> None:
    """After a disconnect the open bucket's values may be short: no close, and it is reported
    as part of the gap when pushes resume in a later bucket."""
    b = builder()
    b.on_update(push(0, 1_000))
    b.on_update(push(1, 1_000))  # closes 0
    b.abandon()
    assert b.on_clock(T0 + 10 * MIN) == []
    resumed = push(3, 1_000)
    assert b.on_update(resumed) == [BarGap("BTCUSDT", MIN, T0 + MIN, T0 + 3 * MIN), resumed]


def test_bar_and_gap_arithmetic() -> None:
    assert rest_bar(2).close_time == T0 + 3 * MIN
    assert BarGap("BTCUSDT", MIN, T0, T0 + 7 * MIN).count == 7


@given(
    st.lists(
        st.one_of(
            st.tuples(st.just("push"), st.integers(0, 6), st.integers(0, MIN - 1)),
            st.tuples(st.just("clock"), st.integers(0, 8 * MIN), st.just(0)),
        ),
        max_size=40,
    )
)
def test_any_sequence_closes_each_bucket_at_most_once_in_order(
    steps: list[tuple[str, int, int]],
) -> None:
    """Whatever the order of pushes and clock ticks: closes go strictly forward, each closed
    bar carries the values of a push made for its bucket, and every push is either taken or
    counted."""
    b = builder()
    closes: list[Bar] = []
    taken = 0
    pushes: dict[int, set[int]] = {}
    for kind, a, at in steps:
        if kind == "push":
            update = push(a, at, close=str(100 + at))
            pushes.setdefault(update.open_time, set()).add(update.ts)
            out = b.on_update(update)
            taken += update in out
        else:
            out = list(b.on_clock(T0 + a))
        closes += [e for e in out if isinstance(e, Bar)]
    opens = [bar.open_time for bar in closes]
    assert opens == sorted(set(opens))
    for bar in closes:
        assert int(bar.close) - 100 + bar.open_time in pushes[bar.open_time]
    c = b.counts
    assert taken + c.late + c.out_of_order + c.duplicates == sum(
        1 for kind, _, _ in steps if kind == "push"
    )


def test_side_sign_and_opposite() -> None:
    assert (Side.BUY.sign, Side.SELL.sign) == (1, -1)
    assert (Side.BUY.opposite, Side.SELL.opposite) == (Side.SELL, Side.BUY)
    assert Side("buy") is Side.BUY  # the venue's spelling is the value
