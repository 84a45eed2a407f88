"""A recording loaded for the simulator: its data pushes, their times, and the bars they make.

Only data pushes (what the recording's venue ``Dialect`` routes) are kept: a live session's
recording also holds the venue's control frames (connect, pongs, acks), which a simulator
answers itself, and maybe frames that were bad on arrival, which cannot be routed. The raw text
is kept in one buffer rather than as 400,000 strings, so a day-long recording costs tens of MB,
not hundreds.
"""

from __future__ import annotations

from array import array
from pathlib import Path
from typing import Any

import attrs
import orjson

from .. import venues
from ..codec import MalformedMessage
from ..inputs import Backfill, Frame
from ..model import Bar
from ..store.recording import Header, RecordingReader
from ..times import MINUTE_MS
from .dialect import Dialect, Push, Route, dialect_of

__all__ = ["BarKey", "RecordedBar", "Route", "Tape", "load_tape"]

BarKey = tuple[str, int]
"""``(SYMBOL, interval ms)``."""


@attrs.frozen
class RecordedBar:
    """A bucket's final values (its last push) and when they had been served: the later of the
    push's receive time and the bucket's end, on the recording's clock."""

    bar: Bar
    available: int


@attrs.define
class Tape:
    """The frames of a recording, ready to play: ``times[i]`` is when push ``i`` arrived,
    ``stamps[i]`` its exchange ``ts``, ``routes[i]`` its channel and symbol."""

    header: Header
    dialect: Dialect
    """How the recording's venue routes and times its pushes."""
    times: array[int] = attrs.Factory(lambda: array("q"))
    stamps: array[int] = attrs.Factory(lambda: array("q"))
    routes: list[Route] = attrs.Factory(list)
    offsets: array[int] = attrs.Factory(lambda: array("q", [0]))
    blob: bytearray = attrs.Factory(bytearray)
    bars: dict[BarKey, list[RecordedBar]] = attrs.Factory(dict)
    """Bars the pushes make, oldest first, per symbol and kline interval."""
    history: dict[BarKey, list[Bar]] = attrs.Factory(dict)
    """Bars from the recording's backfills that end before its first push."""
    symbols: frozenset[str] = frozenset()
    skipped: int = 0
    """Frames that are not data pushes (control frames, bad frames)."""

    def __len__(self) -> int:
        return len(self.times)

    def raw(self, index: int) -> bytearray:
        return self.blob[self.offsets[index] : self.offsets[index + 1]]

    @property
    def first_bucket(self) -> int:
        """The minute the first push belongs to."""
        return self.stamps[0] // MINUTE_MS * MINUTE_MS

    @property
    def length_ms(self) -> int:
        """From the first push's minute to the end of the last push's, in whole minutes: how far
        the clock moves from one lap of the recording to the next."""
        span = max(self.stamps) + 1 - self.first_bucket
        return max(1, -(-span // MINUTE_MS)) * MINUTE_MS


def load_tape(path: Path) -> Tape:
    """Read ``path`` (a recording) into a ``Tape``; ``ValueError`` if it has no data pushes."""
    with RecordingReader(path) as reader:
        dialect = dialect_of(reader.header.venue)
        tape = Tape(reader.header, dialect)
        blob = tape.blob
        last: dict[tuple[str, int, int], tuple[dict[str, Any], int]] = {}
        backfilled: list[Bar] = []
        interned: dict[Route, Route] = {}
        previous = 0
        for item in reader:
            if isinstance(item, Backfill) and item.body is not None:
                backfilled += _backfill_bars(item.body, reader.header)
                continue
            if not isinstance(item, Frame):
                continue
            raw = item.raw.encode() if isinstance(item.raw, str) else item.raw
            push = _push(raw, dialect)
            if push is None:
                tape.skipped += 1
                continue
            route = interned.setdefault(push.route, push.route)
            previous = max(previous, item.t)  # a stepped-back wall clock must not reorder
            tape.times.append(previous)
            tape.stamps.append(push.ts)
            tape.routes.append(route)
            blob += raw
            tape.offsets.append(len(blob))
            if push.kline_ms:
                last[(route[1], push.kline_ms, push.bucket)] = (push.data, item.t)
    if not tape.times:
        raise ValueError(f"{path}: no data pushes to serve")
    tape.symbols = frozenset(symbol for _, symbol in interned if symbol)
    _collect_bars(tape, last, backfilled)
    return tape


def _push(raw: bytes, dialect: Dialect) -> Push | None:
    try:
        frame = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return None
    return dialect.push_of(frame) if type(frame) is dict else None


def _backfill_bars(body: str, header: Header) -> list[Bar]:
    venue = venues.get(header.venue)
    interval_ms = venue.intervals.get(header.interval)
    if interval_ms is None:
        return []
    try:
        return venue.parse_klines(body, header.symbol, interval_ms)
    except (MalformedMessage, venues.RestError):
        return []


def _collect_bars(
    tape: Tape,
    last: dict[tuple[str, int, int], tuple[dict[str, Any], int]],
    backfilled: list[Bar],
) -> None:
    first = tape.first_bucket
    end = first + tape.length_ms
    recorded: dict[BarKey, dict[int, RecordedBar]] = {}
    for (symbol, interval_ms, bucket), (data, t) in last.items():
        bar = tape.dialect.bar_of(symbol, interval_ms, bucket, data)
        if bar is not None:
            available = max(t, bucket + interval_ms)
            recorded.setdefault((symbol, interval_ms), {})[bucket] = RecordedBar(bar, available)
    history: dict[BarKey, dict[int, Bar]] = {}
    for bar in backfilled:
        key = (bar.symbol, bar.interval_ms)
        if bar.open_time < first:
            history.setdefault(key, {})[bar.open_time] = bar
        elif bar.close_time <= end:  # a gap the session backfilled: fill it the same way
            buckets = recorded.setdefault(key, {})
            buckets.setdefault(bar.open_time, RecordedBar(bar, bar.close_time))
    tape.bars = {key: [b[t] for t in sorted(b)] for key, b in recorded.items()}
    tape.history = {key: [b[t] for t in sorted(b)] for key, b in history.items()}
