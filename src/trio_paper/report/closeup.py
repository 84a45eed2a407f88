"""The close-up of a long run: its last bars as candlesticks, with the trades made in them.

The main price chart of a day or a year is a line (a candle per pixel says nothing); a trader
still wants to read the last hours bar by bar, as a zoomed-in chart shows them.
"""

from __future__ import annotations

from collections.abc import Sequence

from ..times import DAY_MS
from .chart import price_chart
from .digest import Span
from .ohlc import MAX_CANDLES, Candles, LastBars
from .series import Downsampled, Markers, TimeAxis

MARKERS = 240


def closeup_chart(last: LastBars, step_ms: int, spans: Sequence[Span]) -> str | None:
    """The last bars as candles, or None when the run is short enough for the main chart to
    draw candles itself."""
    if last.seen <= MAX_CANDLES or not last.bars:
        return None
    axis = TimeAxis(step_ms, max(DAY_MS, 60 * step_ms))
    line, candles = Downsampled(step_ms), Candles(step_ms, limit=MAX_CANDLES)
    for t, o, h, lo, c in last.bars:
        cut = axis.advance(t)
        x = axis.x(t)
        line.add(x, c, new_segment=cut)
        candles.add(x, o, h, lo, c, new_segment=cut)
    first = last.bars[0][0] - step_ms
    markers = Markers(step_ms, limit=MARKERS)
    for t, price, side, role, qty in last.fills:
        if first <= t <= last.bars[-1][0]:
            markers.add(axis.x(t), t, price, side, role, qty)
    shown = [span for span in spans if span.end >= first]
    title = f"The last {len(last.bars)} bars"
    return price_chart(axis, line, markers.all(), shown, candles, title=title)
