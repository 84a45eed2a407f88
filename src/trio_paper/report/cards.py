"""The summary cards at the top of ``summary.html``: the dozen numbers people look at first."""

from __future__ import annotations

from typing import Any

from .formats import DASH, esc, money, negated, number, pct, to_decimal, tone


def _card(
    label: str, value: str, sub: str = "", css: str = "", hint: str = "", unit: str = ""
) -> str:
    title = f' title="{esc(hint)}"' if hint else ""
    unit_html = f'<span class="unit">{esc(unit)}</span>' if unit and value != DASH else ""
    return (
        f'<div class="card"{title}><div class="label">{esc(label)}</div>'
        f'<div class="value {css}">{esc(value)}{unit_html}</div>'
        f'<div class="sub">{esc(sub)}</div></div>'
    )


def cards(summary: dict[str, Any]) -> str:
    """All the cards, from the ``summary.json`` object."""
    p, t, c, f = summary["pnl"], summary["trades"], summary["equity_curve"], summary["feed"]
    r = summary["ratios"]
    fees, funding = negated(p["fees"]), negated(p["funding"])  # as cash flows: paid < 0
    cards = [
        _card(
            "Net PnL", _headline_money(p["net"]),
            f"gross {money(p['gross'], signed=True)} · open {money(p['unrealized'], signed=True)}",
            tone(p["net"]),
            "ending equity − starting equity; open = PnL of the position still open at the end",
            "USDT",
        ),
        _card(
            "Return", pct(p["return_pct"], signed=True),
            f"{money(p['starting_equity'])} → {money(p['ending_equity'])}", tone(p["return_pct"]),
        ),
        _card("Trades", number(t["count"], 0), f"{t['wins']} won · {t['losses']} lost"),
        _card(
            "Win rate", pct(t["win_rate_pct"], 1),
            f"avg {money(t['average_win'], signed=True)} / {money(t['average_loss'])}",
            hint="winning trades ÷ trades, on net PnL after fees and funding",
        ),
        _card(
            "Profit factor", _profit_factor(t), "net won ÷ net lost",
            hint="sum of winning trades' net ÷ sum of losing trades' net",
        ),
        _card(
            "Max drawdown", pct(negated(c["max_drawdown_pct"])),
            f"{money(negated(c['max_drawdown']))} USDT from the peak",
            "neg" if to_decimal(c["max_drawdown"]) else "",
        ),
        _card(
            "Sharpe", _ratio(r["sharpe"]),
            r["sharpe_note"] or f"daily, × √365 · Sortino {_ratio(r['sortino'])}",
            hint="mean ÷ standard deviation of daily returns × √365; Sortino divides by the "
            "downside deviation. Not computed on fewer than 30 days: on minutes it is noise",
        ),
        _card(
            "CAGR", _ratio_pct(r["cagr_pct"]),
            r["cagr_note"] or f"Calmar {_ratio(r['calmar'])}",
            hint="compound annual growth rate; Calmar = CAGR ÷ max drawdown %",
        ),
        _card("Exposure", pct(c["exposure_pct"], 1), f"of {number(c['bars'], 0)} bars in a trade"),
        _card(
            "Fees", _headline_money(fees), "taker, maker, liquidations", tone(fees), "", "USDT"
        ),
        _card(
            "Funding", _headline_money(funding), f"{p['funding_settlements']} settlement(s)",
            tone(funding), "paid < 0, received > 0", "USDT",
        ),
        _feed_card(f, summary["health"], summary["health_reasons"]),
        _risk_card(summary),
    ]  # fmt: skip
    return f'<section class="cards">{"".join(cards)}</section>'


def _headline_money(value: Any) -> str:
    """A card's big number: cents only while they fit (the tables and JSON keep them)."""
    d = to_decimal(value)
    return number(d, 0 if d is not None and abs(d) >= 1000 else 2, signed=True)


def _profit_factor(trades: dict[str, Any]) -> str:
    if trades["profit_factor"] is not None:
        return number(trades["profit_factor"], 2)
    return "∞" if trades["wins"] else DASH


def _ratio(value: Any) -> str:
    return "n/a" if value is None else number(value, 2)


def _ratio_pct(value: Any) -> str:
    return "n/a" if value is None else pct(value, 1, signed=True)


def _feed_card(f: dict[str, Any], health: str, reasons: list[str]) -> str:
    problems = [
        (f["reconnects"], "reconnect"), (f["stale_events"], "stall"),
        (f["bad_frames"] or 0, "bad frame"), (f["missing"] or 0, "missing bar"),
        (f["gaps"], "gap"), (f["quote_stale_events"], "quote wait"),
    ]  # fmt: skip
    found = [(n, what) for n, what in problems if n]
    if health == "no data":
        return _card("Feed", "no data", "; ".join(reasons), "words neg")
    if not f["connects"] and not f["frames"]:
        gaps = f"{f['gaps']} gap{'s' * (f['gaps'] != 1)} ({number(f['gap_bars'], 0)} bars)"
        return _card(
            "Feed",
            "bars from a file",
            gaps if f["gaps"] else "no gap",
            "words warn" if found else "words",
        )
    headline = "clean" if not found else f"{found[0][0]} {found[0][1]}{'s' * (found[0][0] != 1)}"
    frames = DASH if f["frames"] is None else number(f["frames"], 0)
    sub = f"{frames} frames · down {number(f['down_seconds'], 0)} s"
    return _card("Feed", headline, sub, "words" if not found else "words warn")


def _risk_card(summary: dict[str, Any]) -> str:
    risk, rejects = summary["risk"], summary["rejects"]
    errors = summary["strategy_errors"]["count"]
    headline = f"{risk['halts']} halt{'s' * (risk['halts'] != 1)}"
    if risk["kills"]:
        headline = "killed"
    sub = f"{rejects['count']:,} rejects · {errors} strategy error{'s' * (errors != 1)}"
    return _card("Risk", headline, sub, "words warn" if risk["halts"] or risk["kills"] else "words")
