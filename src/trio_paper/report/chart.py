"""The page's charts as inline SVG, drawn in Python: no script, no library, renders offline.

Coordinates are rounded to 0.1 px and repeated points dropped, so a chart of a year of bars
stays a few hundred kilobytes. Time runs left to right in UTC; stretches with no data longer
than a day are cut out of the axis and marked.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Iterator, Sequence
from datetime import UTC, datetime

import attrs

from ..times import DAY_MS, HOUR_MS, MINUTE_MS
from .digest import Span
from .formats import duration, esc, price, utc
from .ohlc import MAX_CANDLES, Candle, Candles
from .series import Downsampled, Marker, Point, TimeAxis

PRICE_COLOR = "#2563eb"
EQUITY_COLOR = "#7c3aed"
BUY_COLOR = "#059669"
SELL_COLOR = "#e11d48"
GRID_COLOR = "#e7e9ee"
FEED_DOWN_COLOR = "#64748b"
HALT_COLOR = "#f59e0b"
SPAN_COLORS = {"feed": (FEED_DOWN_COLOR, "0.18"), "halt": (HALT_COLOR, "0.13")}
TEXT_COLOR = "#6b7280"
CANDLE_COLOR = "#475569"
"""Candles are slate (up hollow, down filled): the green and red are the trades'."""
WIDTH = 1200
CROWDED = 150
"""More markers than this are drawn under the price, and smaller."""

TIME_STEPS = (
    MINUTE_MS, 2 * MINUTE_MS, 5 * MINUTE_MS, 10 * MINUTE_MS, 15 * MINUTE_MS, 30 * MINUTE_MS,
    HOUR_MS, 2 * HOUR_MS, 3 * HOUR_MS, 6 * HOUR_MS, 12 * HOUR_MS, DAY_MS, 2 * DAY_MS,
    7 * DAY_MS, 14 * DAY_MS, 28 * DAY_MS, 91 * DAY_MS, 182 * DAY_MS, 364 * DAY_MS,
)  # fmt: skip
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
"""Not ``%b``: that follows the locale, and the page should not."""
LABEL_PX = 120  # room one time label needs


@attrs.frozen
class Frame:
    """The plot rectangle and the data ranges mapped onto it."""

    height: int
    x0: float
    x1: float
    y0: float
    y1: float
    left: int = 76
    right: int = 28
    top: int = 16
    bottom: int = 44

    @property
    def plot_width(self) -> int:
        return WIDTH - self.left - self.right

    @property
    def plot_bottom(self) -> int:
        return self.height - self.bottom

    def px(self, x: float) -> float:
        span = self.x1 - self.x0
        return self.left + (x - self.x0) / span * self.plot_width if span else self.left

    def py(self, y: float) -> float:
        span = self.y1 - self.y0
        inner = self.plot_bottom - self.top
        return self.plot_bottom - (y - self.y0) / span * inner if span else self.top + inner / 2


def _f(value: float) -> str:
    """A coordinate: one decimal, no trailing ``.0``."""
    text = f"{value:.1f}"
    return text[:-2] if text.endswith(".0") else text


def nice_step(span: float, count: int) -> float:
    """A step of 1, 2, 2.5 or 5 × 10ⁿ that cuts ``span`` into about ``count`` parts."""
    if span <= 0 or not math.isfinite(span):
        return 1.0
    raw = span / max(1, count)
    power = 10.0 ** math.floor(math.log10(raw))
    for factor in (1, 2, 2.5, 5, 10):
        if factor * power >= raw:
            return factor * power
    return 10 * power


def value_ticks(lo: float, hi: float, count: int = 5) -> tuple[list[float], int]:
    """Round values spanning ``lo``..``hi`` and the decimals their labels need."""
    step = nice_step(hi - lo, count)
    first = math.ceil(lo / step) * step
    ticks = []
    value = first
    while value <= hi + step * 1e-9:
        ticks.append(round(value, 10))
        value += step
    places = max(0, -math.floor(math.log10(step) + 1e-9)) if step < 1 else 0
    if step * 10**places % 1:  # 2.5 × 10ⁿ needs one more digit
        places += 1
    return ticks, places


