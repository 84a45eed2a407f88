"""What a session feeds its core, one item at a time, and how each item is written as a line.

An item is a frame received from the venue (verbatim, with its receive time) or a control
event of the session itself (connected, disconnected, stale, a timer tick, a backfill...). The
live session records every item before the core sees it; a replay reads them back. The core is
a function of these items alone, which is what makes a replay byte-identical.
"""

from __future__ import annotations

import base64
from typing import Any, ClassVar

import attrs

from .codec import MalformedMessage, converter, dumps, structure
from .model import Bar, Parsed, Settlement


@attrs.frozen
class Frame:
    """A frame as received: text, or bytes for a binary frame (written as base64).

    ``parsed`` is what the live feed's venue client already made of ``raw`` (its events, or the
    ``MalformedMessage`` it raised), so the core does not parse a live frame twice. It is never
    recorded: a replay parses ``raw`` again and gets the same.
    """

    seq: int
    t: int
    raw: str | bytes
    parsed: Parsed | MalformedMessage | None = attrs.field(default=None, eq=False, repr=False)
    fields: str | None = attrs.field(default=None, eq=False, repr=False)
    """What a replay's reader already cut from ``raw`` (``Venue.split``: the first half of the
    venue's fast path; empty where it cut nothing). Never recorded either."""


@attrs.frozen
class ClosedBars:
    """Consecutive bars read from a candle file, each at its close time: the input of a
    bars-only backtest, a run at a time (a year is half a million bars), with the funding
    settlements due by each (``replay --funding``).

    Bar ``i`` is input ``first_seq + i``; ``seq`` and ``t`` are the last bar's, so a checkpoint
    after this input covers them all. Never recorded (the candle file is the recording)."""

    first_seq: int
    bars: tuple[Bar, ...]
    settlements: tuple[tuple[Settlement, ...], ...]
    """One tuple per bar (mostly empty)."""

    @property
    def seq(self) -> int:
        return self.first_seq + len(self.bars) - 1

    @property
    def t(self) -> int:
        return self.bars[-1].close_time


@attrs.frozen
class SessionStart:
    """The first item of a session. ``resume`` is the engine state it starts from, if any."""

    KIND: ClassVar[str] = "start"
    seq: int
    t: int
    run_id: str
    resume: dict[str, Any] | None = None


# ``socket`` on the feed events below names which of a venue's sockets (``Socket.carries``) the
# event is about, where a session holds more than one (Binance: ``market`` and ``quotes``). It is
# left out of the line when empty, so a one-socket venue's recordings read as they always have.


@attrs.frozen
class FeedConnected:
    KIND: ClassVar[str] = "connected"
    seq: int
    t: int
    url: str
    socket: str = ""


@attrs.frozen
class FeedDisconnected:
    KIND: ClassVar[str] = "disconnected"
    seq: int
    t: int
    reason: str
    socket: str = ""


@attrs.frozen
class FeedStale:
    """The watchdog fired: no market frame for ``silent_ms``."""

    KIND: ClassVar[str] = "stale"
    seq: int
    t: int
    silent_ms: int
    socket: str = ""


@attrs.frozen
class Tick:
    """The session's clock; closes bars and ages quotes when no frame arrives."""

    KIND: ClassVar[str] = "tick"
    seq: int
    t: int


@attrs.frozen
class Subscribed:
    KIND: ClassVar[str] = "subscribed"
    seq: int
    t: int
    channels: list[str]
    socket: str = ""


@attrs.frozen
class Backfill:
    """A REST kline fetch for ``[start, end)``: the raw response body, or why there is none."""

    KIND: ClassVar[str] = "backfill"
    seq: int
    t: int
    reason: str
    start: int
    end: int
    body: str | None = None
    error: str | None = None


@attrs.frozen
class StopRequested:
    KIND: ClassVar[str] = "stop"
    seq: int
    t: int
    reason: str


@attrs.frozen
class KillSwitch:
    """Cancel, flatten, stop: from the kill file in ``state/`` or a signal."""

    KIND: ClassVar[str] = "kill"
    seq: int
    t: int
    source: str


Control = (
    SessionStart
    | FeedConnected
    | FeedDisconnected
    | FeedStale
    | Tick
    | Subscribed
    | Backfill
    | StopRequested
    | KillSwitch
)
Item = Frame | Control
"""What a session records."""
Input = Item | ClosedBars
"""What the core takes: a recorded item, or bars of a candle file."""

CONTROLS: dict[str, type[Control]] = {
    cls.KIND: cls
    for cls in (
        SessionStart,
        FeedConnected,
        FeedDisconnected,
        FeedStale,
        Tick,
        Subscribed,
        Backfill,
        StopRequested,
        KillSwitch,
    )
}


def encode(item: Item) -> bytes:
    """One item → one line (without the newline). Key order is fixed, so bytes are stable."""
    if isinstance(item, Frame):
        if isinstance(item.raw, bytes):
            b64 = base64.b64encode(item.raw).decode()
            return dumps({"seq": item.seq, "t": item.t, "frame_b64": b64})
        return dumps({"seq": item.seq, "t": item.t, "frame": item.raw})
    fields = converter.unstructure(item)
    if fields.get("socket") == "":
        del fields["socket"]  # a one-socket venue's: see above FeedConnected
    return dumps({"seq": fields.pop("seq"), "t": fields.pop("t"), "control": item.KIND, **fields})


def decode(line: dict[str, Any], where: str) -> Item:
    """One parsed line → its item; anything off-schema is a ``MalformedMessage`` at ``where``."""
    seq = line.get("seq")
    t = line.get("t")
    if type(seq) is not int or type(t) is not int:
        raise MalformedMessage("seq and t must be integers", where)
    raw = line.get("frame")
    if type(raw) is str and len(line) == 3:
        return Frame(seq, t, raw)
    b64 = line.get("frame_b64")
    if type(b64) is str and len(line) == 3:
        try:
            return Frame(seq, t, base64.b64decode(b64, validate=True))
        except ValueError:
            raise MalformedMessage("frame_b64 is not base64", where) from None
    kind = line.get("control")
    cls = CONTROLS.get(kind) if type(kind) is str else None
    if cls is None:
        raise MalformedMessage(f"neither a frame nor a known control event: {kind!r}", where)
    fields = {k: v for k, v in line.items() if k != "control"}
    return structure(fields, cls, where)
