"""Hand-written journals for report tests, written through the real ``JournalWriter``.

``worked_example`` is a six-minute session whose every number is worked out by hand in its
docstring; the tests check the summary against those numbers.
"""

from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from trio_paper.codec import dumps
from trio_paper.store.journal import JournalWriter
from trio_paper.store.rundir import RunDir

T0 = 1_746_662_400_000
"""2025-05-08T00:00:00Z."""
MIN = 60_000

Record = dict[str, Any]


class Journal:
    """Records with ``seq`` numbered in order, like the engine writes them."""

    def __init__(self) -> None:
        self.records: list[Record] = []

    def add(self, ts: int, kind: str, **fields: Any) -> Journal:
        self.records.append({"seq": len(self.records) + 1, "ts": ts, "type": kind, **fields})
        return self

    def start(self, ts: int = T0, equity: str = "10000", **fields: Any) -> Journal:
        strategy = fields.pop("strategy", {"name": "ema_cross", "params": {"fast": 9}})
        return self.add(
            ts, "session_start", schema=1, run_id=fields.pop("run_id", "test"), resumed=False,
            venue="bitunix", symbol="BTCUSDT", interval="1min", strategy=strategy, cash=equity,
            equity=equity, position=fields.pop("position", "0"), **fields,
        )  # fmt: skip

    def bar(self, index: int, close: str, equity: str, position: str = "0") -> Journal:
        """The bar that opens at ``T0 + index`` minutes, recorded when it closes."""
        open_time = T0 + index * MIN
        return self.add(
            open_time + MIN, "bar", open_time=open_time, open=close, high=close, low=close,
            close=close, volume="1", source="ws", equity=equity, position=position,
        )  # fmt: skip

    def fill(
        self, ts: int, side: str, qty: str, price: str, fee: str, pnl: str, position: str
    ) -> Journal:
        return self.add(
            ts, "fill", order="o", side=side, qty=qty, price=price, fee=fee, liquidity="taker",
            remaining="0", position=position, pnl=pnl, cash="0",
        )  # fmt: skip

    def end(self, ts: int, equity: str, reason: str = "deadline", **feed: int) -> Journal:
        counts = {
            "frames": 0, "bad_frames": 0, "unknown_keys": 0, "other_symbols": 0,
            "backfilled_bars": 0, "late": 0, "out_of_order": 0, "duplicates": 0, "missing": 0,
        }  # fmt: skip
        counts.update(feed)
        return self.add(
            ts, "session_end", reason=reason, cash=equity, equity=equity, position="0",
            trades=0, realized="0", fees="0", funding="0", working_orders=0, feed=counts,
        )  # fmt: skip

    def write(self, path: Path) -> Path:
        with JournalWriter(path) as writer:
            writer.append(self.records)
        return path


def run_dir(root: Path, journal: Journal, manifest: Record | None = None) -> RunDir:
    """A run directory holding ``journal`` and a manifest, as a session leaves them."""
    root.mkdir(parents=True, exist_ok=True)
    run = RunDir(root)
    journal.write(run.events)
    run.manifest.write_bytes(dumps(manifest or {"run_id": root.name, "kind": "replay"}))
    return run


