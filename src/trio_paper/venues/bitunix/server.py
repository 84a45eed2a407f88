"""The frames the simulated exchange writes itself, and the broken ones its faults send.

The control frames copy ``shared/data/bitunix/PROTOCOL.md`` byte for byte in shape.
"""

from __future__ import annotations

import copy
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Any

from ...codec import dumps
from . import ws as bitunix

CONNECT = '{"op":"connect","data":{"result":true}}'

_DEPTH_CHANNELS = frozenset({"depth_books", "depth_book1", "depth_book5", "depth_book15"})
_PLAIN_CHANNELS = _DEPTH_CHANNELS | {"trade", "ticker", "tickers", "price"}
_KLINE_INTERVALS = frozenset(bitunix.INTERVALS) | {"1month"}

GARBAGE: tuple[str | bytes, ...] = (
    '{"ch":"market_kline_1min","symbol":"BTCUSDT","ts":17',
    b"\xff\xfe\xc3\x28 not UTF-8 \x80",
)
"""Text that is cut-off JSON, and a binary frame that is not UTF-8, in turn."""

EXTRA_FIELD = "sim_extra"


def is_channel(ch: str) -> bool:
    """A Bitunix public channel name (``market_kline_1m`` is not one)."""
    for prefix in ("market_kline_", "mark_kline_"):
        if ch.startswith(prefix):
            return ch.removeprefix(prefix) in _KLINE_INTERVALS
    return ch in _PLAIN_CHANNELS


def pong(echo: object, opened_s: int) -> str:
    """The answer to ``{"op":"ping","ping":S}``: ``S`` back, and the second the socket opened."""
    return dumps({"op": "ping", "pong": echo, "ping": opened_s}).decode()


def unsubscribe_ack(ts: int) -> str:
    return dumps({"op": "unsubscribe", "ts": ts, "data": "success"}).decode()


def refusal(limit: int) -> str:
    """What a subscribe past the channel limit gets (the first ``limit`` keep streaming)."""
    data = {"msg": f"subscribe channel > {limit}", "nonce": "", "result": False}
    return dumps({"op": "subscribe", "data": data}).decode()


def empty_depth(ch: str, symbol: str, ts: int) -> str:
    """The one frame an unknown symbol gets: a depth frame of empty levels."""
    channel = ch if ch in _DEPTH_CHANNELS else "depth_book1"
    data = {"b": [["", ""]], "a": [["", ""]]}
    return dumps({"ch": channel, "symbol": symbol, "ts": ts, "data": data}).decode()


def garbage(count: int) -> list[str | bytes]:
    return [GARBAGE[i % len(GARBAGE)] for i in range(count)]


def invalid_copy(push: dict[str, Any], variant: int) -> dict[str, Any]:
    """A copy of ``push`` that breaks the schema: variant 0 turns the first price or size into
    a JSON number, variant 1 deletes a key."""
    broken = copy.deepcopy(push)
    if variant % 2 == 0 and _numberize(broken, "data"):
        return broken
    data = broken.get("data")
    if type(data) is dict and data:
        del data[next(iter(data))]
    else:
        del broken["ts"]
    return broken


ABSURD_VALUES: dict[str, list[tuple[str, ...]]] = {
    "depth_book1": [("a", "0", "0", "1e30"), ("b", "0", "0", "1e-20")],
    "price": [("fr", "500"), ("mp", "1e30")],
    "trade": [("0", "p", "1e30")],
}
"""Where an absurd value goes in a push of each channel, in turn: a path under ``data``, then
the value. Kline pushes get a high and close of 1e30 (consistent OHLC, still absurd)."""


def absurd_copy(push: dict[str, Any], variant: int) -> dict[str, Any]:
    """A copy of ``push`` with a schema-valid value no exchange can mean (the sanity bounds'
    business, not the schema's)."""
    absurd = copy.deepcopy(push)
    data = absurd.get("data")
    ch = str(absurd.get("ch", ""))
    if ch.startswith("market_kline_") and type(data) is dict:
        data["h"] = data["c"] = "1e30"
        return absurd
    paths = ABSURD_VALUES.get(ch)
    if not paths or data is None:
        absurd["ts"] = 2**63 - 1
        return absurd
    *path, value = paths[variant % len(paths)]
    node: Any = data
    for step in path[:-1]:
        node = node[int(step)] if type(node) is list else node[step]
    key: Any = int(path[-1]) if type(node) is list else path[-1]
    node[key] = value
    return absurd


def future_copy(push: dict[str, Any], variant: int) -> dict[str, Any]:
    """A copy of ``push`` stamped far in the future: ``ts`` of 2**63-1, then 2**62."""
    future = copy.deepcopy(push)
    future["ts"] = 2**63 - 1 if variant % 2 == 0 else 2**62
    return future


def extra_copy(push: dict[str, Any]) -> dict[str, Any]:
    """A copy of a kline push with a data field Bitunix does not send."""
    extended = copy.deepcopy(push)
    if type(extended.get("data")) is dict:
        extended["data"][EXTRA_FIELD] = "1"
    else:
        extended[EXTRA_FIELD] = "1"
    return extended


def _numberize(parent: Any, key: Any) -> bool:
    """Replace the first decimal string under ``parent[key]`` with a number; True if done."""
    value = parent[key]
    if type(value) is str:
        try:
            number = Decimal(value)
        except InvalidOperation:
            return False
        if not number.is_finite():
            return False
        parent[key] = int(number) if number == number.to_integral_value() else float(number)
        return True
    if type(value) is dict:
        return any(_numberize(value, k) for k in value)
    if type(value) is list:
        return any(_numberize(value, i) for i in range(len(value)))
    return False


def shift_push(frame: dict[str, Any], shift: int) -> None:
    """Move a push ``shift`` ms in time: its ``ts``, and the ISO times in ``price`` (``ft``,
    ``nft``) and ``trade`` (``t``) data."""
    if not shift:
        return
    frame["ts"] += shift
    ch = frame["ch"]
    data = frame.get("data")
    if ch == "price" and type(data) is dict:
        for key in ("ft", "nft"):
            if type(data.get(key)) is str:
                data[key] = _shift_iso(data[key], shift)
    elif ch == "trade" and type(data) is list:
        for trade in data:
            if type(trade) is dict and type(trade.get("t")) is str:
                trade["t"] = _shift_iso(trade["t"], shift)


@lru_cache(maxsize=256)
def _shift_iso(text: str, shift: int) -> str:
    """An ISO-8601 time moved by ``shift`` ms, written as it was (``Z``, with or without ms)."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return text
    if moment.tzinfo is None:
        return text
    moved = (moment + timedelta(milliseconds=shift)).astimezone(UTC)
    spec = "milliseconds" if "." in text else "seconds"
    return moved.replace(tzinfo=None).isoformat(timespec=spec) + "Z"
