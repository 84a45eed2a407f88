"""``summary.html`` as text: self-contained, escaped, and holding what the journal said."""

from __future__ import annotations

import re
from pathlib import Path

from tests.report.journalkit import MIN, T0, Journal, run_dir, worked_example
from trio_paper.report import write_reports

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
    # Six bars fit easily: candlesticks (flat ones: each bar's open is its close), no line.
    up = re.search(r'<path class="candles up" d="([^"]*)"', page)
    down = re.search(r'<path class="candles down" d="([^"]*)"', page)
    wicks = re.search(r'<path class="wicks" d="([^"]*)"', page)
    assert up is not None
    assert down is not None
    assert wicks is not None
    assert (up.group(1).count("z"), down.group(1).count("z")) == (6, 0)
    assert wicks.group(1).count("M") == 6
    assert 'class="price-line"' not in page
    assert "Close-up" not in page  # the main chart already shows every bar
    # The equity chart's time axis lines up with the candles' (which start a bar earlier).
    ticks = re.findall(r'<text x="([\d.]+)" y="\d+">(\d\d:\d\d)</text>', page)
    price_ticks, equity_ticks = ticks[: len(ticks) // 2], ticks[len(ticks) // 2 :]
    assert price_ticks
    assert price_ticks == equity_ticks
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
    """Two stretches of bars ten days apart: the line breaks, the axis is cut and says so.
    (150 bars each: too many for candles, so the main chart is the close line.)"""
    j = Journal().start(T0)
    for i in range(150):
        j.bar(i, str(100 + i), "10000")
    for i in range(150):
        j.bar(10 * 1440 + i, str(200 + i), "10000")
    page = _page(tmp_path, j.end(T0 + 10 * 86_400_000 + 151 * MIN, "10000"))
    assert "9 d 21 h without data" in page  # bar 149 closes 02:30; the next opens 10 d later
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


def test_a_long_run_draws_the_close_line_and_a_candle_close_up(tmp_path: Path) -> None:
    """A day of bars is a line (a candle would get a pixel); the last 240 bars, with the trade
    among them, are candles in a close-up."""
    j = Journal().start(T0)
    for i in range(1440):
        j.bar(i, str(100 + i % 7), "10000")
    j.fill(T0 + 1439 * MIN, "buy", "1", "103", "0", "0", "1")
    page = _page(tmp_path, j.end(T0 + 1440 * MIN, "10000"))
    main = page[page.index("<h2>Price</h2>") : page.index("<h2>Close-up</h2>")]
    closeup = page[page.index("<h2>Close-up</h2>") : page.index("<h2>Equity</h2>")]
    assert 'class="price-line"' in main
    assert 'class="candles' not in main
    assert "the last 240 bars as candles" in closeup
    bodies = re.findall(r'<path class="candles (?:up|down)" d="([^"]*)"', closeup)
    assert sum(b.count("z") for b in bodies) == 240
    assert "buy entry: 1 @ 103" in closeup
