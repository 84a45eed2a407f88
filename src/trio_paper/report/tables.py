"""The tables of ``summary.html``: trades, feed health, rejections and risk, incidents, the
journal's tail, and the settings the run used."""

from __future__ import annotations

import json
from typing import Any

from ..codec import dumps
from ..times import ms_to_iso
from .digest import Digest, TradeRow
from .formats import (
    DASH,
    duration,
    esc,
    money,
    negated,
    number,
    pct,
    price,
    to_decimal,
    tone,
    utc,
)


def _trade_row(row: TradeRow) -> str:
    side = f'<span class="side {esc(row.side)}">{esc(row.side or DASH)}</span>'
    closed = "still open" if row.open else f"closed {utc(row.closed)}"
    cells = [
        f'<td class="l">{"open" if row.open else row.trade}</td>', f'<td class="l">{side}</td>',
        f'<td class="l" title="{closed}">{utc(row.opened)}</td>',
        f"<td>{esc(duration(row.held_ms))}</td>", f"<td>{esc(number(row.size, 4))}</td>",
        f"<td>{esc(price(row.entry))}</td>", f"<td>{esc(price(row.exit))}</td>",
        f'<td class="{tone(row.pnl)}">{esc(money(row.pnl, signed=True))}</td>',
        _flow_cell(row.fees), _flow_cell(row.funding),
        f'<td class="{tone(row.net)} strong">{esc(money(row.net, signed=True))}</td>',
        f'<td class="l">{esc(row.reason)}</td>',
    ]  # fmt: skip
    css = ' class="open"' if row.open else ""
    return f"<tr{css}>{''.join(cells)}</tr>"


def _flow_cell(cost: str) -> str:
    """A cost from the journal (paid > 0) shown as a cash flow (paid < 0), so a row adds up."""
    flow = negated(cost)
    return f'<td class="{tone(flow)}">{esc(money(flow, signed=True))}</td>'


def open_row(summary: dict[str, Any], digest: Digest) -> TradeRow | None:
    """The position still open at the end, as a row marked open (its PnL is the open PnL)."""
    held = summary["trades"]["open"]
    if held is None:
        return None
    m = digest.metrics
    opened = m.open_since if m.open_since is not None else m.first_ts or 0
    last = m.last_ts or opened
    pnl, fees, funding = (to_decimal(held[k]) for k in ("pnl", "fees", "funding"))
    net = (
        pnl - fees - funding
        if pnl is not None and fees is not None and funding is not None
        else None
    )
    return TradeRow(
        trade=0, side=held["side"], opened=opened, closed=last, size=held["size"],
        entry=held["entry"] or DASH, exit=digest.last_close or DASH, pnl=held["pnl"] or DASH,
        fees=held["fees"], funding=held["funding"], net=DASH if net is None else str(net),
        reason="open at the end", held_ms=last - opened, open=True,
    )  # fmt: skip


def trades_table(summary: dict[str, Any], digest: Digest) -> str:
    trades = digest.trades
    still_open = open_row(summary, digest)
    if not trades.count and still_open is None:
        body = '<p class="none">No trades were closed in this session.</p>'
    else:
        heads = [
            ("#", "l"), ("side", "l"), ("opened (UTC)", "l"), ("held", ""), ("size", ""),
            ("entry", ""), ("exit", ""), ("PnL", ""), ("fees", ""), ("funding", ""),
            ("net", ""), ("reason", "l"),
        ]  # fmt: skip
        rows = [_trade_row(r) for r in trades.head]
        if trades.skipped:
            rows.append(
                f'<tr class="skipped"><td colspan="{len(heads)}">… {trades.skipped:,} more '
                "trades, all in events.jsonl as <code>exit</code> records …</td></tr>"
            )
        rows += [_trade_row(r) for r in trades.tail]
        if still_open is not None:
            rows.append(_trade_row(still_open))
        head = "".join(f'<th class="{css}">{esc(h)}</th>' for h, css in heads)
        body = (
            f'<div class="scroll"><table class="trades"><thead><tr>{head}</tr></thead>'
            f"<tbody>{''.join(rows)}</tbody></table></div>"
        )
    return (
        f'<section class="panel"><div class="head"><h2>Trades</h2><div class="note">'
        f"{trades.count:,} closed (a trade is an entry to the exit that flattens it)"
        + (" + 1 open at the end" if still_open is not None else "")
        + " · USDT · net = PnL + fees + funding (costs are negative)"
        f"</div></div>{body}</section>"
    )


