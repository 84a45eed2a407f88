"""The few lines a terminal shows when a run ends, as backtesting tools print: from summary.json,
rounded for reading (the files keep every digit)."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from pathlib import Path
from typing import Any

CENT = Decimal("0.01")


def _money(text: object, sign: bool = True) -> str:
    try:
        value = Decimal(str(text)).quantize(CENT, ROUND_HALF_EVEN)
    except (InvalidOperation, ValueError):
        return "n/a"
    return f"{value:+,.2f}" if value and sign else f"{value:,.2f}"


def _pct(text: object) -> str:
    return "n/a" if text is None else f"{Decimal(str(text)):.2f} %"


def summary_lines(summary: dict[str, Any], page: Path) -> list[str]:
    """``net PnL``, trades, win rate, drawdown, ratios, health, and where the report is."""
    pnl, trades, curve = summary["pnl"], summary["trades"], summary["equity_curve"]
    ratios = summary.get("ratios", {})
    sharpe = ratios.get("sharpe") or "n/a"
    health = summary["health"]
    reasons = summary.get("health_reasons") or []
    rows = [
        ("net PnL", f"{_money(pnl['net'])} USDT ({_pct(pnl['return_pct'])})"
                    + (f", {_money(pnl['unrealized'])} of it open" if trades.get("open") else "")),
        ("trades", f"{trades['count']} closed" + (" + 1 open" if trades.get("open") else "")
                   + (f", {_pct(trades['win_rate_pct'])} won" if trades["count"] else "")),
        ("fees paid", f"{_money(pnl['fees'], sign=False)} USDT"),
        ("funding", f"{_money(pnl['funding'])} USDT"),
        ("max drawdown", _pct(curve["max_drawdown_pct"])),
        ("Sharpe (daily)", sharpe if sharpe != "n/a" else str(ratios.get("sharpe_note") or "n/a")),
        ("health", health + (f": {'; '.join(reasons)}" if reasons else "")),
        ("report", str(page)),
    ]  # fmt: skip
    width = max(len(name) for name, _ in rows)
    return [f"{name:<{width}}  {value}" for name, value in rows]
