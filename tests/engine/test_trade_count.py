"""One definition of a trade, end to end: the engine's ``session_end``, ``status`` and the
summary all count round trips closed (an entry to the exit that flattens it).

On 6401a91 they said 2 (trades opened, from the account), the opened count again, and 1.
"""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path

from tests.engine.enginekit import MIN, T0, Scripted, config, enter
from trio_paper.core import engine_settings
from trio_paper.engine.engine import Engine, fresh_state
from trio_paper.engine.intents import Enter, Exit
from trio_paper.model import Side
from trio_paper.report import write_reports
from trio_paper.store.journal import JournalWriter
from trio_paper.store.rundir import RunDir

D = Decimal


def test_session_end_status_and_summary_count_closed_round_trips(tmp_path: Path) -> None:
    """Long, flat, long again and still open at the end: one trade (a round trip closed), and
    the open position has its own row with its open PnL. Before: session_end said 2, the
    summary 1, ``status`` the account's opened count."""
    cfg = config(broker={"slippage_pct": D(0)})
    strategy = Scripted()
    settings = engine_settings(cfg)
    eng = Engine(settings, strategy, fresh_state(settings))
    eng.start(T0, "test", False, "bitunix", "BTCUSDT", "1min")
    enter(eng, strategy, T0 + 1_000, "999", "1000", Enter(Side.BUY, stop=D("900")))
    enter(eng, strategy, T0 + 2 * MIN, "1009", "1010", Exit("done"))
    enter(eng, strategy, T0 + 4 * MIN, "1019", "1020", Enter(Side.BUY, stop=D("900")))
    enter(eng, strategy, T0 + 5 * MIN, "1029", "1030")
    eng.end(T0 + 6 * MIN, "deadline", {"frames": 4})
    assert eng.broker.position.qty > 0
    (end,) = [r for r in eng.out if r["type"] == "session_end"]
    assert end["trades"] == 1
    assert eng.broker.closed_trades() == 1  # what `status` shows
    run = tmp_path / "run"
    run.mkdir()
    with JournalWriter(run / "events.jsonl") as writer:
        writer.append(eng.out)
    (run / "manifest.json").write_text("{}")
    write_reports(RunDir(run))
    summary = json.loads((run / "summary.json").read_text())
    assert summary["trades"]["count"] == 1
    held = summary["trades"]["open"]
    open_pnl = D(end["equity"]) - D(end["cash"])
    assert open_pnl > 0
    assert held["side"] == "long"
    assert D(held["pnl"]) == open_pnl
    assert D(summary["pnl"]["unrealized"]) == open_pnl  # the open PnL, not its change
    page = (run / "summary.html").read_text()
    open_row = re.search(r'<tr class="open">(.*?)</tr>', page)
    assert open_row is not None
    assert '<td class="l">open</td>' in open_row.group(1)
    assert "open at the end" in open_row.group(1)
    assert "1 closed (a trade is an entry to the exit that flattens it) + 1 open" in page
    net_card = page[page.index(">Net PnL<") :][:400]
    assert f"open +{open_pnl:,.2f}" in net_card
