"""BarBuilder's gaps: reported once whatever follows, and found without a closed bar (issue 11,
items 7 and 14)."""

from __future__ import annotations

from collections.abc import Sequence

from tests.venues.test_bars import GRACE, MIN, T0, push
from trio_paper.model import BarGap
from trio_paper.venues.bars import BarBuilder


def gaps(out: Sequence[object]) -> list[tuple[int, int]]:
    return [(g.start, g.end) for g in out if isinstance(g, BarGap)]


def test_a_gap_is_reported_once_not_on_every_push_of_its_bucket() -> None:
    """Before: every push of the bucket after a missing minute reported the gap again while
    the backfill had not filled it — 84 ``gap`` records and 84 REST requests in 42 s."""
    builder = BarBuilder("BTCUSDT", MIN, GRACE)
    builder.on_update(push(0, 500))
    reported = []
    for at in range(500, 60_000, 500):  # minute 1 never came; minute 2 pushes twice a second
        reported += gaps(builder.on_update(push(2, at)))
    assert reported == [(T0 + MIN, T0 + 2 * MIN)]
    assert builder.counts.missing == 1


def test_a_missing_bar_is_found_when_no_bar_closed_before_the_drop() -> None:
    """Warm-up failed (no ``last_closed``), the socket dropped in minute 0 and came back in
    minute 3: minutes 0–2 are a gap. Before: nothing was reported."""
    builder = BarBuilder("BTCUSDT", MIN, GRACE)
    builder.on_update(push(0, 500))
    builder.abandon()
    assert gaps(builder.on_update(push(3, 500))) == [(T0, T0 + 3 * MIN)]
    assert gaps(builder.on_update(push(3, 1000))) == []


def test_a_drop_and_return_in_the_same_bucket_is_no_gap() -> None:
    builder = BarBuilder("BTCUSDT", MIN, GRACE)
    builder.on_update(push(0, 500))
    builder.abandon()
    assert gaps(builder.on_update(push(0, 9000))) == []
