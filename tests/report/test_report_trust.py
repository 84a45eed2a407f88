"""What the report says can be trusted: one health verdict, downtime within the session, ratios
only on enough daily returns, one definition of a trade, refusals counted as the log counts them.

Each test here failed on 6401a91: the report showed a never-connected run as complete and
clean, leaked an earlier session's outage, printed a minute-bar Sharpe of −512.64, counted
trades three ways and listed rejection templates.
"""

from __future__ import annotations

import json
import math
import re
from decimal import Decimal
from fractions import Fraction
from pathlib import Path
from typing import Any

from tests.report.journalkit import MIN, T0, Journal, run_dir, worked_example
from trio_paper.report import write_reports
from trio_paper.report.digest import Digest
from trio_paper.times import DAY_MS

D = Decimal


def _report(tmp_path: Path, journal: Journal) -> tuple[dict[str, Any], str]:
    run = run_dir(tmp_path / "run", journal)
    write_reports(run)
    return json.loads(run.summary_json.read_text()), run.summary_html.read_text()


# --- health --------------------------------------------------------------------------------------


def test_a_run_that_never_connected_is_no_data_not_complete_and_clean(tmp_path: Path) -> None:
    j = Journal().start(T0)
    for n in range(18):
        j.add(T0 + n * 10_000, "feed", event="disconnected", reason="connect failed: refused")
    summary, page = _report(tmp_path, j.end(T0 + 3 * MIN, "10000"))
    assert summary["complete"] is True  # it did finish...
    assert summary["health"] == "no data"  # ...but it never saw the market
    assert summary["health_reasons"] == ["the feed never connected (18 failed attempts)"]
    badge = re.search(r'<span class="status (\w+)"[^>]*>([^<]+)</span>', page)
    assert badge is not None
    assert badge.groups() == ("bad", "no data")
    assert "the feed never connected (18 failed attempts)" in page
    assert ">complete<" not in page
    assert "bars read from a file" not in page  # the feed card said so for a dead live run
    assert "clean" not in page.split('<section class="cards">')[1].split("</section>")[0]


def test_outages_bad_frames_and_missing_bars_are_degraded(tmp_path: Path) -> None:
    summary, page = _report(tmp_path, worked_example())
    assert summary["health"] == "degraded"
    assert summary["health_reasons"] == [
        "1 disconnect, feed down 20 s",
        "2 bad frames",
        "3 bars missing",
    ]
    assert '<span class="status warn" title="run health">degraded</span>' in page
    assert "1 disconnect, feed down 20 s; 2 bad frames; 3 bars missing" in page


def test_a_clean_run_is_ok(tmp_path: Path) -> None:
    j = Journal().start(T0).add(T0, "feed", event="connected", url="wss://x")
    j.bar(0, "100", "10000").bar(1, "101", "10000")
    summary, page = _report(tmp_path, j.end(T0 + 2 * MIN, "10000", frames=240))
    assert (summary["health"], summary["health_reasons"]) == ("ok", [])
    assert '<span class="status ok" title="run health">ok</span>' in page


def test_a_session_cut_short_is_degraded_and_incomplete(tmp_path: Path) -> None:
    j = Journal().start(T0).bar(0, "100", "10000")
    summary, page = _report(tmp_path, j)
    assert summary["health"] == "degraded"
    assert summary["health_reasons"] == ["the session did not finish (no session_end)"]
    assert '<span class="status bad">incomplete</span>' in page


# --- downtime ------------------------------------------------------------------------------------


def test_an_outage_begun_in_an_earlier_session_counts_from_this_ones_start(
    tmp_path: Path,
) -> None:
    """The engine's drop time lives on across sessions: the first frame of a run after an
    offline one reported ``down_ms`` 189,363 in a 182-second session. Only the 7 s inside this
    session are this session's downtime."""
    j = Journal().start(T0).add(T0, "feed", event="connected", url="wss://x")
    j.add(T0 + 7_000, "feed", event="recovered", down_ms=189_363)
    j.bar(0, "100", "10000").bar(1, "100", "10000").bar(2, "100", "10000")
    summary, _ = _report(tmp_path, j.end(T0 + 182_000, "10000", frames=100))
    assert summary["feed"]["down_seconds"] == "7.000"
    assert float(summary["feed"]["down_seconds"]) <= float(summary["duration_seconds"])


def test_an_outage_inside_the_session_counts_whole(tmp_path: Path) -> None:
    j = Journal().start(T0).add(T0 + 1_000, "feed", event="disconnected", reason="x")
    j.add(T0 + 31_000, "feed", event="recovered", down_ms=30_000)
    summary, _ = _report(tmp_path, j.end(T0 + MIN, "10000", frames=10))
    assert summary["feed"]["down_seconds"] == "30.000"


# --- ratios on daily returns ---------------------------------------------------------------------


def _days(equities: list[str]) -> Journal:
    """One session bar closing at the end of each UTC day, with these equities."""
    j = Journal().start(T0, equity="10000")
    for day, equity in enumerate(equities):
        j.bar((day + 1) * 1440 - 1, "100", equity)
    return j.end(T0 + len(equities) * DAY_MS, equities[-1], frames=1)