def _kv(rows: list[tuple[str, str, bool]]) -> str:
    cells = "".join(
        f'<tr><th class="l">{esc(k)}</th><td class="{"warn" if bad else ""}">{esc(v)}</td></tr>'
        for k, v, bad in rows
    )
    return f'<table class="kv">{cells}</table>'


def _count(value: Any) -> tuple[str, bool]:
    if value is None:
        return DASH, False
    return number(value, 0), bool(value)


def feed_table(summary: dict[str, Any]) -> str:
    f = summary["feed"]
    rows: list[tuple[str, str, bool]] = [
        ("frames", _count(f["frames"])[0], False),
        ("bad frames", *_count(f["bad_frames"])),
        ("unknown keys", *_count(f["unknown_keys"])),
        ("frames for other symbols", _count(f["other_symbols"])[0], False),
        ("late pushes", *_count(f["late"])),
        ("out-of-order pushes", *_count(f["out_of_order"])),
        ("duplicate pushes", *_count(f["duplicates"])),
        ("missing bars", *_count(f["missing"])),
        ("backfilled bars", _count(f["backfilled_bars"])[0], False),
        ("connects", _count(f["connects"])[0], False),
        ("reconnects", *_count(f["reconnects"])),
        ("disconnects", *_count(f["disconnects"])),
        ("failed connection attempts", *_count(f["failed_connects"])),
        ("stalls (stale feed)", *_count(f["stale_events"])),
        ("feed down", f"{number(f['down_seconds'], 3)} s", bool(to_decimal(f["down_seconds"]))),
        ("waits for a fresh quote", *_count(f["quote_stale_events"])),
        (
            "time without a fresh quote",
            f"{number(f['quote_stale_seconds'], 3)} s",
            bool(to_decimal(f["quote_stale_seconds"])),
        ),
        ("gaps (bars)", f"{f['gaps']} ({f['gap_bars']})", bool(f["gaps"])),
        ("backfills", _count(f["backfills"])[0], False),
    ]
    return (
        f'<section class="panel"><div class="head"><h2>Feed health</h2></div>{_kv(rows)}</section>'
    )


def _reasons_table(by_reason: list[dict[str, Any]], empty: str) -> str:
    """Each kind of refusal: how many, and one of them word for word."""
    if not by_reason:
        return f'<p class="none">{esc(empty)}</p>'
    rows = "".join(
        f'<tr><td>{r["count"]:,}</td><td class="l wrap">{esc(r["example"])}</td></tr>'
        for r in by_reason
    )
    return (
        '<table class="kv reasons"><thead><tr><th>count</th><th class="l">reason (one example)'
        f"</th></tr></thead><tbody>{rows}</tbody></table>"
    )


def daily_table(summary: dict[str, Any]) -> str:
    """Per UTC day, when the run spans more than one: return, PnL, trades, equity."""
    days = summary["daily"]
    if len(days) < 2:
        return ""
    rows = "".join(
        f'<tr><td class="l mono">{esc(d["date"])}</td>'
        f'<td class="{tone(d["return_pct"])}">{esc(pct(d["return_pct"], 2, signed=True))}</td>'
        f'<td class="{tone(d["pnl"])}">{esc(money(d["pnl"], signed=True))}</td>'
        f"<td>{d['trades']:,}</td><td>{esc(money(d['equity']))}</td></tr>"
        for d in days
    )
    return (
        '<section class="panel"><div class="head"><h2>Days</h2><div class="note">'
        f"{len(days):,} UTC days with bars · return and PnL against the previous day's close · "
        "trades closed that day</div></div>"
        '<div class="scroll short"><table class="daily"><thead><tr><th class="l">date (UTC)</th>'
        "<th>return</th><th>PnL</th><th>trades</th><th>equity</th></tr></thead>"
        f"<tbody>{rows}</tbody></table></div></section>"
    )


