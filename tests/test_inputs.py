"""Recording items and their one-line encoding: exact bytes, round trips, and a strict decoder
that refuses anything off-schema with a MalformedMessage at the line."""

from __future__ import annotations

import json
from typing import Any

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from trio_paper.codec import MalformedMessage
from trio_paper.inputs import (
    CONTROLS,
    Backfill,
    FeedConnected,
    FeedDisconnected,
    FeedStale,
    Frame,
    Item,
    KillSwitch,
    SessionStart,
    StopRequested,
    Subscribed,
    Tick,
    decode,
    encode,
)

# Each item and its line, written out by hand.
LINES: list[tuple[Item, bytes]] = [
    (
        Frame(1, 1746707340206, '{"op":"connect","data":{"result":true}}'),
        rb'{"seq":1,"t":1746707340206,"frame":"{\"op\":\"connect\",\"data\":{\"result\":true}}"}',
    ),
    (Frame(2, 5, b"\x00\xff"), b'{"seq":2,"t":5,"frame_b64":"AP8="}'),
    (Frame(2, 5, "€"), '{"seq":2,"t":5,"frame":"€"}'.encode()),
    (
        SessionStart(1, 10, "from-candles"),
        b'{"seq":1,"t":10,"control":"start","run_id":"from-candles","resume":null}',
    ),
    (
        SessionStart(1, 10, "r", {"cash": "1.5", "n": [1]}),
        b'{"seq":1,"t":10,"control":"start","run_id":"r","resume":{"cash":"1.5","n":[1]}}',
    ),
    (
        FeedConnected(2, 10, "wss://fapi.bitunix.com/public/"),
        b'{"seq":2,"t":10,"control":"connected","url":"wss://fapi.bitunix.com/public/"}',
    ),
    (
        FeedDisconnected(3, 11, "closed 1006"),
        b'{"seq":3,"t":11,"control":"disconnected","reason":"closed 1006"}',
    ),
    (FeedStale(4, 12, 10_000), b'{"seq":4,"t":12,"control":"stale","silent_ms":10000}'),
    (Tick(5, 13), b'{"seq":5,"t":13,"control":"tick"}'),
    (
        Subscribed(6, 14, ["market_kline_1min", "price"]),
        b'{"seq":6,"t":14,"control":"subscribed","channels":["market_kline_1min","price"]}',
    ),
    (
        Backfill(7, 15, "gap", 0, 60_000, body='{"code":0}'),
        b'{"seq":7,"t":15,"control":"backfill","reason":"gap","start":0,"end":60000,'
        rb'"body":"{\"code\":0}","error":null}',
    ),
    (
        Backfill(7, 15, "warmup", 0, 60_000, error="timeout"),
        b'{"seq":7,"t":15,"control":"backfill","reason":"warmup","start":0,"end":60000,'
        b'"body":null,"error":"timeout"}',
    ),
    (StopRequested(8, 16, "signal"), b'{"seq":8,"t":16,"control":"stop","reason":"signal"}'),
    (KillSwitch(9, 17, "kill file"), b'{"seq":9,"t":17,"control":"kill","source":"kill file"}'),
]


@pytest.mark.parametrize(("item", "line"), LINES)
def test_each_item_encodes_to_its_line_and_back(item: Item, line: bytes) -> None:
    assert encode(item) == line
    assert decode(orjson.loads(line), "rec.jsonl:2") == item


def test_every_control_kind_is_in_the_table_above() -> None:
    kinds = {type(item).KIND for item, _ in LINES if not isinstance(item, Frame)}
    assert kinds == set(CONTROLS)
    assert {cls.KIND for cls in CONTROLS.values()} == set(CONTROLS)


