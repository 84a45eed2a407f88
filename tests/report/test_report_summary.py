"""``summary.json`` from hand-written journals: every number checked against the worked example."""

from __future__ import annotations

import json
from pathlib import Path

from tests.report.journalkit import MIN, T0, Journal, run_dir, worked_example
from trio_paper.report import write_reports
from trio_paper.report.digest import Digest


def _summary(tmp_path: Path, journal: Journal) -> dict:  # type: ignore[type-arg]
    run = run_dir(tmp_path / "run", journal)
    write_reports(run)
    data: dict = json.loads(run.summary_json.read_text())  # type: ignore[type-arg]
    return data


def test_money_and_trades_match_the_worked_example(tmp_path: Path) -> None:
    s = _summary(tmp_path, worked_example())
    assert s["complete"] is True
    assert s["exit_reason"] == "deadline"
    assert s["pnl"] == {
        "starting_equity": "10000",
        "ending_equity": "10000.825",
        "net": "0.825",
        "return_pct": "0.0082",  # 0.00825 % rounds half to even
        "gross": "1",  # +5 − 4
        "fees": "0.375",  # 0.06 + 0.063 + 0.1248 + 0.1272
        "funding": "-0.2",  # paid < 0: the short received 0.2
        "funding_settlements": 1,
        "unrealized": "0",  # flat at the end: no open PnL
        "unrealized_change": "0",  # 0.825 − (1 − 0.375 + 0.2)
    }
    assert s["trades"] == {
        "count": 2,
        "wins": 1,
        "losses": 1,
        "win_rate_pct": "50.00",
        "profit_factor": "1.2036",  # 4.877 ÷ 4.052
        "average_win": "4.87700000",
        "average_loss": "-4.05200000",
        "best": "4.877",
        "worst": "-4.052",
        "average_held_seconds": "90.000",  # (120 s + 60 s) ÷ 2
        "open": None,
    }


def test_equity_curve_matches_the_worked_example(tmp_path: Path) -> None:
    curve = _summary(tmp_path, worked_example())["equity_curve"]
    assert curve["bars"] == 6  # the warm-up bar closed at the session's start: not counted
    assert curve["points"] == 8  # the start, six bars, the end
    assert curve["max_drawdown"] == "9.115"  # peak 10009.94 (bar 1) → 10000.825
    assert curve["max_drawdown_pct"] == "0.0911"  # 9.115 ÷ 10009.94 = 0.0910594… %
    assert curve["exposure_pct"] == "50.00"  # bars 1, 2 and 4 of six held a position
    assert "sharpe" not in curve  # the minute-bar Sharpe is gone: see the ratios tests


def test_six_minutes_have_no_sharpe_but_say_why(tmp_path: Path) -> None:
    ratios = _summary(tmp_path, worked_example())["ratios"]
    assert ratios["days"] == 1
    for key in ("sharpe", "sortino", "cagr_pct", "calmar"):
        assert ratios[key] is None
        note = ratios[key.removesuffix("_pct") + "_note"]
        assert note == "n/a: needs 30 days of daily returns, this run has 1"


def test_feed_health_rejects_risk_and_strategy(tmp_path: Path) -> None:
    s = _summary(tmp_path, worked_example())
    assert s["feed"] == {
        "frames": 500, "bad_frames": 2, "unknown_keys": 1, "other_symbols": 0,
        "backfilled_bars": 0, "late": 0, "out_of_order": 0, "duplicates": 0, "missing": 3,
        "connects": 1, "reconnects": 0, "disconnects": 1, "failed_connects": 0, "stale_events": 0,
        "down_seconds": "20.000", "quote_stale_events": 0, "quote_stale_seconds": "0.000",
        "gaps": 0, "gap_bars": 0, "backfills": 0,
    }  # fmt: skip
    assert s["rejects"] == {
        "count": 3,
        "by_reason": [
            {
                "reason": "last entry # s ago, minimum # s", "count": 2,
                "example": "last entry 5 s ago, minimum 60 s",
            },
            {"reason": "insufficient margin", "count": 1, "example": "insufficient margin"},
        ],
    }  # fmt: skip
    assert s["risk"] == {
        "halts": 1, "resumed": 0, "kills": 0, "new_days": 0,
        "halt_reasons": {"breaker: # losing trades in a row": 1},
    }  # fmt: skip
    assert s["strategy_errors"] == {
        "count": 1, "disabled": False, "first": "ZeroDivisionError: division by zero",
    }  # fmt: skip
    assert s["first_event"] == "2025-05-08T00:00:00.000Z"
    assert s["last_event"] == "2025-05-08T00:06:00.000Z"
    assert s["duration_seconds"] == "360.000"
    assert s["records"] == len(worked_example().records)


