"""The digest's batched bars (``Digest.add_all``) end exactly where one record at a time does.

``Digest.add`` takes each record through ``_add``, the definition; ``add_all`` digests runs of
``bar`` records as columns. Hypothesis writes journals with what a batch must notice — gaps long
enough to cut the chart's axis, warm-up bars before the session, a zero or negative peak, a
malformed or NaN bar, bars out of order, fills and exits between bars — and the summary and the
page must come out byte for byte the same.
"""

from __future__ import annotations

from typing import Any

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trio_paper.report.digest import BATCH, Digest
from trio_paper.report.page import render_page

from .journalkit import MIN, T0, Journal

PRICES = st.sampled_from(["100", "100.5", "99.25", "101", "0.0001", "1E+3", "250000.1"])
EQUITIES = st.sampled_from(["10000", "10000.5", "9990.25", "0", "-5", "10001", "NaN", "x"])
ODD_FIELDS: st.SearchStrategy[dict[str, Any]] = st.sampled_from(
    [{}, {}, {}, {"open": "NaN"}, {"ts": "1"}, {"equity": None}]
)


@st.composite
def journals(draw: st.DrawFn) -> list[dict[str, Any]]:
    journal = Journal()
    start_index = draw(st.integers(0, 3))
    journal.start(ts=T0 + start_index * MIN)
    index = 0
    position = "0"
    for _ in range(draw(st.integers(0, 120))):
        step = draw(st.sampled_from([1, 1, 1, 1, 2, 60 * 24 + 5, 0]))  # 0: out of order
        index = index + step if step else max(0, index - 1)
        close = draw(PRICES)
        journal.bar(index, close, draw(EQUITIES), position)
        journal.records[-1].update(draw(ODD_FIELDS))
        if draw(st.integers(0, 9)) == 0:
            ts = T0 + (index + 1) * MIN
            position = "0" if position != "0" else draw(st.sampled_from(["1", "-0.5"]))
            journal.fill(ts, "buy", "1", close, "0.06", "0", position)
            if position == "0":
                journal.add(
                    ts, "exit", trade=1, entry=close, price=close, pnl="1", fees="0.1",
                    funding="0", net="0.9", reason="signal", held_ms=MIN, opened=ts - MIN,
                )  # fmt: skip
    if draw(st.booleans()):
        journal.end(T0 + (index + 2) * MIN, "10000")
    return journal.records


def _one_at_a_time(records: list[dict[str, Any]]) -> Digest:
    digest = Digest()
    for record in records:
        digest.add(record)
    return digest


def _same(a: Digest, b: Digest) -> None:
    assert orjson.dumps(a.metrics.summary()) == orjson.dumps(b.metrics.summary())
    page_a = render_page(a.metrics.summary(), a, {})
    page_b = render_page(b.metrics.summary(), b, {})
    assert page_a == page_b


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(journals())
def test_batched_bars_digest_as_one_at_a_time(records: list[dict[str, Any]]) -> None:
    batched = Digest()
    batched.add_all(records)
    _same(batched, _one_at_a_time(records))


def test_a_long_run_of_bars_crosses_batches_and_widens_the_buckets() -> None:
    journal = Journal().start()
    equity = 10_000
    for index in range(3 * BATCH + 17):
        equity += (index * 7919) % 13 - 6
        close = f"{100 + (index * 31) % 17}.5"
        journal.bar(index, close, str(equity), "1" if index % 3 else "0")
    journal.end(T0 + (3 * BATCH + 20) * MIN, str(equity))
    batched = Digest()
    batched.add_all(journal.records)
    assert batched.metrics.bars == 3 * BATCH + 17
    assert batched.candles is None  # more than a chart's worth of candles: the close line
    _same(batched, _one_at_a_time(journal.records))