def _counts_table(counts: dict[str, int], empty: str) -> str:
    if not counts:
        return f'<p class="none">{esc(empty)}</p>'
    rows = "".join(f'<tr><td class="l">{esc(k)}</td><td>{v:,}</td></tr>' for k, v in counts.items())
    return f'<table class="kv">{rows}</table>'


def rejects_and_risk(summary: dict[str, Any]) -> str:
    rejects, risk, errors = summary["rejects"], summary["risk"], summary["strategy_errors"]
    risk_rows: list[tuple[str, str, bool]] = [
        ("halts", *_count(risk["halts"])),
        ("resumed", _count(risk["resumed"])[0], False),
        ("kill switch", "on" if risk["kills"] else "off", bool(risk["kills"])),
        ("UTC days begun", _count(risk["new_days"])[0], False),
        ("strategy errors", *_count(errors["count"])),
        ("strategy disabled", "yes" if errors["disabled"] else "no", bool(errors["disabled"])),
    ]
    first = errors.get("first")
    halts = '<div class="head sub"><h3>Halt reasons</h3></div>' + _counts_table(
        risk["halt_reasons"], ""
    )
    return (
        '<section class="panel"><div class="head"><h2>Rejected orders</h2><div class="note">'
        f"{rejects['count']:,} refused entries · by reason, most frequent first</div></div>"
        f"{_reasons_table(rejects['by_reason'], 'No order was rejected.')}"
        '<div class="head sub"><h2>Risk and strategy</h2></div>'
        f"{_kv(risk_rows)}"
        + (halts if risk["halt_reasons"] else "")
        + (f'<p class="error">first strategy error: {esc(first)}</p>' if first else "")
        + "</section>"
    )


def incidents_table(digest: Digest) -> str:
    incidents = digest.incidents
    if not incidents.count:
        body = '<p class="none">No disconnects, stalls, gaps, halts or strategy errors.</p>'
    else:
        rows = "".join(
            f'<tr><td class="l mono">{utc(i.ts)}</td><td class="l"><span class="type '
            f'{esc(i.kind)}">{esc(i.kind)}</span></td><td class="l wrap">{esc(i.text)}</td></tr>'
            for i in incidents.head
        )
        more = (
            f'<p class="note">… and {incidents.skipped:,} more in events.jsonl.</p>'
            if incidents.skipped
            else ""
        )
        body = f'<div class="scroll short"><table class="incidents">{rows}</table></div>{more}'
    return (
        '<section class="panel"><div class="head"><h2>Incidents</h2><div class="note">feed, '
        f"risk and strategy events · {incidents.count:,}</div></div>{body}</section>"
    )


def settings_box(summary: dict[str, Any], manifest: dict[str, Any]) -> str:
    shown = {
        "strategy": summary.get("strategy"),
        "config": manifest.get("config"),
    }
    text = dumps(shown).decode()
    return (
        '<section class="panel"><details><summary>Settings (strategy and config, as the run '
        f'used them)</summary><pre class="json">{esc(_pretty(text))}</pre></details></section>'
    )


def _pretty(text: str) -> str:
    return json.dumps(json.loads(text), indent=2, ensure_ascii=False)


def journal_tail(digest: Digest) -> str:
    rows = []
    for record in digest.tail:
        rest = {k: v for k, v in record.items() if k not in ("seq", "ts", "type")}
        ts = record.get("ts")
        when = ms_to_iso(ts) if isinstance(ts, int) else DASH
        kind = str(record.get("type"))
        label = kind + (f"/{rest['event']}" if isinstance(rest.get("event"), str) else "")
        rows.append(
            f'<tr><td>{esc(record.get("seq"))}</td><td class="l mono">{esc(when)}</td>'
            f'<td class="l"><span class="type {esc(kind)}">{esc(label)}</span></td>'
            f'<td class="l json">{esc(dumps(rest).decode())}</td></tr>'
        )
    count = digest.metrics.records
    return (
        '<section class="panel"><div class="head"><h2>Journal tail</h2><div class="note">the '
        f"last {len(rows)} of {count:,} records of events.jsonl</div></div>"
        '<div class="scroll"><table class="tail"><thead><tr><th>seq</th><th class="l">ts (UTC)'
        '</th><th class="l">type</th><th class="l">fields</th></tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div></section>"
    )