def padded(lo: float, hi: float, share: float = 0.04) -> tuple[float, float]:
    """A data range with room above and below, never empty."""
    if hi <= lo:
        pad = abs(lo) * 0.001 or 1.0
        return lo - pad, hi + pad
    pad = (hi - lo) * share
    return lo - pad, hi + pad


def _round_times(start: int, end: int, step: int) -> Iterator[int]:
    """Multiples of ``step`` in ``start..end``; steps of four weeks or more are whole months
    (1, 3, 6 or 12), starting on the 1st at 00:00 UTC."""
    if step < 28 * DAY_MS:
        yield from range(-(-start // step) * step, end + 1, step)
        return
    months = {28: 1, 91: 3, 182: 6}.get(step // DAY_MS, 12)
    first = datetime.fromtimestamp(start / 1000, UTC)
    index = first.year * 12 + first.month - 1
    index += -index % months
    while True:
        when = datetime(index // 12, index % 12 + 1, 1, tzinfo=UTC)
        t = int(when.timestamp() * 1000)
        if t > end:
            return
        if t >= start:
            yield t
        index += months


def time_ticks(axis: TimeAxis, frame: Frame) -> list[tuple[float, str, str]]:
    """``(px, label, sub-label)`` for round UTC times inside each stretch of data; the
    sub-label gives the date (or year) where it changes."""
    span = frame.x1 - frame.x0
    fits = max(2, frame.plot_width // LABEL_PX)
    step = next((s for s in TIME_STEPS if span / s <= fits), TIME_STEPS[-1])
    ticks: list[tuple[float, str, str]] = []
    last_px = -math.inf
    last_day = last_year = ""
    for start, end in axis.segments():
        for t in _round_times(start, end, step):
            px = frame.px(axis.x(t))
            if px - last_px < LABEL_PX * 0.75 or px > WIDTH - frame.right - 24:
                continue
            when = datetime.fromtimestamp(t / 1000, UTC)
            day, year = when.strftime("%Y-%m-%d"), when.strftime("%Y")
            if step < DAY_MS:
                label, sub = when.strftime("%H:%M"), day if day != last_day else ""
            elif step < 28 * DAY_MS:
                label, sub = when.strftime("%m-%d"), year if year != last_year else ""
            else:
                label, sub = MONTHS[when.month - 1], year if year != last_year else ""
            ticks.append((px, label, sub))
            last_px, last_day, last_year = px, day, year
    return ticks


class Chart:
    """One SVG chart being put together: a frame, its grid and axes, then the layers."""

    def __init__(self, frame: Frame, label: str) -> None:
        self.frame = frame
        self.parts: list[str] = [
            f'<svg class="chart" viewBox="0 0 {WIDTH} {frame.height}" role="img" '
            f'aria-label="{esc(label)}" xmlns="http://www.w3.org/2000/svg">',
            f"<title>{esc(label)}</title>",
        ]

    def grid(self, axis: TimeAxis, value_label: str, count: int) -> None:
        """Horizontal grid lines at about ``count`` round values, and UTC times below."""
        fr = self.frame
        ticks, places = value_ticks(fr.y0, fr.y1, count)
        out = [f'<g class="grid" stroke="{GRID_COLOR}" stroke-width="1">']
        out += [f'<path d="M{fr.left} {_f(fr.py(v))}H{WIDTH - fr.right}"/>' for v in ticks]
        out.append("</g>")
        out.append(f'<g class="ylab" fill="{TEXT_COLOR}" text-anchor="end">')
        out += [
            f'<text x="{fr.left - 8}" y="{_f(fr.py(v) + 4)}">{v:,.{places}f}</text>' for v in ticks
        ]
        out.append("</g>")
        if value_label:
            out.append(
                f'<text class="unit" x="{fr.left - 8}" y="{fr.top - 4}" fill="{TEXT_COLOR}" '
                f'text-anchor="end">{esc(value_label)}</text>'
            )
        base = fr.plot_bottom
        out.append(
            f'<path d="M{fr.left} {base}H{WIDTH - fr.right}" stroke="#c3c8d1" stroke-width="1"/>'
        )
        out.append(f'<g class="xlab" fill="{TEXT_COLOR}" text-anchor="middle">')
        for px, label, sub in time_ticks(axis, fr):
            out.append(f'<path d="M{_f(px)} {base}v5" stroke="#c3c8d1"/>')
            out.append(f'<text x="{_f(px)}" y="{base + 18}">{label}</text>')
            if sub:
                out.append(f'<text class="sub" x="{_f(px)}" y="{base + 34}">{sub}</text>')
        out.append("</g>")
        self.parts += out

    def cuts(self, axis: TimeAxis, labelled: bool) -> None:
        fr = self.frame
        for cut in axis.cuts:
            px = _f(fr.px(axis.x(cut.before) + axis.step_ms / 2))
            gap = duration(cut.after - cut.before)
            label = (
                f'<text class="halo" x="{px}" y="{fr.top + 12}" fill="{TEXT_COLOR}" '
                f'text-anchor="middle">{esc(gap)} without data</text>'
                if labelled
                else ""
            )
            self.parts.append(
                f'<g class="cut"><path d="M{px} {fr.top}V{fr.plot_bottom}" stroke="#9ca3af" '
                f'stroke-dasharray="4 3"/>{label}'
                f"<title>no data from {utc(cut.before)} to {utc(cut.after)}</title></g>"
            )

    def spans(self, axis: TimeAxis, spans: Iterable[Span]) -> None:
        """Shade the stretches when the feed was down (grey) or entries were halted (amber)."""
        fr = self.frame
        out = []
        for span in spans:
            a, b = fr.px(axis.x(span.start)), fr.px(axis.x(span.end))
            a, b = max(a, fr.left), min(max(b, a + 1.5), WIDTH - fr.right)
            if b <= a:
                continue
            color, opacity = SPAN_COLORS[span.kind]
            tip = f"{span.why}: {utc(span.start)} to {utc(span.end)}"
            out.append(
                f'<rect class="span {esc(span.kind)}" x="{_f(a)}" y="{fr.top}" width="{_f(b - a)}"'
                f' height="{fr.plot_bottom - fr.top}" fill="{color}" fill-opacity="{opacity}">'
                f"<title>{esc(tip)}</title></rect>"
            )
        self.parts += out

    def line(self, runs: Sequence[Sequence[Point]], color: str, css: str, area: bool) -> None:
        fr = self.frame
        path = _path(fr, runs)
        if area and path:
            fills = [
                f"M{_f(fr.px(run[0][0]))} {fr.plot_bottom}L{' '.join(_points(fr, run))}"
                f"L{_f(fr.px(run[-1][0]))} {fr.plot_bottom}Z"
                for run in runs
                if run
            ]
            self.parts.append(
                f'<path class="{css}-area" d="{"".join(fills)}" fill="{color}" '
                'fill-opacity="0.08" stroke="none"/>'
            )
        self.parts.append(
            f'<path class="{css}" d="{path}" fill="none" stroke="{color}" stroke-width="2" '
            'stroke-linejoin="round" stroke-linecap="round"/>'
        )

    def level(self, y: float, label: str) -> None:
        fr = self.frame
        py = _f(fr.py(y))
        self.parts.append(
            f'<path class="level" d="M{fr.left} {py}H{WIDTH - fr.right}" stroke="#6b7280" '
            f'stroke-width="1" stroke-dasharray="2 4"/><text class="unit halo" '
            f'x="{WIDTH - fr.right}"'
            f' y="{_f(fr.py(y) - 5)}" fill="{TEXT_COLOR}" text-anchor="end">{esc(label)}</text>'
        )

    def candles(self, candles: Sequence[Candle], width_ms: int, step_ms: int) -> None:
        """Candlesticks: a wick from high to low, a body from open to close; an up candle is
        hollow, a down candle filled. ``width_ms`` is a candle's span, ``step_ms`` a bar's."""
        fr = self.frame
        span = fr.px(fr.x0 + width_ms) - fr.px(fr.x0)
        body = max(1.0, min(span * 0.7, 16.0))
        wicks: list[str] = []
        shapes: dict[bool, list[str]] = {True: [], False: []}
        for c in candles:
            cx = fr.px(c.x - step_ms + width_ms / 2)
            yo, yc = fr.py(c.open), fr.py(c.close)
            top, height = min(yo, yc), max(abs(yc - yo), 1.0)
            wicks.append(f"M{_f(cx)} {_f(fr.py(c.high))}V{_f(fr.py(c.low))}")
            shapes[c.close >= c.open].append(
                f"M{_f(cx - body / 2)} {_f(top)}h{_f(body)}v{_f(height)}h-{_f(body)}z"
            )
        self.parts.append(
            f'<path class="wicks" d="{"".join(wicks)}" stroke="{CANDLE_COLOR}" stroke-width="1"/>'
            f'<path class="candles up" d="{"".join(shapes[True])}" fill="#ffffff" '
            f'stroke="{CANDLE_COLOR}" stroke-width="1"/>'
            f'<path class="candles down" d="{"".join(shapes[False])}" fill="{CANDLE_COLOR}" '
            f'stroke="{CANDLE_COLOR}" stroke-width="1"/>'
        )

    def markers(self, markers: Iterable[Marker]) -> None:
        """Entries are filled triangles whose tip touches the fill price: a buy's below it
        pointing up, a sell's above it pointing down. Exits are rings on the price, coloured
        by the side of the closing fill (a long is closed by a sell)."""
        fr = self.frame
        markers = list(markers)
        # Crowded charts get smaller marks: size is the half-width of a triangle.
        size = 6.0 if len(markers) <= CROWDED else 4.5 if len(markers) <= 400 else 3.5
        r, h, w = _f(size * 0.75), _f(size * 1.85), _f(size * 2)
        ring = f"m-{r} 0a{r} {r} 0 1 0 {_f(size * 1.5)} 0a{r} {r} 0 1 0 -{_f(size * 1.5)} 0"
        groups: dict[tuple[str, str], list[str]] = {}
        for m in markers:
            x, y = _f(fr.px(m.x)), _f(fr.py(m.y))
            if m.role == "exit":
                shape = f"M{x} {y}{ring}"
            elif m.side == "buy":
                shape = f"M{x} {y}l-{_f(size)} {h}h{w}z"
            else:
                shape = f"M{x} {y}l-{_f(size)} -{h}h{w}z"
            groups.setdefault((m.role, m.side), []).append(
                f'<path d="{shape}"><title>{esc(_marker_title(m))}</title></path>'
            )
        for (role, side), paths in sorted(groups.items(), reverse=True):  # exits below
            color = BUY_COLOR if side == "buy" else SELL_COLOR
            fill = color if role == "entry" else "#ffffff"
            self.parts.append(
                f'<g class="marker {side} {role}" fill="{fill}" stroke="{color}" '
                f'stroke-width="1.8" stroke-linejoin="round">{"".join(paths)}</g>'
            )

    def svg(self) -> str:
        return "".join([*self.parts, "</svg>"])


def _points(fr: Frame, run: Iterable[Point]) -> list[str]:
    """A run as ``"x y"`` pixel pairs, with repeats dropped."""
    points: list[str] = []
    for x, y in run:
        point = f"{_f(fr.px(x))} {_f(fr.py(y))}"
        if not points or point != points[-1]:
            points.append(point)
    return points


def _path(fr: Frame, runs: Iterable[Sequence[Point]]) -> str:
    out: list[str] = []
    for run in runs:
        points = _points(fr, run)
        if points:
            out.append(f"M{points[0]}" + (f"L{' '.join(points[1:])}" if points[1:] else "h0.1"))
    return "".join(out)


def _marker_title(m: Marker) -> str:
    what = f"{m.side} {m.role}"
    if m.count == 1:
        return f"{what}: {m.qty} @ {price(m.price)} · {utc(m.t)}"
    return f"{m.count} fills ({what}) from {utc(m.t)} to {utc(m.last_t)}; first @ {price(m.price)}"


def empty_chart(height: int, message: str) -> str:
    return (
        f'<svg class="chart empty" viewBox="0 0 {WIDTH} {height}" role="img" '
        f'aria-label="{esc(message)}" xmlns="http://www.w3.org/2000/svg"><text x="{WIDTH / 2}" '
        f'y="{height / 2}" fill="{TEXT_COLOR}" text-anchor="middle">{esc(message)}</text></svg>'
    )


def draws_candles(candles: Candles | None) -> bool:
    """Candlesticks when there is room for them (a short run), the close line otherwise."""
    return candles is not None and 0 < len(candles.buckets) <= MAX_CANDLES


def price_chart(
    axis: TimeAxis,
    series: Downsampled,
    markers: Sequence[Marker],
    spans: Sequence[Span],
    candles: Candles | None = None,
    title: str = "Price",
) -> str:
    y_range = series.y_range()
    if y_range is None or axis.first is None or axis.last is None:
        return empty_chart(200, "No bars in this session")
    lo, hi = y_range
    as_candles = candles is not None and draws_candles(candles)
    if candles is not None and as_candles:
        lo, hi = candles.y_range() or y_range
    for m in markers:
        lo, hi = min(lo, m.y), max(hi, m.y)
    y0, y1 = padded(lo, hi, 0.06)
    x0 = axis.x(axis.first) - (candles.base if candles is not None and as_candles else 0)
    frame = Frame(420, x0, axis.x(axis.last), y0, y1)
    what = "candles" if as_candles else "close of each bar"
    chart = Chart(frame, f"{title} ({what}) with entries and exits")
    chart.spans(axis, spans)
    chart.grid(axis, "USDT", 6)
    chart.cuts(axis, labelled=True)
    crowded = len(markers) > CROWDED
    if crowded:  # the price stays on top: hundreds of merged markers would hide it
        chart.markers(markers)
    if candles is not None and as_candles:
        chart.candles(candles.all(), candles.width, candles.base)
    else:
        chart.line(series.runs(), PRICE_COLOR, "price-line", area=False)
    if not crowded:
        chart.markers(markers)
    return chart.svg()


def equity_chart(
    axis: TimeAxis,
    series: Downsampled,
    start: float | None,
    spans: Sequence[Span],
    lead_ms: int = 0,
) -> str:
    """The equity curve; ``lead_ms`` widens the time axis to the left as the price chart's is
    for its first candle, so that the two charts line up."""
    y_range = series.y_range()
    if y_range is None or axis.first is None or axis.last is None:
        return empty_chart(160, "No equity curve: no bars in this session")
    lo, hi = y_range
    if start is not None:
        lo, hi = min(lo, start), max(hi, start)
    y0, y1 = padded(lo, hi, 0.08)
    frame = Frame(260, axis.x(axis.first) - lead_ms, axis.x(axis.last), y0, y1)
    chart = Chart(frame, "Equity at the close of each bar")
    chart.spans(axis, spans)
    chart.grid(axis, "USDT", 4)
    chart.cuts(axis, labelled=False)
    chart.line(series.runs(), EQUITY_COLOR, "equity-line", area=True)
    if start is not None:
        chart.level(start, f"start {start:,.2f}")
    return chart.svg()
