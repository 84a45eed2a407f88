"""A sweep's ``summary.html``: every row in a sortable table, a heatmap for each pair of
params, and — with ``--test-from`` — in-sample beside out-of-sample for the best few.

Self-contained like the run report: the run page's CSS inline, no font, nothing fetched. The
heatmaps are plain HTML tables, so they need no script; only sorting the table uses a few lines
of inline script, and without it the table still reads in grid order.
"""

from __future__ import annotations

import itertools
from decimal import Decimal
from pathlib import PurePath
from typing import Any

from .formats import DASH, esc, number, to_decimal, tone
from .page import _CSS

METRIC_LABELS = {
    "trades": "trades", "win_rate_pct": "win %", "net_pnl_usdt": "net PnL", "return_pct":
    "return %", "fees_usdt": "fees", "funding_usdt": "funding", "max_drawdown_pct": "max DD %",
    "sharpe": "Sharpe", "sortino": "Sortino", "health": "health",
}  # fmt: skip
LOWER_IS_BETTER = {"max_drawdown_pct"}

_SORT_SCRIPT = """
document.querySelectorAll('table.sortable').forEach(function (table) {
  table.querySelectorAll('th').forEach(function (th, col) {
    th.style.cursor = 'pointer';
    th.title = 'sort';
    th.addEventListener('click', function () {
      var body = table.tBodies[0], rows = Array.from(body.rows);
      var dir = th.dataset.dir === 'asc' ? -1 : 1;
      table.querySelectorAll('th').forEach(function (h) { delete h.dataset.dir; });
      th.dataset.dir = dir === 1 ? 'asc' : 'desc';
      function key(row) {
        var v = row.cells[col].dataset.v, n = parseFloat(v);
        return v === '' || v === undefined ? null : (isNaN(n) ? v : n);
      }
      rows.sort(function (a, b) {
        var x = key(a), y = key(b);
        if (x === null || y === null) { return (x === null) - (y === null); }
        return (x < y ? -1 : x > y ? 1 : 0) * dir;
      });
      rows.forEach(function (row) { body.appendChild(row); });
    });
  });
});
"""

_EXTRA_CSS = """
table.heat td.cell { text-align: center; min-width: 4.5em; }
table.heat th.axis { color: #667; font-weight: normal; }
th[data-dir=asc]::after { content: " ▲"; } th[data-dir=desc]::after { content: " ▼"; }
"""


