"""Funding in a bars-only replay: ``replay --file candles --funding rates [--mark marks]``.

Ten one-minute candles from 2025-05-08T00:00Z; bar k (k = 0…9) opens at 00:0k and every price of
it is 20000 + 10k, so its close is easy to name. A scripted strategy buys 0.1 at the close of
bar 0 (00:01), and at the close of bar 4 (00:05) sells it and goes short 0.1. No slippage.

Settlements in the funding file, and what each must do (by hand):

| time | rate | due at | position | mark (close) | paid = qty × mark × rate | amount |
|---|---|---|---|---|---|---|
| 05-07 16:00 | 0.0001 | before the candles | - | - | skipped | - |
| 00:00 | 0.0001 | the first candle's open | - | - | skipped | - |
| 00:03 | 0.0001 | close of bar 2 | +0.1 | 20020 | 0.1 × 20020 × 0.0001 = 0.2002 | −0.2002 |
| 00:06.002 | 0.0003 | close of bar 5 ¹ | −0.1 | 20050 | −0.1 × 20050 × 0.0003 = −0.6015 | 0.6015 |
| 00:08 | −0.0001 | close of bar 7 | −0.1 | 20070 | −0.1 × 20070 × −0.0001 = 0.2007 | −0.2007 |
| 00:20 | 0.0001 | after the candles | - | - | skipped | - |

¹ settlement times are floored to the bar interval (exchanges stamp them a few ms late).

Funding paid in total: 0.2002 − 0.6015 + 0.2007 = −0.2006 (received).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from trio_paper.app.replay import ReplayError, ReplayResult, replay
from trio_paper.cli import main
from trio_paper.config import Config, evolve
from trio_paper.engine.intents import Enter, Exit, Intent
from trio_paper.engine.strategies import Strategy, View, load
from trio_paper.model import Bar, Side
from trio_paper.store.journal import read_journal
from trio_paper.venues.funding import FundingError

D = Decimal
T0 = 1_746_662_400_000  # 2025-05-08T00:00:00Z
MIN = 60_000
CONFIG = evolve(Config(), broker={"slippage_pct": D(0)})


class Crash(KeyboardInterrupt):
    """A Ctrl-C from inside: the engine contains any other error of a strategy (even a
    ``BaseException``), not this one, so it stops the replay dead."""


CRASH_AT: list[int] = []
"""Bar numbers at which the next ``Script`` to see them crashes the replay (once each)."""


class Script(Strategy[Any, Any]):
    """Long 0.1 at bar 0's close; at bar 4's close, out and short 0.1."""

    name = "script"

    def __init__(self, params: Any = None) -> None:
        super().__init__(self.Params())

    def on_bar(self, bar: Bar, view: View) -> Sequence[Intent]:
        k = (bar.open_time - T0) // MIN
        if k in CRASH_AT:
            CRASH_AT.remove(k)
            raise Crash
        if k == 0:
            return [Enter(Side.BUY, qty=D("0.1"))]
        if k == 4:
            return [Exit("flip"), Enter(Side.SELL, qty=D("0.1"))]
        return []


def write_candles(path: Path) -> Path:
    lines = ["open_time_ms,open,high,low,close,volume"]
    for k in range(10):
        price = 20000 + 10 * k
        lines.append(f"{T0 + k * MIN},{price},{price},{price},{price},5")
    path.write_text("\n".join(lines) + "\n")
    return path


FUNDING_ROWS = [
    (T0 - 8 * 3600_000, "0.0001"),
    (T0, "0.0001"),
    (T0 + 3 * MIN, "0.0001"),
    (T0 + 6 * MIN + 2, "0.0003"),
    (T0 + 8 * MIN, "-0.0001"),
    (T0 + 20 * MIN, "0.0001"),
]


def write_funding(path: Path) -> Path:
    """The plain layout: ``funding_time_ms,rate``."""
    rows = "".join(f"{t},{rate}\n" for t, rate in FUNDING_ROWS)
    path.write_text("funding_time_ms,rate\n" + rows)
    return path


def run(
    tmp_path: Path, run_id: str, funding: Path | None = None, mark: Path | None = None
) -> tuple[ReplayResult, list[dict[str, Any]]]:
    candles = write_candles(tmp_path / "candles.csv")
    home = tmp_path / "home"
    result = replay(candles, CONFIG, Script(), home, run_id=run_id, funding=funding, mark=mark)
    return result, list(read_journal(result.run.events))


def funding_of(records: list[dict[str, Any]]) -> list[tuple[Any, ...]]:
    return [
        (r["settled"], D(r["rate"]), D(r["mark"]), D(r["qty"]), D(r["amount"]))
        for r in records
        if r["type"] == "funding"
    ]


def summary_of(result: ReplayResult) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(result.run.summary_json.read_text())
    return data


def test_each_settlement_is_charged_on_the_position_held_at_the_bars_close(
    tmp_path: Path,
) -> None:
    result, records = run(tmp_path, "funding", funding=write_funding(tmp_path / "rates.csv"))
    assert funding_of(records) == [
        (T0 + 3 * MIN, D("0.0001"), D("20020"), D("0.1"), D("-0.2002")),
        (T0 + 6 * MIN + 2, D("0.0003"), D("20050"), D("-0.1"), D("0.6015")),
        (T0 + 8 * MIN, D("-0.0001"), D("20070"), D("-0.1"), D("-0.2007")),
    ]
    long_trade = next(r for r in records if r["type"] == "exit")
    assert D(long_trade["funding"]) == D("0.2002")  # paid over the long trade
    pnl = summary_of(result)["pnl"]
    assert (D(pnl["funding"]), pnl["funding_settlements"]) == (D("-0.2006"), 3)
    end = records[-1]
    assert end["type"] == "session_end"
    assert D(end["funding"]) == D("-0.2006")


def test_a_mark_file_overrides_the_close_as_the_mark(tmp_path: Path) -> None:
    """Marks 20100, 20000, 20200 at the three settlements: paid 0.1 × 20100 × 0.0001 = 0.201,
    −0.1 × 20000 × 0.0003 = −0.6, −0.1 × 20200 × −0.0001 = 0.202; in total −0.197."""
    marks = tmp_path / "marks.csv"
    marks.write_text(
        f"mark_time_ms,mark\n{T0 + 3 * MIN},20100\n{T0 + 6 * MIN},20000\n{T0 + 8 * MIN},20200\n"
    )
    result, records = run(
        tmp_path, "marked", funding=write_funding(tmp_path / "rates.csv"), mark=marks
    )
    assert [(f[2], f[4]) for f in funding_of(records)] == [
        (D("20100"), D("-0.201")),
        (D("20000"), D("0.6")),
        (D("20200"), D("-0.202")),
    ]
    assert D(summary_of(result)["pnl"]["funding"]) == D("-0.197")
    assert "marks.csv" in summary_of(result)["model"]["funding"]


def test_the_exchange_layout_is_read_too(tmp_path: Path) -> None:
    """The shared ``funding_rate_8h.csv`` layout: the rate in ``open``, the time in
    ``open_time_ms``; the same settlements give the same records."""
    rates = tmp_path / "rates_8h.csv"
    rows = "".join(f"x,{rate},0.0,0.0,0.0,0.0,{t}\n" for t, rate in FUNDING_ROWS)
    rates.write_text("date,open,high,low,close,volume,open_time_ms\n" + rows)
    _, records = run(tmp_path, "layout", funding=rates)
    assert [f[4] for f in funding_of(records)] == [D("-0.2002"), D("0.6015"), D("-0.2007")]


def test_without_funding_the_summary_says_it_was_not_modelled(tmp_path: Path) -> None:
    result, records = run(tmp_path, "plain")
    assert funding_of(records) == []
    model = summary_of(result)["model"]
    assert model["funding"] == "not modelled (no --funding file)"
    assert model["fills"].startswith("market orders at the signal bar's close")
    assert "not modelled" in result.run.summary_html.read_text()
    assert records[0]["model"] == model  # journaled once, in session_start


def test_a_settlement_with_no_mark_is_an_error_naming_the_line(tmp_path: Path) -> None:
    marks = tmp_path / "marks.csv"
    marks.write_text(f"mark_time_ms,mark\n{T0 + 3 * MIN},20100\n")
    rates = write_funding(tmp_path / "rates.csv")
    with pytest.raises(FundingError, match=r"rates\.csv:5: no mark for the settlement at "):
        run(tmp_path, "nomark", funding=rates, mark=marks)


def test_a_funding_file_entirely_before_the_candles_is_an_error(tmp_path: Path) -> None:
    rates = tmp_path / "rates.csv"
    rates.write_text(f"funding_time_ms,rate\n{T0 - MIN},0.0001\n{T0},0.0001\n")
    with pytest.raises(FundingError, match=r"rates\.csv:3: every settlement is at or before"):
        run(tmp_path, "early", funding=rates)


def test_funding_is_for_candle_files_only(tmp_path: Path, demo_recording: Path) -> None:
    rates = write_funding(tmp_path / "rates.csv")
    with pytest.raises(ReplayError, match="is a recording: --funding and --mark are for candle"):
        replay(demo_recording, CONFIG, Script(), tmp_path / "home", funding=rates)


def test_the_command_reports_a_bad_row_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """Exit 2 and ``trio-paper: <file>:<line>: <reason>``, no traceback."""
    candles = write_candles(tmp_path / "candles.csv")
    rates = tmp_path / "rates.csv"
    rates.write_text(f"funding_time_ms,rate\n{T0 + 3 * MIN},0.0001\n{T0 + 6 * MIN},abc\n")
    argv = ["--home", str(tmp_path / "home"), "replay", "--file", str(candles)]
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--funding", str(rates)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err == f"trio-paper: {rates}:3: rate is not a number: 'abc'\n"


def test_a_killed_funding_replay_resumes_to_the_same_journal(tmp_path: Path) -> None:
    """Crash the replay on bar 6 (after the 00:06 settlement, with checkpoints every 3 inputs),
    run it again with the same --run-id: it resumes from its checkpoint, hands out no
    settlement twice and none less, and writes the uninterrupted journal byte for byte."""
    candles = write_candles(tmp_path / "candles.csv")
    rates = write_funding(tmp_path / "rates.csv")
    home = tmp_path / "home"

    def again(run_id: str) -> ReplayResult:
        strategy = load(f"{__name__}:Script", {})
        return replay(
            candles, CONFIG, strategy, home, run_id=run_id, checkpoint_every=3, funding=rates
        )

    whole = again("whole")
    CRASH_AT[:] = [6]
    with pytest.raises(Crash):
        again("killed")
    resumed = again("killed")
    assert resumed.resumed_at > 0
    assert resumed.run.events.read_bytes() == whole.run.events.read_bytes()
    assert len(funding_of(list(read_journal(resumed.run.events)))) == 3
