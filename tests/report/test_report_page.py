"""``summary.html`` as text: self-contained, escaped, and holding what the journal said."""

from __future__ import annotations

import re
from pathlib import Path

from journalkit import MIN, T0, Journal, run_dir, worked_example

from trio_paper.report import write_reports
from trio_paper.report.chart import PRICE_COLOR

EVIL = '<script>alert("x")</script>'


def _page(tmp_path: Path, journal: Journal, manifest: dict | None = None) -> str:  # type: ignore[type-arg]
    run = run_dir(tmp_path / "run", journal, manifest)
    write_reports(run)
    return run.summary_html.read_text(encoding="utf-8")


def test_the_page_fetches_nothing(tmp_path: Path) -> None:
    page = _page(tmp_path, worked_example())
    assert page.startswith("<!doctype html>")
    for banned in ("<script", "<link", "<img", "<iframe", "@import", "url(", "src="):
        assert banned not in page.lower()
    urls = set(re.findall(r"https?://[^\s\"'<>]+", page))
    assert urls == {"http://www.w3.org/2000/svg"}  # the SVG namespace, never fetched


def test_charts_trades_and_incidents_are_on_the_page(tmp_path: Path) -> None:
    page = _page(tmp_path, worked_example())
    assert page.count('<svg class="chart"') == 2  # price and equity
    price_line = re.search(r'<path class="price-line" d="([^"]+)" [^>]*stroke="([^"]+)"', page)
    assert price_line is not None
    assert price_line.group(2) == PRICE_COLOR
    assert price_line.group(1).count(" ") >= 5  # six closes, one run
    # two entries (a buy, then a sell) and two exits (a sell, then a buy)
    assert len(re.findall(r'<g class="marker buy entry"[^>]*><path ', page)) == 1
    assert len(re.findall(r'<g class="marker sell entry"[^>]*><path ', page)) == 1
    assert 'class="marker sell exit"' in page
    assert 'class="marker buy exit"' in page
    assert "buy entry: 1 @ 100 · 2025-05-08T00:01:00Z" in page  # the marker's tooltip
    table = page[
        page.index('<table class="trades">') : page.index("</table>", page.index("trades"))
    ]
    assert table.count("<tr>") == 3  # the header and two trades
    assert '<span class="side long">long</span>' in table
    assert '<span class="side short">short</span>' in table
    assert "\u22124.05" in table
    assert "+4.88" in table
    assert "+0.20" in table  # trade 2 received funding: shown as a cash flow
    assert "disconnected: connection lost" in page
    assert "recovered after 20 s" in page
    assert "entries halted: breaker: 3 losing trades in a row" in page
    assert 'class="span feed"' in page  # the drop is shaded on the charts
    assert 'class="span halt"' in page
    rejected = page[page.index('<table class="kv reasons">') :]
    rejected = rejected[: rejected.index("</table>")]
    # Each reason with its count and one example word for word, not a template with #.
    assert '<td>2</td><td class="l wrap">last entry 5 s ago, minimum 60 s</td>' in rejected
    assert '<td>1</td><td class="l wrap">insufficient margin</td>' in rejected
    assert "#" not in rejected


def test_every_journal_string_is_escaped(tmp_path: Path) -> None:
    j = Journal().start(T0, strategy={"name": EVIL, "params": {EVIL: EVIL}})
    j.add(T0, "feed", event="disconnected", reason=EVIL)
    j.bar(0, "100", "10000")
    j.fill(T0 + MIN, "buy", "1", "100", "0", "0", "1")
    j.bar(1, "100", "10000", "1")
    j.fill(T0 + 2 * MIN, "sell", "1", "100", "0", "0", "0")
    j.add(
        T0 + 2 * MIN, "exit", trade=1, reason=EVIL, price="100", entry="100", pnl="0",
        fees="0", funding="0", net="0", opened=T0 + MIN, held_ms=MIN,
    )  # fmt: skip
    j.add(T0 + 2 * MIN, "reject", reason=EVIL)
    j.add(T0 + 2 * MIN, "strategy", event="error", error=EVIL, errors=1, disabled=True)
    j.end(T0 + 3 * MIN, "10000", reason=EVIL)
    page = _page(tmp_path, j, {"run_id": EVIL, "kind": EVIL, "input": EVIL, "config": EVIL})
    assert "<script" not in page
    assert page.count("&lt;script&gt;") >= 8
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in page


def test_a_session_without_trades_or_bars(tmp_path: Path) -> None:
    page = _page(tmp_path, Journal().start(T0).end(T0 + MIN, "10000"))
    assert "No trades were closed in this session." in page
    assert "No bars in this session." in page
    assert "No disconnects, stalls, gaps, halts or strategy errors." in page


def test_a_long_gap_is_cut_out_of_the_time_axis(tmp_path: Path) -> None:
    """Two stretches of bars ten days apart: the line breaks, the axis is cut and says so."""
    j = Journal().start(T0)
    for i in range(30):
        j.bar(i, str(100 + i), "10000")
    for i in range(30):
        j.bar(10 * 1440 + i, str(200 + i), "10000")
    page = _page(tmp_path, j.end(T0 + 10 * 86_400_000 + 31 * MIN, "10000"))
    assert "9 d 23 h without data" in page  # bar 29 closes 00:30; the next opens 10 d later
    path = re.search(r'<path class="price-line" d="([^"]+)"', page)
    assert path is not None
    assert path.group(1).count("M") == 2


def test_many_trades_keep_a_head_and_a_tail(tmp_path: Path) -> None:
    j = Journal().start(T0)
    for n in range(1, 1201):
        t = T0 + n * MIN
        j.fill(t, "buy", "1", "100", "0", "0", "1")
        j.fill(t + 1, "sell", "1", "100", "0", "0", "0")
        j.add(
            t + 1, "exit", trade=n, reason="cross", price="100", entry="100", pnl="0",
            fees="0", funding="0", net="0", opened=t, held_ms=1,
        )  # fmt: skip
    page = _page(tmp_path, j)
    assert "… 700 more trades" in page
    assert '<td class="l">250</td>' in page
    assert '<td class="l">951</td>' in page
    assert '<td class="l">251</td>' not in page
    assert '<td class="l">950</td>' not in page
