"""Hypothesis against the decoders: whatever arrives, the only exception is MalformedMessage
(RestError for a REST error code), and what does decode goes through MarketDecoder cleanly."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trio_paper.codec import MalformedMessage
from trio_paper.model import Bar
from trio_paper.venues.bitunix import rest as bitunix_rest
from trio_paper.venues.bitunix import ws as bitunix
from trio_paper.venues.decoder import MarketDecoder

FRAMES = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "bitunix" / "frames.jsonl"


def _real_frames() -> list[Any]:
    if not FRAMES.exists():  # the shared_data fixture reports it; collection must not crash
        return [{"op": "connect", "data": {"result": True}}]
    lines = FRAMES.read_text(encoding="utf-8").splitlines()
    return [json.loads(json.loads(line)["raw"]) for line in lines if '"dir":"in"' in line]


REAL = _real_frames()
REST = [
    json.loads(
        '{"code":0,"data":[{"open":60000,"high":60001,"close":60000,"low":59989.2,'
        '"time":1775541360000,"quoteVol":"1","baseVol":"60000","type":"LAST_PRICE"}],'
        '"msg":"Success"}'
    ),
    json.loads(
        bitunix_rest.klines_body(
            bitunix_rest.parse_klines(
                '{"code":0,"msg":"","data":[{"open":"1","high":"2","low":"0.5","close":"1.5",'
                '"time":60000,"quoteVol":"3","baseVol":"4"}]}',
                "BTCUSDT",
                60_000,
            )
        )
    ),
    {"code": 20015, "data": None, "msg": "this Futures is not allowed to trade."},
]

numberish = st.one_of(
    st.decimals().map(str),
    st.from_regex(r"-?[0-9]{1,4}(\.[0-9]{0,4})?([eE][-+]?[0-9]{1,8})?", fullmatch=True),
    st.sampled_from(["", " 1", "1_0", "NaN", "-0", "١", "²", "1e999999999", "0E-999999999"]),
)
timeish = st.one_of(
    st.datetimes().map(lambda d: d.isoformat()),
    st.sampled_from(
        ["2026-09-23T00:00:00Z", "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00"]
    ),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.text(max_size=8),
    numberish,
    timeish,
    st.sampled_from(["buy", "sell", "market_kline_1min", "depth_book1", "trade", "price"]),
)
json_values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=4), inner, max_size=4)
    ),
    max_leaves=12,
)


@st.composite
def mutated(draw: st.DrawFn, originals: list[Any]) -> Any:
    """A real frame with 1-4 edits at random depths: a value replaced, a key dropped, a key or
    item added, or a value nested one level deeper."""
    frame = json.loads(json.dumps(draw(st.sampled_from(originals))))
    for _ in range(draw(st.integers(1, 4))):
        node = frame
        while True:
            children = (
                list(node.items()) if isinstance(node, dict)
                else list(enumerate(node)) if isinstance(node, list) else []
            )  # fmt: skip
            containers = [child for _, child in children if isinstance(child, dict | list)]
            if not containers or draw(st.booleans()):
                break
            node = draw(st.sampled_from(containers))
        if not isinstance(node, dict | list):
            continue
        keys: list[Any] = list(node) if isinstance(node, dict) else list(range(len(node)))
        action = draw(st.sampled_from(["set", "drop", "add", "nest"]))
        if action == "add" or not keys:
            if isinstance(node, dict):
                node[draw(st.text(max_size=3))] = draw(json_values)
            else:
                node.append(draw(json_values))
            continue
        key = draw(st.sampled_from(keys))
        if action == "set":
            node[key] = draw(json_values)
        elif action == "drop":
            del node[key]
        else:
            node[key] = draw(st.sampled_from([[node[key]], {"x": node[key]}]))
    return frame


def _decode(raw: str | bytes) -> None:
    """parse_frame, then MarketDecoder and its clock: only MalformedMessage may come out."""
    error: MalformedMessage | None = None
    try:
        parsed = bitunix.parse_frame(raw)
    except MalformedMessage as exc:
        error = exc
    if error is not None:  # a reason, at a JSON path
        assert error.reason
        assert error.where.startswith("$")
        return
    decoder = MarketDecoder.create("BTCUSDT", 60_000, 2_000)
    decoder.on_frame(1_790_126_515_000, parsed)
    decoder.on_frame(1_790_126_575_000, parsed)
    decoder.on_clock(1_790_126_999_000)


def _klines(raw: str | bytes) -> None:
    try:
        bars = bitunix_rest.parse_klines(raw, "BTCUSDT", 60_000)
    except (MalformedMessage, bitunix_rest.RestError):
        return
    assert all(isinstance(bar, Bar) for bar in bars)
    MarketDecoder.create("BTCUSDT", 60_000, 2_000).on_backfill(2**62, bars)


FUZZ = settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)


@FUZZ
@given(st.text())
def test_arbitrary_text(raw: str) -> None:
    _decode(raw)


@FUZZ
@given(st.binary())
def test_arbitrary_bytes(raw: bytes) -> None:
    _decode(raw)


@FUZZ
@given(json_values)
def test_arbitrary_json(value: Any) -> None:
    _decode(json.dumps(value))
    _decode(json.dumps(value).encode())


@settings(FUZZ, max_examples=1000)
@given(mutated(REAL))
def test_mutated_real_frames(frame: Any) -> None:
    _decode(json.dumps(frame))


@pytest.mark.parametrize("frame", REAL)
def test_real_frames_with_each_value_replaced(frame: Any) -> None:
    """Systematically: every leaf of every real frame replaced by each awkward value."""
    awkward: list[Any] = [None, True, 1, 1.5, -1, 2**64, "", "x", "1e999999999", [], {}]

    def leaves(node: Any, path: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        if isinstance(node, dict):
            return [p for k, v in node.items() for p in leaves(v, (*path, k))]
        if isinstance(node, list):
            return [p for i, v in enumerate(node) for p in leaves(v, (*path, i))]
        return [path]

    for path in leaves(frame, ()):
        for value in awkward:
            copy = json.loads(json.dumps(frame))
            node = copy
            for key in path[:-1]:
                node = node[key]
            node[path[-1]] = value
            _decode(json.dumps(copy))


@FUZZ
@given(json_values)
def test_rest_klines_arbitrary_json(value: Any) -> None:
    _klines(json.dumps(value))


@FUZZ
@given(st.one_of(st.text(), st.binary()))
def test_rest_klines_arbitrary_text(raw: str | bytes) -> None:
    _klines(raw)


@settings(FUZZ, max_examples=500)
@given(mutated(REST))
def test_rest_klines_mutated(body: Any) -> None:
    _klines(json.dumps(body))
