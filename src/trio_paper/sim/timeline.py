"""The simulator's one clock: which push is due when, re-timed so the exchange looks live.

Exchange time runs at ``speed`` times ``trio.current_time()`` from an origin: the wall clock at
start when aligned, else the recording's first receive time. Aligned, every timestamp is
shifted by whole minutes so that the recording's first minute becomes the current one, and
playback starts at the first push whose shifted ``ts`` is not in the past: bars keep the
boundaries of the candles they came from. Looping, each lap adds the recording's length in whole
minutes to the shift, so time only moves forward.
"""

from __future__ import annotations

import math
from bisect import bisect_left
from typing import Any

import attrs
import orjson
import trio

from ..model import Bar
from ..times import MINUTE_MS
from .tape import BarKey, Tape

Position = tuple[int, int]
"""``(lap, index)``: a push of the tape in a given lap."""


class Timeline:
    """Maps the tape onto exchange time and exchange time onto ``trio.current_time()``."""

    def __init__(
        self, tape: Tape, *, speed: float, loop: bool, align: bool, wall_ms: int, trio_now: float
    ) -> None:
        if not speed > 0:
            raise ValueError(f"speed must be > 0, not {speed}")
        self.tape = tape
        self.speed = speed
        self.loop = loop
        self.lap_ms = tape.length_ms
        self.t0 = trio_now
        if align:
            self.origin = wall_ms
            self.shift = wall_ms // MINUTE_MS * MINUTE_MS - tape.first_bucket
            stamps = tape.stamps
            self.start = next(
                (i for i in range(len(stamps)) if stamps[i] + self.shift >= wall_ms), len(tape)
            )
        else:
            self.origin = tape.times[0]
            self.shift = 0
            self.start = 0

    def now_ms(self) -> int:
        """Exchange time now, in ms."""
        return self.origin + math.floor((trio.current_time() - self.t0) * 1000 * self.speed)

    def trio_time(self, exchange_ms: int) -> float:
        """When, on trio's clock, the exchange clock reads ``exchange_ms``."""
        return self.t0 + (exchange_ms - self.origin) / 1000 / self.speed

    def lap_shift(self, lap: int) -> int:
        """What is added to the recording's times in ``lap`` (a multiple of a minute)."""
        return self.shift + lap * self.lap_ms

    def due(self, position: Position) -> int:
        """The exchange time at which a push is sent: its receive time, shifted."""
        lap, index = position
        return self.tape.times[index] + self.lap_shift(lap)

    def first_at(self, exchange_ms: int) -> Position | None:
        """The first push due at or after ``exchange_ms``; None when the recording has ended."""
        times = self.tape.times
        lap = max(0, (exchange_ms - self.shift - times[0]) // self.lap_ms) if self.loop else 0
        while True:
            index = bisect_left(times, exchange_ms - self.lap_shift(lap))
            if lap == 0:
                index = max(index, self.start)
            if index < len(times):
                return lap, index
            if not self.loop:
                return None
            lap += 1

    def after(self, position: Position) -> Position | None:
        lap, index = position
        if index + 1 < len(self.tape):
            return lap, index + 1
        return (lap + 1, 0) if self.loop else None

    def push(self, position: Position) -> dict[str, Any]:
        """The push at ``position``, parsed, with its times shifted: ready to encode."""
        lap, index = position
        frame: dict[str, Any] = orjson.loads(self.tape.raw(index))
        self.tape.dialect.shift(frame, self.lap_shift(lap))
        return frame

    def closed_bars(self, key: BarKey, start: int, end: int, limit: int) -> list[Bar]:
        """Up to ``limit`` of the newest bars with ``start <= open time < end`` that are closed
        by now: backfilled history, then each bucket once its last push has been due. Oldest
        first."""
        now = self.now_ms()
        newest_first: list[Bar] = []
        recorded = self.tape.bars.get(key, [])
        top = max(0, (now - self.shift - self.tape.first_bucket) // self.lap_ms) if self.loop else 0
        for lap in range(top, -1, -1):
            shift = self.lap_shift(lap)
            for item in reversed(recorded):
                if item.available + shift > now:
                    continue
                open_time = item.bar.open_time + shift
                if open_time >= end:
                    continue
                if open_time < start or len(newest_first) == limit:
                    return newest_first[::-1]
                newest_first.append(attrs.evolve(item.bar, open_time=open_time))
        for bar in reversed(self.tape.history.get(key, [])):
            open_time = bar.open_time + self.shift
            if open_time >= end:
                continue
            if open_time < start or len(newest_first) == limit:
                break
            newest_first.append(attrs.evolve(bar, open_time=open_time))
        return newest_first[::-1]
