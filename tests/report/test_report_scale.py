"""A year of 1-minute bars: the report streams it in flat memory and the page stays small."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import pytest

from tests.report.journalkit import MIN, T0, Journal
from trio_paper.store.journal import JournalWriter
from trio_paper.store.rundir import RunDir

YEAR_OF_BARS = 525_600

REPORT_AND_MEASURE = """
import sys
from pathlib import Path
from trio_paper.report import write_reports
from trio_paper.store.rundir import RunDir
write_reports(RunDir(Path(sys.argv[1])))
status = Path("/proc/self/status").read_text()
print(next(line.split()[1] for line in status.splitlines() if line.startswith("VmHWM:")))
"""
# VmHWM, not getrusage: ru_maxrss of a forked child counts the parent's size at the fork.


def _write_year(run: RunDir) -> int:
    """A random walk with a trade every 1,000 bars, written record by record."""
    rng = random.Random(7)
    price, equity, trades = 30_000.0, 10_000.0, 0
    seq = 0

    def record(ts: int, kind: str, **fields: object) -> dict[str, object]:
        nonlocal seq
        seq += 1
        return {"seq": seq, "ts": ts, "type": kind, **fields}

    with JournalWriter(run.events) as journal:
        journal.append(Journal().start(T0).records)
        seq = 1
        for i in range(YEAR_OF_BARS):
            price += rng.gauss(0, 20)
            close, ts = f"{price:.1f}", T0 + (i + 1) * MIN
            holding = i % 1000 >= 900
            if i % 1000 == 999:
                trades += 1
                equity += 5.0 if trades % 3 else -7.5
                journal.append([
                    record(ts, "fill", order=f"o{trades}", side="sell", qty="0.1", price=close,
                           fee="1", liquidity="taker", remaining="0", position="0", pnl="6",
                           cash=f"{equity:.1f}"),
                    record(ts, "exit", trade=trades, reason="cross", price=close, entry=close,
                           pnl="6", fees="2", funding="0", net="4", opened=ts - 100 * MIN,
                           held_ms=100 * MIN),
                ])  # fmt: skip
            journal.append([
                record(ts, "bar", open_time=T0 + i * MIN, open=close, high=close, low=close,
                       close=close, volume="1", source="csv", equity=f"{equity:.1f}",
                       position="0.1" if holding else "0"),
            ])  # fmt: skip
            if i % 10_000 == 0:
                journal.flush()
            if i % 1000 == 899:
                journal.append([
                    record(ts, "fill", order=f"e{trades}", side="buy", qty="0.1", price=close,
                           fee="1", liquidity="taker", remaining="0", position="0.1", pnl="0",
                           cash=f"{equity:.1f}"),
                ])  # fmt: skip
        journal.append([record(T0 + (YEAR_OF_BARS + 1) * MIN, "session_end", reason="end",
                               equity=f"{equity:.1f}", feed={})])  # fmt: skip
    return trades


@pytest.mark.slow
def test_a_year_of_bars_reports_in_flat_memory(tmp_path: Path) -> None:
    run = RunDir(tmp_path)
    trades = _write_year(run)
    assert run.events.stat().st_size > 100_000_000
    done = subprocess.run(
        [sys.executable, "-c", REPORT_AND_MEASURE, str(run.path)],
        capture_output=True, check=True, timeout=300,
    )  # fmt: skip
    peak_mb = int(done.stdout) / 1024
    assert peak_mb < 80, f"the report peaked at {peak_mb:.0f} MB"
    size = run.summary_html.stat().st_size
    assert size < 2_000_000, f"summary.html is {size:,} bytes"
    summary = json.loads(run.summary_json.read_text())
    assert summary["equity_curve"]["bars"] == YEAR_OF_BARS
    assert summary["trades"]["count"] == trades
    # 100 of every 1,000 bars, and none of the last 600: 52,500 ÷ 525,600 = 9.988… %
    assert summary["equity_curve"]["exposure_pct"] == "9.99"
    page = run.summary_html.read_text()
    assert f"… {trades - 500:,} more trades" in page