@pytest.mark.parametrize(
    ("line", "where", "reason"),
    [
        ({"seq": "1", "t": 1, "frame": "x"}, "r:3", "seq and t must be integers"),
        ({"seq": 1, "t": True, "frame": "x"}, "r:3", "seq and t must be integers"),
        ({"seq": 1, "frame": "x"}, "r:3", "seq and t must be integers"),
        ({"seq": 1, "t": 1.0, "control": "tick"}, "r:3", "seq and t must be integers"),
        ({"seq": 1, "t": 1, "frame": "x", "z": 1}, "r:3", "neither a frame nor"),
        ({"seq": 1, "t": 1, "frame": 5}, "r:3", "neither a frame nor"),
        ({"seq": 1, "t": 1, "frame_b64": "AP8"}, "r:3", "frame_b64 is not base64"),
        ({"seq": 1, "t": 1, "frame_b64": "A P8="}, "r:3", "frame_b64 is not base64"),
        ({"seq": 1, "t": 1, "control": "pause"}, "r:3", "known control event: 'pause'"),
        ({"seq": 1, "t": 1, "control": ["tick"]}, "r:3", "known control event"),
        ({"seq": 1, "t": 1, "control": "stale"}, "r:3.silent_ms", "required key missing"),
        ({"seq": 1, "t": 1, "control": "tick", "x": 1}, "r:3.x", "unknown key"),
        ({"seq": 1, "t": 1, "control": "stale", "silent_ms": "9"}, "r:3.silent_ms", "expected int"),
        ({"seq": 1, "t": 1, "control": "subscribed", "channels": "a"}, "r:3.channels", "a list"),
        (
            {"seq": 1, "t": 1, "control": "start", "run_id": "r", "resume": []},
            "r:3.resume",
            "expected an object, got a list of 0",
        ),
    ],
)
def test_off_schema_lines_are_refused_at_their_line(
    line: dict[str, Any], where: str, reason: str
) -> None:
    with pytest.raises(MalformedMessage) as info:
        decode(line, "r:3")
    assert info.value.where == where
    assert reason in info.value.reason


item_strategy = st.one_of(
    st.builds(Frame, st.integers(1, 2**40), st.integers(0, 2**50), st.text() | st.binary()),
    st.builds(Tick, st.integers(1, 2**63 - 1), st.integers(0, 2**63 - 1)),
    st.builds(
        FeedStale, st.integers(1, 2**63 - 1), st.integers(0, 2**63 - 1), st.integers(0, 2**63 - 1)
    ),
    st.builds(FeedDisconnected, st.integers(1, 2**63 - 1), st.integers(0, 2**63 - 1), st.text()),
    st.builds(
        Subscribed, st.integers(1, 2**63 - 1), st.integers(0, 2**63 - 1), st.lists(st.text())
    ),
    st.builds(
        Backfill,
        st.integers(1, 2**63 - 1),
        st.integers(0, 2**63 - 1),
        st.text(),
        st.integers(0, 2**50),
        st.integers(0, 2**50),
        st.none() | st.text(),
        st.none() | st.text(),
    ),
)


@given(item_strategy)
def test_any_item_round_trips(item: Item) -> None:
    """Encoding is lossless for every kind, text and binary frames alike; the line is one
    line of valid JSON."""
    try:
        line = encode(item)
    except TypeError:  # lone surrogates cannot be UTF-8: a received frame never has them
        return
    assert b"\n" not in line
    assert decode(orjson.loads(line), "x") == item


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=6),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner),
    max_leaves=8,
)


def _as_read(obj: dict[str, Any]) -> dict[str, Any]:
    """``obj`` as the reader would see it: written as JSON text, parsed back by orjson."""
    parsed: dict[str, Any] = orjson.loads(json.dumps(obj, allow_nan=False))
    return parsed


KEYS = ["seq", "t", "frame", "frame_b64", "control", "reason", "url", "silent_ms", "channels"]
KEYS += ["run_id", "resume", "start", "end", "body", "error", "source"]


@settings(max_examples=250)
@given(
    st.dictionaries(
        st.sampled_from(KEYS) | st.text(max_size=3),
        st.one_of(json_values, st.sampled_from([*CONTROLS, "AP8=", 1, 2])),
    )
)
def test_arbitrary_objects_decode_or_are_malformed(line: dict[str, Any]) -> None:
    """The recording line decoder raises nothing but MalformedMessage (given what the reader
    gives it: a line parsed by orjson)."""
    try:
        item = decode(_as_read(line), "x:2")
    except MalformedMessage:
        return
    assert encode(item)  # what decoded is a complete item


@settings(max_examples=250)
@given(st.sampled_from([line for _, line in LINES]), st.data())
def test_real_lines_with_a_value_replaced_decode_or_are_malformed(
    line: bytes, data: st.DataObject
) -> None:
    obj = json.loads(line)
    key = data.draw(st.sampled_from(sorted(obj)))
    if data.draw(st.booleans()):
        obj[key] = data.draw(json_values)
    else:
        del obj[key]
    try:
        item = decode(_as_read(obj), "x:2")
    except MalformedMessage:
        return
    assert encode(item)  # a line that still decodes is a complete item
