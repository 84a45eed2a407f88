"""``summary.html``: one self-contained page — cards, charts, tables, the journal's tail.

Inline CSS and inline SVG only: no script, no font, nothing fetched, so it renders offline and
from an archive years later. Every string that came from the journal or the manifest goes
through ``esc``.
"""

from __future__ import annotations

from importlib.resources import files
from pathlib import PurePath
from typing import Any

from .cards import cards
from .chart import (
    BUY_COLOR,
    CANDLE_COLOR,
    EQUITY_COLOR,
    FEED_DOWN_COLOR,
    HALT_COLOR,
    PRICE_COLOR,
    SELL_COLOR,
    draws_candles,
    equity_chart,
    price_chart,
)
from .closeup import closeup_chart
from .digest import Digest
from .formats import DASH, duration, esc, to_decimal, utc
from .tables import (
    daily_table,
    feed_table,
    incidents_table,
    journal_tail,
    rejects_and_risk,
    settings_box,
    trades_table,
)

_CSS = files(__package__).joinpath("page.css").read_text(encoding="utf-8")


def render_page(summary: dict[str, Any], digest: Digest, manifest: dict[str, Any]) -> str:
    """The whole page as text."""
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>{esc(_title(summary, manifest))}</title>",
            f"<style>{_CSS}</style></head><body>",
            _header(summary, digest, manifest),
            "<main>",
            _banner(summary, manifest),
            cards(summary),
            _charts(summary, digest),
            trades_table(summary, digest),
            daily_table(summary),
            '<div class="columns">',
            feed_table(summary),
            rejects_and_risk(summary),
            "</div>",
            incidents_table(digest),
            settings_box(summary, manifest),
            journal_tail(digest),
            "</main>",
            _footer(summary, manifest),
            "</body></html>",
            "",
        ]
    )


# --- top -----------------------------------------------------------------------------------------


def _title(summary: dict[str, Any], manifest: dict[str, Any]) -> str:
    what = summary.get("symbol") or "trio-paper"
    run = manifest.get("run_id")
    return f"{what} · trio-paper run {run}" if run else f"{what} · trio-paper"


def _strategy(summary: dict[str, Any]) -> str:
    strategy = summary.get("strategy")
    if not isinstance(strategy, dict):
        return DASH
    params = strategy.get("params")
    items = params.items() if isinstance(params, dict) else []
    shown = " · ".join(f"{k} {DASH if v is None else v}" for k, v in items)
    return f"{strategy.get('name', '?')}" + (f" ({shown})" if shown else "")


def _header(summary: dict[str, Any], digest: Digest, manifest: dict[str, Any]) -> str:
    health, reasons = summary["health"], summary["health_reasons"]
    css = {"ok": "ok", "degraded": "warn"}.get(health, "bad")
    why = "; ".join(reasons) if reasons else "clean feed, session finished"
    status = (
        f'<span class="status {css}" title="run health">{esc(health)}</span>'
        f'<span class="why">{esc(why)}</span>'
    )
    if not summary["complete"]:
        status += '<span class="status bad">incomplete</span>'

    kind = manifest.get("kind")
    source = manifest.get("input")
    origin = f"{kind} of {PurePath(str(source)).name}" if kind and source else (kind or "")
    venue = " · ".join(str(v) for v in (summary.get("venue"), summary.get("interval")) if v)
    facts = [f"strategy {_strategy(summary)}"]
    if origin:
        facts.append(str(origin))
    if manifest.get("run_id"):
        facts.append(f"run {manifest['run_id']}")
    period = (
        f"{utc(digest.metrics.first_ts)} → {utc(digest.metrics.last_ts)}"
        f" · {duration(_seconds_ms(summary.get('duration_seconds')))}"
    )
    ended = summary.get("exit_reason")
    model = summary.get("model") or {}
    modelled = "".join(
        f"<li>{esc(str(key).replace('_', ' '))}: {esc(str(value))}</li>"
        for key, value in model.items()
    )
    return (
        '<header class="top"><div class="wrap">'
        f'<div class="brand">trio-paper {status}</div>'
        f"<h1>{esc(summary.get('symbol') or 'unknown symbol')}"
        f' <span class="venue">{esc(venue)}</span></h1>'
        f'<p class="facts">{" · ".join(esc(f) for f in facts)}</p>'
        f'<p class="period">{esc(period)}'
        + (f" · ended: {esc(ended)}" if ended else "")
        + "</p>"
        + (f'<ul class="model">{modelled}</ul>' if modelled else "")
        + "</div></header>"
    )