def test_a_few_minutes_have_no_sharpe_whatever_happens(tmp_path: Path) -> None:
    """Three 1-minute bars, losing: today −512.64 = −√(525,600 ÷ 2); now n/a with the reason."""
    j = Journal().start(T0).bar(0, "100", "9990").bar(1, "99", "9980").bar(2, "98", "9970")
    summary, page = _report(tmp_path, j.end(T0 + 3 * MIN, "9970", frames=9))
    ratios = summary["ratios"]
    assert ratios["sharpe"] is None
    assert ratios["sharpe_note"] == "n/a: needs 30 days of daily returns, this run has 1"
    assert "512" not in page
    sharpe_card = page[page.index(">Sharpe<") :][:300]
    assert ">n/a<" in sharpe_card
    assert "needs 30 days of daily returns, this run has 1" in sharpe_card


def test_sharpe_sortino_cagr_and_calmar_on_forty_days(tmp_path: Path) -> None:
    """Forty days alternating +1 %, −0.5 %, worked out with fractions here."""
    equity = Fraction(10000)
    curve = []
    for day in range(40):
        equity *= Fraction(101, 100) if day % 2 == 0 else Fraction(995, 1000)
        curve.append(equity)
    texts = [str(Decimal(e.numerator) / Decimal(e.denominator)) for e in curve]
    summary, page = _report(tmp_path, _days(texts))
    returns = [
        Fraction(Decimal(b)) / Fraction(Decimal(a)) - 1
        for a, b in zip(["10000", *texts], texts, strict=False)
    ]
    n = len(returns)
    mean = sum(returns) / n
    std = math.sqrt(float(sum((r - mean) ** 2 for r in returns) / (n - 1)))
    downside = math.sqrt(float(sum(min(r, Fraction(0)) ** 2 for r in returns) / n))
    ratios = summary["ratios"]
    assert ratios["days"] == 40
    assert ratios["sharpe"] == f"{float(mean) / std * math.sqrt(365):.4f}"
    assert ratios["sortino"] == f"{float(mean) / downside * math.sqrt(365):.4f}"
    growth = float(Fraction(Decimal(texts[-1])) / 10000)
    cagr = (growth ** (365 / 40) - 1) * 100
    assert abs(float(ratios["cagr_pct"]) - cagr) < 1e-3
    drawdown = float(summary["equity_curve"]["max_drawdown_pct"])
    assert abs(float(ratios["calmar"]) - float(ratios["cagr_pct"]) / drawdown) < 1e-3
    assert all(ratios[k] is None for k in ("sharpe_note", "sortino_note", "cagr_note"))
    daily = summary["daily"]
    assert len(daily) == 40
    assert daily[0] == {
        "date": "2025-05-08", "pnl": "100", "return_pct": "1.0000", "trades": 0,
        "equity": "10100",
    }  # fmt: skip
    assert daily[1]["return_pct"] == "-0.5000"
    assert '<table class="daily">' in page
    assert page.count('<td class="l mono">2025-') >= 40


def test_one_day_has_no_day_table(tmp_path: Path) -> None:
    _, page = _report(tmp_path, worked_example())
    assert '<table class="daily">' not in page


# --- one definition of a trade ------------------------------------------------------------------


def test_the_equity_curve_ends_at_the_final_equity(tmp_path: Path) -> None:
    """The drawdown card uses session_end's equity; the chart's last point is that equity."""
    j = Journal().start(T0).bar(0, "100", "10000").bar(1, "100", "10010")
    j.end(T0 + 2 * MIN + 30_000, "9990", frames=3)
    run = run_dir(tmp_path / "run", j)
    digest = Digest().read(run.events)
    assert digest.equity is not None
    last_run = digest.equity.runs()[-1]
    assert last_run[-1][1] == 9990.0
    write_reports(run)
    summary = json.loads(run.summary_json.read_text())
    assert summary["pnl"]["ending_equity"] == "9990"
    assert summary["equity_curve"]["max_drawdown"] == "20"


# --- refusals ------------------------------------------------------------------------------------


def test_a_backfills_refused_entries_count_as_many_as_it_says(tmp_path: Path) -> None:
    """The log says 8 refusals; one reject record stands for them all."""
    j = Journal().start(T0)
    j.add(T0, "reject", reason="8 entries asked for on history bars (a backfill)")
    j.add(T0 + 5_000, "reject", reason="last entry 5 s ago, minimum 60 s")
    summary, page = _report(tmp_path, j.end(T0 + MIN, "10000", frames=1))
    assert summary["rejects"]["count"] == 9
    first = summary["rejects"]["by_reason"][0]
    assert first == {
        "reason": "# entries asked for on history bars (a backfill)",
        "count": 8,
        "example": "8 entries asked for on history bars (a backfill)",
    }
    assert '<td>8</td><td class="l wrap">8 entries asked for on history bars' in page


def test_cagr_counts_the_days_with_data_not_a_hole(tmp_path: Path) -> None:
    """Forty days of +0.1 % with a 300-day hole after the twentieth: the return was made in 40
    days of market, so it is annualised over 40 days, not 340."""
    j = Journal().start(T0, equity="10000")
    equity = Decimal(10000)
    for n in range(40):
        equity *= Decimal("1.001") if n % 4 else Decimal("0.999")
        day = n if n < 20 else n + 300
        j.bar((day + 1) * 1440 - 1, "100", str(equity))
    summary, _ = _report(tmp_path, j.end(T0 + 341 * DAY_MS, str(equity), frames=1))
    growth = float(equity / 10000)
    assert abs(float(summary["ratios"]["cagr_pct"]) - (growth ** (365 / 40) - 1) * 100) < 1e-3
    assert summary["ratios"]["days"] == 40
