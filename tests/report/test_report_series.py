"""Chart series: bounded buckets that keep every extreme, and time axes with gaps cut out."""

from __future__ import annotations

import math

from trio_paper.report.series import Downsampled, Markers, TimeAxis

MIN = 60_000
DAY = 1440 * MIN


def test_buckets_stay_bounded_and_keep_first_last_low_high() -> None:
    line = Downsampled(MIN, limit=100)
    ys = [math.sin(i / 50) * 100 + (500 if i == 31_337 else 0) for i in range(100_000)]
    for i, y in enumerate(ys):
        line.add(i * MIN, y)
    assert line.count == 100_000
    assert 50 <= len(line.buckets) <= 100
    points = [p for run in line.runs() for p in run]
    assert len(points) <= 4 * 100
    assert points[0] == (0.0, ys[0])
    assert points[-1] == (float(99_999 * MIN), ys[-1])
    assert (float(31_337 * MIN), ys[31_337]) in points  # the spike survives
    assert min(y for _, y in points) == min(ys)
    assert [x for x, _ in points] == sorted(x for x, _ in points)


def test_a_hole_in_the_data_breaks_the_line() -> None:
    line = Downsampled(MIN)
    for i in [*range(10), *range(15, 20)]:
        line.add(i * MIN, float(i))
    runs = line.runs()
    assert [len(r) for r in runs] == [10, 5]


def test_segments_never_share_a_bucket() -> None:
    """Even once buckets are wide, the points after a cut start a new run."""
    line = Downsampled(MIN, limit=10)
    for i in range(100):
        line.add(i * MIN, 1.0)
    for i in range(100, 200):
        line.add(i * MIN, 2.0, new_segment=i == 100)
    runs = line.runs()
    assert len(runs) == 2
    assert {y for _, y in runs[0]} == {1.0}
    assert {y for _, y in runs[1]} == {2.0}
    assert len(line.buckets) <= 10


def test_time_axis_cuts_long_gaps_only() -> None:
    axis = TimeAxis(MIN, DAY)
    assert not axis.advance(0)
    assert not axis.advance(MIN)
    assert not axis.advance(MIN + DAY)  # exactly a day: kept
    assert axis.advance(MIN + DAY + DAY + 1)  # longer: cut, leaving one step
    later = MIN + 2 * DAY + 1
    assert axis.x(later) == axis.x(MIN + DAY) + MIN
    assert axis.x(later + 5 * MIN) == axis.x(later) + 5 * MIN
    assert axis.x(MIN + DAY + 3 * MIN) == axis.x(MIN + DAY) + MIN // 2  # inside the cut
    assert axis.segments() == [(0, MIN + DAY), (later, later)]


def test_markers_merge_per_spot_and_kind() -> None:
    markers = Markers(MIN, limit=20)
    for i in range(1000):
        markers.add(i * MIN, i * MIN, "100", "buy", "entry", "1")
        markers.add(i * MIN, i * MIN, "101", "sell", "exit", "1")
    kept = markers.all()
    assert len(kept) <= 20
    assert sum(m.count for m in kept) == 2000
    assert {(m.side, m.role) for m in kept} == {("buy", "entry"), ("sell", "exit")}