def test_reconnects_and_open_spans_count_to_the_end(tmp_path: Path) -> None:
    """Three connects are two reconnects; a stall never recovered is down until the last record,
    and a wait for a fresh quote adds its ``stale_ms``."""
    j = Journal().start(T0)
    j.add(T0, "feed", event="connected", url="u")
    j.add(T0 + 1_000, "feed", event="stale", silent_ms=10_000)
    j.add(T0 + 1_000, "feed", event="disconnected", reason="stale")
    j.add(T0 + 4_000, "feed", event="connected", url="u")
    j.add(T0 + 4_500, "feed", event="recovered", down_ms=3_500)
    j.add(T0 + 5_000, "feed", event="quote_stale", order="o1", quote_age_ms=7_000)
    j.add(T0 + 6_250, "feed", event="quote_fresh", stale_ms=1_250)
    j.add(T0 + 7_000, "feed", event="gap", start=T0, end=T0 + 3 * MIN, bars=3)
    j.add(T0 + 8_000, "feed", event="connected", url="u")
    j.add(T0 + 9_000, "feed", event="stale", silent_ms=10_000)
    j.add(T0 + 11_000, "feed", event="subscribed", channels=[])
    feed = _summary(tmp_path, j)["feed"]
    assert (feed["connects"], feed["reconnects"], feed["disconnects"]) == (3, 2, 1)
    assert feed["stale_events"] == 2
    assert feed["down_seconds"] == "5.500"  # 3.5 s recovered + 2 s still stale at the end
    assert (feed["quote_stale_events"], feed["quote_stale_seconds"]) == (1, "1.250")
    assert (feed["gaps"], feed["gap_bars"]) == (1, 3)
    assert feed["frames"] is None  # no session_end: the decoder's counts were never written


def test_two_sockets_connecting_once_each_are_no_reconnect_and_down_is_their_union(
    tmp_path: Path,
) -> None:
    """Binance: ``market`` and ``quotes`` each connect; only a second connect of one is a
    reconnect; the session is down from the first socket down to the one ``recovered``."""
    j = Journal().start(T0)
    j.add(T0, "feed", event="connected", url="m", socket="market")
    j.add(T0, "feed", event="connected", url="q", socket="quotes")
    j.add(T0 + 1_000, "feed", event="disconnected", reason="eof", socket="quotes")
    j.add(T0 + 1_500, "feed", event="disconnected", reason="eof", socket="market")
    j.add(T0 + 2_000, "feed", event="connected", url="q", socket="quotes")
    j.add(T0 + 2_500, "feed", event="connected", url="m", socket="market")
    j.add(T0 + 3_000, "feed", event="recovered", down_ms=2_000)
    feed = _summary(tmp_path, j)["feed"]
    assert (feed["connects"], feed["reconnects"], feed["disconnects"]) == (4, 2, 2)
    assert feed["down_seconds"] == "2.000"


def test_a_session_without_trades(tmp_path: Path) -> None:
    j = Journal().start(T0).bar(0, "100", "10000").bar(1, "101", "10000")
    s = _summary(tmp_path, j.end(T0 + 2 * MIN, "10000"))
    assert s["complete"] is True
    assert s["trades"] == {
        "count": 0, "wins": 0, "losses": 0, "win_rate_pct": None, "profit_factor": None,
        "average_win": None, "average_loss": None, "best": None, "worst": None,
        "average_held_seconds": None, "open": None,
    }  # fmt: skip
    assert s["pnl"]["net"] == "0"
    assert s["equity_curve"]["max_drawdown"] == "0"
    assert s["ratios"]["sharpe"] is None
    assert s["equity_curve"]["exposure_pct"] == "0.00"


