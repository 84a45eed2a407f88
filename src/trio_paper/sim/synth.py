"""Recordings built from real 1-minute candles, in Bitunix's or Binance USD-M's frame format.

No long public recording of Bitunix traffic exists, so the shipped recordings are made here from
real candles (``synth_formats`` writes each venue's frames; the walk below is the same for
both). What is real: each minute's open, high, low, close and volume, and the funding rates.
What is synthesized, deterministically (same input, same bytes):

- a kline push every 500 ms whose price walks from the open to the extreme nearer to it, then
  to the other extreme, then to the close, on the tick grid; the last push of each minute carries
  the candle's exact OHLCV, with the volume accumulating evenly through the minute;
- a quote (``depth_book1``, ``bookTicker``) with each push, around the walked price, spread
  mostly one tick; Binance's last kline push of a minute says the bar is closed (``x``);
- a mark-price frame every 2 s (Bitunix's ``price``) or 1 s (Binance's ``markPrice@1s``): mark
  and index near the walked price, the funding rate (Bitunix: the one settled last, in percent;
  Binance: the one due at the next settlement) and the settlement times;
- receive times 20–80 ms after the exchange time; a warm-up backfill of the candles before the
  first minute, as the REST kline response a session fetches at start.
"""

from __future__ import annotations

import bisect
import csv
import itertools
import random
from collections.abc import Iterable, Iterator
from decimal import ROUND_HALF_EVEN, Decimal
from pathlib import Path

from ..inputs import Backfill, Frame, Item, SessionStart, StopRequested, Tick
from ..model import Bar, MarkPrice, Quote
from ..store.recording import Header, RecordingWriter
from ..times import HOUR_MS, MINUTE_MS, iso_to_ms
from ..venues.candles import read_candles
from .synth_formats import BitunixFormat, Format, Walk, channels, format_of, opening

PUSH_MS = 500
FUNDING_EVERY_MS = 8 * HOUR_MS
_TICK = Decimal("0.1")
_LOT = Decimal("0.0001")
_QUOTE_STEP = Decimal("0.00001")


class FundingRates:
    """Settled funding rates (fractions) by settlement time, from a CSV like the shared one."""

    def __init__(self, path: Path | None) -> None:
        self.times: list[int] = []
        self.rates: list[Decimal] = []
        if path is None:
            return
        with path.open(newline="") as handle:
            for row in csv.DictReader(handle):
                settled = int(row["open_time_ms"]) // HOUR_MS * HOUR_MS
                self.times.append(settled)
                self.rates.append(Decimal(row["open"]))

    def settled_before(self, ts: int) -> tuple[int, Decimal]:
        """The last settlement at or before ``ts`` and its rate (0 where none is known)."""
        settled = ts // FUNDING_EVERY_MS * FUNDING_EVERY_MS
        i = bisect.bisect_right(self.times, settled) - 1
        rate = self.rates[i] if i >= 0 and self.times[i] == settled else Decimal(0)
        return settled, rate


def _on_tick(price: Decimal) -> Decimal:
    return (price / _TICK).quantize(Decimal(1), ROUND_HALF_EVEN) * _TICK


def price_path(bar: Bar, steps: int) -> list[Decimal]:
    """``steps`` prices from the open, through both extremes, to the close, on the tick grid."""
    first, second = (bar.low, bar.high) if bar.close >= bar.open else (bar.high, bar.low)
    vertices = [bar.open, first, second, bar.close]
    legs = [abs(b - a) for a, b in itertools.pairwise(vertices)]
    total = sum(legs) or Decimal(1)
    # Each vertex lands on a step of its own, in order, so the extremes are always touched.
    marks = [Decimal(0)]
    for leg in legs:
        marks.append(marks[-1] + leg / total * (steps - 1))
    marks[-1] = Decimal(steps - 1)  # the close is the last step, even when no price moved
    vertex_steps = [0]
    for i, mark in enumerate(marks[1:], start=1):
        lowest = vertex_steps[-1] + 1
        highest = steps - (len(marks) - i)
        vertex_steps.append(min(max(int(mark.to_integral_value()), lowest), highest))
    path = []
    for index in range(3):
        a, b = vertex_steps[index], vertex_steps[index + 1]
        pa, pb = vertices[index], vertices[index + 1]
        path.append(pa)
        for step in range(a + 1, b):
            walked = _on_tick(pa + (pb - pa) * (step - a) / (b - a))
            path.append(min(max(walked, bar.low), bar.high))
    path.append(bar.close)
    return path


def _klines(
    bar: Bar, path: list[Decimal]
) -> Iterator[tuple[Decimal, Decimal, Decimal, Decimal, Decimal]]:
    """Per push: high, low, close, cumulative volume, cumulative quote volume."""
    high = low = path[0]
    volume = quote = Decimal(0)
    steps = len(path)
    for i, price in enumerate(path):
        high, low = max(high, price), min(low, price)
        target = (bar.volume * (i + 1) / steps).quantize(_LOT) if i < steps - 1 else bar.volume
        quote += (target - volume) * price
        volume = target
        yield high, low, price, volume, quote.quantize(_QUOTE_STEP)


