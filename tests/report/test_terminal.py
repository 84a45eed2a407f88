"""The end-of-run lines on stdout, read from a real replay's summary.json."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import orjson
import pytest

from trio_paper.cli import main


def test_a_replay_ends_with_a_short_summary_on_stdout(
    demo_recording: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--home", str(tmp_path), "replay", "--file", str(demo_recording)]) == 0
    out = capsys.readouterr().out.splitlines()
    rows = dict(line.split("  ", 1) for line in out[1:])
    assert {k.strip() for k in rows} == {
        "net PnL", "trades", "fees paid", "funding", "max drawdown", "Sharpe (daily)", "health",
        "report",
    }  # fmt: skip
    summary = orjson.loads((tmp_path / "runs" / "latest" / "summary.json").read_bytes())
    net = Decimal(summary["pnl"]["net"])  # the demo's exact PnL, e.g. -118.99512…
    assert len(summary["pnl"]["net"].partition(".")[2]) > 2, "the file keeps every digit"
    cents = f"{net.quantize(Decimal('0.01')):+,.2f}"
    assert (
        rows["net PnL"].strip() == f"{cents} USDT ({Decimal(summary['pnl']['return_pct']):.2f} %)"
    )
    trades = summary["trades"]
    assert rows["trades"].strip() == (
        f"{trades['count']} closed, {Decimal(trades['win_rate_pct']):.2f} % won"
    )
    assert rows["Sharpe (daily)"].strip().startswith("n/a: needs 30 days")
    assert rows["report"].strip().endswith("summary.html")
    assert Path(rows["report"].strip()).exists()