def render_sweep_page(about: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    """The whole page as text, from what ``results.json`` holds."""
    names: list[str] = list(about["params"])
    metric: str = about["rank_by"]
    sample = [r for r in rows if r["part"] != "out-of-sample"]
    out = [r for r in rows if r["part"] == "out-of-sample"]
    return "\n".join(
        [
            "<!doctype html>",
            '<html lang="en"><head><meta charset="utf-8">',
            '<meta name="viewport" content="width=device-width, initial-scale=1">',
            f"<title>sweep {esc(about['sweep_id'])} · trio-paper</title>",
            f"<style>{_CSS}{_EXTRA_CSS}</style></head><body>",
            _header(about, rows),
            "<main>",
            _comparison(names, sample, out, metric) if out else "",
            _heatmaps(names, sample, metric),
            _table(names, rows),
            "</main>",
            f"<footer>trio-paper {esc(about.get('trio_paper', ''))} · from results.json · "
            "each row's numbers are its run's summary.json</footer>",
            f"<script>{_SORT_SCRIPT}</script>",
            "</body></html>",
            "",
        ]
    )


def _header(about: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    failed = sum(1 for r in rows if r["health"] == "failed")
    facts = [
        f"strategy {about['strategy']}",
        f"sweep of {PurePath(str(about['input'])).name}",
        f"{len(rows)} rows" + (f", {failed} failed" if failed else ""),
        f"params {', '.join(about['params'])}",
    ]
    if about.get("test_from"):
        facts.append(f"out of sample from {about['test_from']}, best {about['top']} by")
        facts[-1] += f" {about['rank_by']}"
    return (
        '<header class="top"><div class="wrap"><div class="brand">trio-paper sweep</div>'
        f"<h1>{esc(about['sweep_id'])}</h1>"
        f'<p class="facts">{" · ".join(esc(f) for f in facts)}</p></div></header>'
    )


def _cell(row: dict[str, Any], name: str) -> str:
    """One ``<td>`` with the raw value in ``data-v`` for sorting."""
    value = row.get(name)
    raw = "" if value is None else str(value)
    if name in METRIC_LABELS and name not in ("trades", "health"):
        shown = number(value, 2, signed=name in ("net_pnl_usdt", "return_pct"))
        css = tone(value) if name in ("net_pnl_usdt", "return_pct") else ""
        if shown == DASH and value not in (None, ""):
            shown = str(value)  # n/a
        return f'<td class="{css}" data-v="{esc(raw)}">{esc(shown)}</td>'
    if name == "run" and raw:
        # sweeps/<id>/summary.html and sweeps/runs/<key>/ are siblings' children
        folder = PurePath(raw).name
        link = (
            f'<a href="../runs/{esc(folder)}/summary.html" title="{esc(raw)}">{esc(folder[:8])}</a>'
        )
        return f'<td class="l mono" data-v="{esc(raw)}">{link}</td>'
    if name in ("run", "error"):
        return f'<td class="l wrap" data-v="{esc(raw)}">{esc(raw or DASH)}</td>'
    css = "l" if name in ("part", "health") else ""
    return f'<td class="{css}" data-v="{esc(raw)}">{esc(raw if raw else DASH)}</td>'


def _table(names: list[str], rows: list[dict[str, Any]]) -> str:
    heads = ["part", *names, *METRIC_LABELS, "error", "run"]
    head = "".join(
        f'<th class="{"l" if h in ("part", "health", "error", "run") else ""}">'
        f"{esc(METRIC_LABELS.get(h, h))}</th>"
        for h in heads
    )
    body = "".join(f"<tr>{''.join(_cell(row, h) for h in heads)}</tr>" for row in rows)
    return (
        '<section class="panel"><div class="head"><h2>Every combination</h2>'
        '<div class="note">click a column to sort · USDT · n/a: too few returns</div></div>'
        f'<div class="scroll"><table class="sortable"><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div></section>"
    )


def _comparison(
    names: list[str], sample: list[dict[str, Any]], out: list[dict[str, Any]], metric: str
) -> str:
    """The best in-sample rows beside the same params out of sample."""
    shown = ["net_pnl_usdt", "sharpe", "trades", "max_drawdown_pct"]
    if metric not in shown:
        shown.insert(0, metric)
    heads = "".join(f"<th>{esc(n)}</th>" for n in names)
    heads += "".join(f"<th>in: {esc(METRIC_LABELS[m])}</th>" for m in shown)
    heads += "".join(f"<th>out: {esc(METRIC_LABELS[m])}</th>" for m in shown)
    lines = []
    for row in out:
        same = (s for s in sample if all(s[n] == row[n] for n in names))
        twin = next(same, dict.fromkeys(shown))
        cells = [f"<td>{esc(row[n])}</td>" for n in names]
        cells += [_cell(twin, m) for m in shown] + [_cell(row, m) for m in shown]
        lines.append(f"<tr>{''.join(cells)}</tr>")
    return (
        '<section class="panel"><div class="head"><h2>In sample and out of sample</h2>'
        f'<div class="note">the best by {esc(metric)} before the split, replayed after it: '
        "a winner that does not hold up was fitted to noise</div></div>"
        f'<div class="scroll"><table class="sortable"><thead><tr>{heads}</tr></thead>'
        f"<tbody>{''.join(lines)}</tbody></table></div></section>"
    )


def _heatmaps(names: list[str], rows: list[dict[str, Any]], metric: str) -> str:
    """One heatmap of ``metric`` per pair of params (each cell the best over the others);
    the first open, the rest one click away."""
    axes = [n for n in names if len({str(r[n]) for r in rows}) > 1] or names[:1]
    pairs: list[tuple[str, str | None]] = [*itertools.combinations(axes, 2)] or [(axes[0], None)]
    maps = []
    for number_, (x, y) in enumerate(pairs):
        title = f"{metric} by {x}" + (f" × {y}" if y else "")
        opened = " open" if number_ == 0 else ""
        maps.append(
            f"<details{opened}><summary>{esc(title)}</summary>{_heatmap(rows, x, y, metric)}"
            "</details>"
        )
    return (
        '<section class="panel"><div class="head"><h2>Heatmaps</h2><div class="note">'
        f"{esc(metric)}, best over the other params · green better, red worse</div></div>"
        f"{''.join(maps)}</section>"
    )


def _heatmap(rows: list[dict[str, Any]], x: str, y: str | None, metric: str) -> str:
    xs = _distinct(rows, x)
    ys = _distinct(rows, y) if y else [None]
    best: dict[tuple[str, str | None], Decimal] = {}
    lower = metric in LOWER_IS_BETTER
    for row in rows:
        value = to_decimal(row.get(metric)) if row["health"] != "failed" else None
        if value is None:
            continue
        cell = (str(row[x]), str(row[y]) if y else None)
        if cell not in best or (value < best[cell] if lower else value > best[cell]):
            best[cell] = value
    low, high = min(best.values(), default=Decimal(0)), max(best.values(), default=Decimal(0))
    head = f'<th class="axis">{esc(y or "")} \\ {esc(x)}</th>' + "".join(
        f"<th>{esc(v)}</th>" for v in xs
    )
    lines = []
    for yv in ys:
        cells = []
        for xv in xs:
            value = best.get((xv, yv))
            cells.append(_heat_cell(value, low, high, lower))
        lines.append(f'<tr><th class="axis">{esc(yv if yv is not None else "")}</th>'
                     f"{''.join(cells)}</tr>")  # fmt: skip
    body = "".join(lines)
    return f'<table class="heat"><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>'


def _heat_cell(value: Decimal | None, low: Decimal, high: Decimal, lower: bool) -> str:
    """Green for the best of the map, red for the worst, white between."""
    if value is None:
        return f'<td class="cell">{DASH}</td>'
    where = (value - low) / (high - low) if high > low else Decimal("0.5")
    goodness = (1 - where if lower else where) * 2 - 1  # -1 worst … +1 best
    strength = int(abs(goodness) * 150)
    shade = 255 - strength
    color = f"rgb({shade},255,{shade})" if goodness > 0 else f"rgb(255,{shade},{shade})"
    return f'<td class="cell" style="background:{color}" data-v="{value}">{esc(number(value))}</td>'


def _distinct(rows: list[dict[str, Any]], name: str) -> list[str]:
    """The values of ``name`` in grid order."""
    return list(dict.fromkeys(str(row[name]) for row in rows))