def worked_example() -> Journal:
    """Two trades in six minutes, with a warm-up bar, a feed drop and a funding payment.

    Start: cash 10,000, flat. Bar −1 closes at T0: a warm-up bar, not part of the session.

    ====  =====================================================  ==========  =========
    min   what happens                                           cash        equity
    ====  =====================================================  ==========  =========
    1     bar 0 closes at 100 (flat)                             10000       10000
    1     buy 1 @ 100, fee 0.06                                  9999.94
    2     bar 1 closes at 110, long 1 from 100                               10009.94
    3     bar 2 closes at 105                                                10004.94
    3     sell 1 @ 105, fee 0.063, PnL +5 → trade 1 net 4.877    10004.877
    4     bar 3 closes at 104 (flat)                                         10004.877
    4     sell 2 @ 104, fee 0.1248 (short 2)                     10004.7522
    4:10  feed disconnected; 4:30 funding: the short gets 0.2    10004.9522
    4:30  feed recovered after 20 s
    5     bar 4 closes at 106: short 2 from 104 is −4                        10000.9522
    5     buy 2 @ 106, fee 0.1272, PnL −4 → trade 2 net −4.052   10000.825
    5:00  two rejects of one kind and one of another; 5:30 a halt; 5:40 a strategy error
    6     bar 5 closes at 107 (flat)                                         10000.825
    6     session_end                                                        10000.825
    ====  =====================================================  ==========  =========

    Trade 2's net: PnL −4 − fees (0.1248 + 0.1272) − funding paid (−0.2) = −4.052.
    """
    j = Journal().start(T0)
    j.add(T0, "feed", event="connected", url="wss://example")
    j.add(
        T0, "bar", open_time=T0 - MIN, open="99", high="99", low="99", close="99", volume="1",
        source="rest", equity="10000", position="0",
    )  # fmt: skip
    j.bar(0, "100", "10000")
    j.fill(T0 + MIN, "buy", "1", "100", "0.06", "0", "1")
    j.bar(1, "110", "10009.94", "1")
    j.bar(2, "105", "10004.94", "1")
    j.fill(T0 + 3 * MIN, "sell", "1", "105", "0.063", "5", "0")
    j.add(
        T0 + 3 * MIN, "exit", trade=1, reason="cross", price="105", entry="100", pnl="5",
        fees="0.123", funding="0", net="4.877", opened=T0 + MIN, held_ms=2 * MIN,
    )  # fmt: skip
    j.bar(3, "104", "10004.877")
    j.fill(T0 + 4 * MIN, "sell", "2", "104", "0.1248", "0", "-2")
    j.add(T0 + 4 * MIN + 10_000, "feed", event="disconnected", reason="connection lost")
    j.add(
        T0 + 4 * MIN + 30_000, "funding", rate="0.0001", mark="100", qty="-2", amount="0.2",
        settled=T0 + 4 * MIN + 30_000,
    )  # fmt: skip
    j.add(T0 + 4 * MIN + 30_000, "feed", event="recovered", down_ms=20_000)
    j.bar(4, "106", "10000.9522", "-2")
    j.fill(T0 + 5 * MIN, "buy", "2", "106", "0.1272", "-4", "0")
    j.add(
        T0 + 5 * MIN, "exit", trade=2, reason="stop", price="106", entry="104", pnl="-4",
        fees="0.252", funding="-0.2", net="-4.052", opened=T0 + 4 * MIN, held_ms=MIN,
    )  # fmt: skip
    j.add(T0 + 5 * MIN + 5_000, "reject", reason="last entry 5 s ago, minimum 60 s")
    j.add(T0 + 5 * MIN + 15_000, "reject", reason="last entry 15 s ago, minimum 60 s")
    j.add(T0 + 5 * MIN + 20_000, "reject", reason="insufficient margin")
    j.add(
        T0 + 5 * MIN + 30_000, "risk", event="halt", reason="breaker: 3 losing trades in a row",
        until=T0 + 86_400_000, equity="10000.825",
    )  # fmt: skip
    j.add(
        T0 + 5 * MIN + 40_000, "strategy", event="error",
        error="ZeroDivisionError: division by zero", errors=1, disabled=False,
    )  # fmt: skip
    j.bar(5, "107", "10000.825")
    j.end(T0 + 6 * MIN, "10000.825", frames=500, bad_frames=2, unknown_keys=1, missing=3)
    return j


def five_thousand_trades(root: Path) -> RunDir:
    """Five days of 1-minute bars (a random walk with real OHLC) and 5,000 round trips of 30 s,
    reported: the crowded chart of issue 17."""
    from trio_paper.report import write_reports  # noqa: PLC0415 (journalkit is imported first)

    rng = random.Random(3)
    j = Journal().start(T0).add(T0, "feed", event="connected", url="wss://x")
    price, equity, n = 30_000.0, 10_000.0, 0
    for i in range(5 * 1440):
        o, price = price, price + rng.gauss(0, 15)
        h, lo = max(o, price) + abs(rng.gauss(0, 5)), min(o, price) - abs(rng.gauss(0, 5))
        t = T0 + (i + 1) * MIN
        j.add(
            t, "bar", open_time=t - MIN, open=f"{o:.1f}", high=f"{h:.1f}", low=f"{lo:.1f}",
            close=f"{price:.1f}", volume="1", source="ws", equity=f"{equity:.2f}", position="0",
        )  # fmt: skip
        if n < 5000 and i % 10 < 7:
            n += 1
            side, other, held = ("buy", "sell", "0.1") if n % 2 else ("sell", "buy", "-0.1")
            net = rng.choice([3.0, -2.0])
            equity += net
            j.fill(t, side, "0.1", f"{price:.1f}", "1", "0", held)
            j.fill(t + 30_000, other, "0.1", f"{price + net:.1f}", "1", f"{net + 2:.1f}", "0")
            j.add(
                t + 30_000, "exit", trade=n, reason="cross", price=f"{price + net:.1f}",
                entry=f"{price:.1f}", pnl=f"{net + 2:.1f}", fees="2", funding="0",
                net=f"{net:.1f}", opened=t, held_ms=30_000,
            )  # fmt: skip
    j.end(T0 + (5 * 1440 + 1) * MIN, f"{equity:.2f}", frames=100_000)
    run = run_dir(root, j)
    write_reports(run)
    return run