def test_a_journal_cut_short_by_a_crash(tmp_path: Path) -> None:
    """No ``session_end`` and half a last line: reported as incomplete, from what is there."""
    run = run_dir(tmp_path / "run", worked_example())
    data = run.events.read_bytes()
    cut = data.rindex(b'{"seq"', 0, data.rindex(b'"type":"exit"'))  # into trade 2's fill
    run.events.write_bytes(data[: cut + 40])
    write_reports(run)
    s = json.loads(run.summary_json.read_text())
    assert s["complete"] is False
    assert s["exit_reason"] is None
    assert s["journal_error"] is None  # a torn last line is what a crash leaves: not an error
    assert s["trades"]["count"] == 1
    assert s["pnl"]["ending_equity"] == "10000.9522"  # the last bar's equity
    assert s["pnl"]["net"] == "0.9522"
    assert s["feed"]["frames"] is None
    page = run.summary_html.read_text()
    assert "no session_end record" in page


def test_a_corrupt_line_inside_the_journal(tmp_path: Path) -> None:
    run = run_dir(tmp_path / "run", worked_example())
    lines = run.events.read_bytes().splitlines(keepends=True)
    lines[5] = b"{not json\n"
    run.events.write_bytes(b"".join(lines))
    write_reports(run)
    s = json.loads(run.summary_json.read_text())
    assert s["complete"] is False
    assert s["journal_error"] == "events.jsonl line 6: not JSON"
    assert s["records"] == 5
    assert "could not be read to the end" in run.summary_html.read_text()


def test_records_the_summary_cannot_read_are_counted_not_fatal(tmp_path: Path) -> None:
    j = worked_example()
    j.records.insert(4, {"seq": 99, "ts": T0, "type": "fill", "pnl": "oops"})
    j.records.insert(5, {"seq": 100, "ts": "yesterday", "type": "bar"})
    s = _summary(tmp_path, j)
    assert s["malformed_records"] == 2
    assert s["pnl"]["gross"] == "1"


def test_an_empty_or_missing_journal(tmp_path: Path) -> None:
    run = run_dir(tmp_path / "run", Journal())
    write_reports(run)
    s = json.loads(run.summary_json.read_text())
    assert (s["complete"], s["records"], s["first_event"]) == (False, 0, None)
    assert s["pnl"]["net"] is None
    summary = Digest().read(tmp_path / "nowhere.jsonl").metrics.summary()
    assert summary["journal_error"] == "nowhere.jsonl: missing"


def test_same_journal_same_bytes(tmp_path: Path) -> None:
    """Two runs of one journal, with different ids, paths and manifests: identical summary.json;
    the same run reported twice: identical summary.html too."""
    a = run_dir(tmp_path / "20250508-000000-replay", worked_example(), {"run_id": "a"})
    b = run_dir(tmp_path / "elsewhere" / "20991231-235959-live", worked_example(), {"x": 1})
    write_reports(a)
    first_html = a.summary_html.read_bytes()
    write_reports(a)
    write_reports(b)
    assert a.summary_json.read_bytes() == b.summary_json.read_bytes()
    assert a.summary_html.read_bytes() == first_html
    text = a.summary_json.read_text()
    for leak in (str(tmp_path), "20250508-000000", '"run_id"', "test"):
        assert leak not in text


def test_summary_keys_are_in_a_fixed_order(tmp_path: Path) -> None:
    s = _summary(tmp_path, worked_example())
    assert list(s) == [
        "health", "health_reasons", "summary_schema", "journal_schema", "complete",
        "exit_reason", "journal_error", "malformed_records", "venue", "symbol", "interval",
        "strategy", "resumed", "model",
        "first_event", "last_event", "duration_seconds", "records", "pnl", "trades",
        "equity_curve", "ratios", "daily", "feed", "rejects", "risk", "strategy_errors",
    ]  # fmt: skip


def test_failed_dials_are_not_disconnects(tmp_path: Path) -> None:
    """A live run with no route once showed ``disconnects 18, connects 0``: a dial that never
    connected is a failed attempt; only a connection that was up can be dropped."""
    j = Journal().start(T0)
    j.add(T0, "feed", event="disconnected", reason="cannot connect")
    j.add(T0 + 1_000, "feed", event="disconnected", reason="cannot connect")
    j.add(T0 + 2_000, "feed", event="connected", url="u")
    j.add(T0 + 3_000, "feed", event="disconnected", reason="closed by the server")
    j.add(T0 + 4_000, "feed", event="disconnected", reason="cannot connect")
    j.add(T0 + 5_000, "feed", event="connected", url="u")
    feed = _summary(tmp_path, j)["feed"]
    assert (feed["connects"], feed["disconnects"], feed["failed_connects"]) == (2, 1, 3)