def _banner(summary: dict[str, Any], manifest: dict[str, Any]) -> str:
    notes = []
    if summary.get("journal_error"):
        notes.append(f"The journal could not be read to the end ({summary['journal_error']}).")
    if summary.get("exit_reason") is None:
        # The manifest says why when the process could (a failed write, a bug), else nothing.
        why = manifest.get("exit_reason") or "a crash or a kill"
        notes.append(
            f"The journal has no session_end record: the session did not finish ({why}). "
            "Everything below is what the journal held up to its last record."
        )
    if summary.get("malformed_records"):
        notes.append(
            f"{summary['malformed_records']} record(s) could not be read and were skipped."
        )
    if not notes:
        return ""
    return f'<div class="banner">{" ".join(esc(n) for n in notes)}</div>'


# --- charts --------------------------------------------------------------------------------------


def _legend_icon(shape: str, fill: str, stroke: str) -> str:
    return (
        f'<svg class="icon" viewBox="0 0 14 14" aria-hidden="true"><path d="{shape}" '
        f'fill="{fill}" stroke="{stroke}" stroke-width="1.6" stroke-linejoin="round"/></svg>'
    )


def _span_legend(color: str, label: str) -> str:
    return f'<span><i class="block" style="background:{color}"></i>{esc(label)}</span>'


def _charts(summary: dict[str, Any], digest: Digest) -> str:
    up, down = "M7 1.5l-5.5 10h11z", "M7 12.5l-5.5 -10h11z"
    ring = "M2.5 7a4.5 4.5 0 1 0 9 0a4.5 4.5 0 1 0 -9 0"
    legend = [
        f'<span><i class="swatch" style="background:{PRICE_COLOR}"></i>close</span>',
        f"<span>{_legend_icon(up, BUY_COLOR, BUY_COLOR)}buy entry (long)</span>",
        f"<span>{_legend_icon(down, SELL_COLOR, SELL_COLOR)}sell entry (short)</span>",
        f"<span>{_legend_icon(ring, '#fff', SELL_COLOR)}exit by a sell</span>",
        f"<span>{_legend_icon(ring, '#fff', BUY_COLOR)}exit by a buy</span>",
    ]
    axis, prices, equity, markers = digest.axis, digest.price, digest.equity, digest.markers
    closeup = None
    if axis is None or prices is None or equity is None or markers is None:
        price_svg = '<p class="none">No bars in this session.</p>'
        equity_svg = '<p class="none">No equity curve: no bars in this session.</p>'
    else:
        spans = digest.closed_spans()
        price_svg = price_chart(axis, prices, markers.all(), spans, digest.candles)
        if draws_candles(digest.candles):
            legend[0] = (
                f'<span><i class="candle" style="border-color:{CANDLE_COLOR}"></i>up '
                f'<i class="candle" style="background:{CANDLE_COLOR};border-color:{CANDLE_COLOR}">'
                "</i>down candle</span>"
            )
        start = to_decimal(summary["pnl"]["starting_equity"])
        lead = digest.candles.base if digest.candles and draws_candles(digest.candles) else 0
        start_y = float(start) if start is not None else None
        equity_svg = equity_chart(axis, equity, start_y, spans, lead)
        closeup = closeup_chart(digest.last_bars, digest.metrics.interval_ms, spans)
        kinds = {span.kind for span in spans}
        if "feed" in kinds:
            legend.append(_span_legend(FEED_DOWN_COLOR, "feed down"))
        if "halt" in kinds:
            legend.append(_span_legend(HALT_COLOR, "entries halted"))
    return (
        '<section class="panel"><div class="head"><h2>Price</h2>'
        f'<div class="legend">{"".join(legend)}</div><div class="note right">time in UTC</div>'
        f"</div>{price_svg}</section>"
        + (
            '<section class="panel"><div class="head"><h2>Close-up</h2><div class="note">the '
            f"last {len(digest.last_bars.bars)} bars as candles (up hollow, down filled) with "
            f'their trades</div><div class="note right">time in UTC</div></div>{closeup}'
            "</section>"
            if closeup
            else ""
        )
        + '<section class="panel"><div class="head"><h2>Equity</h2><div class="legend"><span>'
        f'<i class="swatch" style="background:{EQUITY_COLOR}"></i>equity at each bar close'
        '</span></div><div class="note right">USDT · time in UTC</div></div>'
        f"{equity_svg}</section>"
    )


# --- tables --------------------------------------------------------------------------------------


def _footer(summary: dict[str, Any], manifest: dict[str, Any]) -> str:
    version = manifest.get("trio_paper", "")
    return (
        f"<footer>trio-paper {esc(version)} · from events.jsonl ({summary['records']:,} records, "
        f"journal schema {esc(summary.get('journal_schema'))}) · all times UTC · record types "
        "and metric definitions: docs/events.md</footer>"
    )


# --- helpers -------------------------------------------------------------------------------------


def _seconds_ms(seconds: str | None) -> int | None:
    d = to_decimal(seconds)
    return int(d * 1000) if d is not None else None