def frames_for(
    bar: Bar, symbol: str, funding: FundingRates, rng: random.Random,
    fmt: Format = BitunixFormat(),  # noqa: B008 - frozen
) -> Iterator[tuple[int, str]]:  # fmt: skip
    """The frames of one minute as ``(exchange ts, raw)``, in ts order."""
    steps = bar.interval_ms // PUSH_MS
    offset = 40 + rng.randrange(200)
    path = price_path(bar, steps)
    every = fmt.mark_every_ms
    for i, (high, low, close, volume, quote) in enumerate(_klines(bar, path)):
        ts = bar.open_time + offset + i * PUSH_MS
        yield ts, fmt.kline(Walk(bar, ts, high, low, close, volume, quote, i == steps - 1))
        spread = rng.choices((1, 2, 3, 5), weights=(85, 10, 4, 1))[0]
        below = rng.randrange(spread + 1)
        bid = close - below * _TICK
        ask = bid + spread * _TICK
        bid_qty = _size(rng)
        yield ts + 3, fmt.quote(Quote(symbol, ts + 3, bid, bid_qty, ask, _size(rng)))
        if (ts + 3) // every != (ts + 3 + PUSH_MS) // every:
            settled, rate = funding.settled_before(ts)
            if fmt.rate_due_next:
                rate = funding.settled_before(settled + FUNDING_EVERY_MS)[1]
            mark = _on_tick(close * (1 + Decimal(rng.randrange(-20, 21)) / 100_000))
            index = _on_tick(mark * (1 + Decimal(rng.randrange(-10, 11)) / 100_000))
            yield (
                ts + 7,
                fmt.mark(
                    MarkPrice(
                        symbol, ts + 7, mark, index, rate, settled, settled + FUNDING_EVERY_MS
                    )
                ),
            )


def _size(rng: random.Random) -> Decimal:
    return Decimal(rng.randrange(10, 30_000)) * _LOT


def build(
    bars: Iterable[Bar],
    warmup: list[Bar],
    symbol: str,
    funding: FundingRates,
    seed: int = 0,
    grace_ms: int = 2_000,
    venue: str = "bitunix",
) -> Iterator[Item]:
    """The items of a recording: start, connect, subscribe, warm-up backfill, frames, a final
    tick that closes the last bar, and a stop."""
    fmt = format_of(venue)
    rng = random.Random(seed)
    sequence = itertools.count(1)
    next_seq = sequence.__next__
    last_t = 0
    last_bar: Bar | None = None

    iterator = iter(bars)
    first = next(iterator)
    t0 = first.open_time + 10  # just after the warm-up's last bar has closed
    yield SessionStart(next_seq(), t0, "from-candles")
    yield from opening(venue, symbol, sequence, t0)
    if warmup:
        start = warmup[0].open_time
        body = fmt.klines_body(warmup)
        yield Backfill(next_seq(), t0, "warmup", start, first.open_time, body)
    last_t = last_ts = t0
    for bar in _chain(first, iterator):
        if bar.interval_ms != MINUTE_MS:
            raise ValueError("recordings are built from 1-minute candles")
        for ts, raw in frames_for(bar, symbol, funding, rng, fmt):
            last_t = max(last_t, ts + 20 + rng.randrange(61))
            last_ts = ts
            yield Frame(next_seq(), last_t, raw)
        last_bar = bar
    assert last_bar is not None
    # A tick at local time t closes bars at venue time t + (ts - t) of the latest frame.
    end = max(last_t, last_bar.close_time + grace_ms + 1 + last_t - last_ts)
    yield Tick(next_seq(), end)
    yield StopRequested(next_seq(), end, "end of recording")


def _chain(first: Bar, rest: Iterator[Bar]) -> Iterator[Bar]:
    yield first
    yield from rest


def header(symbol: str, source: str, created: str, venue: str = "bitunix") -> Header:
    return Header(
        venue=venue, symbol=symbol, channels=channels(venue, symbol), interval="1min",
        created=created, source=source,
    )  # fmt: skip


def from_candles(
    candles: Path,
    start: str,
    minutes: int,
    warmup: int,
    funding: Path | None,
    symbol: str,
    seed: int,
    out: Path,
    venue: str = "bitunix",
) -> int:
    """Write the recording of ``minutes`` candles from ``start``; return how many items."""
    first = iso_to_ms(start)
    if first % MINUTE_MS:
        raise ValueError(f"--start {start} is not on a minute")
    end = first + minutes * MINUTE_MS
    selected = [
        bar for bar in read_candles(candles, symbol, MINUTE_MS)
        if first - warmup * MINUTE_MS <= bar.open_time < end
    ]  # fmt: skip
    history = [bar for bar in selected if bar.open_time < first]
    session = [bar for bar in selected if bar.open_time >= first]
    if len(session) != minutes:
        raise ValueError(f"{candles} has {len(session)} of the {minutes} minutes from {start}")
    source = (
        f"synthesized by trio-paper recordings from-candles from {candles.name}"
        f" (funding: {funding.name if funding else 'none'}, seed {seed})"
    )
    count = 0
    format_of(venue)  # an unknown venue fails before anything is read
    with RecordingWriter(out, header(symbol, source, start, venue)) as writer:
        for item in build(session, history, symbol, FundingRates(funding), seed, venue=venue):
            writer.write(item)
            count += 1
    return count
