"""Hypothesis against the Binance decoders: whatever arrives, the only exception is
MalformedMessage (RestError for an error body), and what decodes goes through MarketDecoder."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.venues.binance_usdm.binance_frames import docs, real_samples, recorded
from trio_paper.codec import MalformedMessage
from trio_paper.model import Bar
from trio_paper.venues.binance_usdm import rest, ws
from trio_paper.venues.decoder import MarketDecoder
from trio_paper.venues.venue import RestError


def _one_of_each_stream() -> list[Any]:
    """The first frame of every stream kind in the capture, and every sample and docs payload."""
    seen: dict[str, Any] = {}
    for raw in recorded():
        frame = json.loads(raw)
        seen.setdefault(frame["stream"].split("@", 1)[1], frame)
    return [*seen.values(), *real_samples(), *docs()] or [{"result": None, "id": 1}]


REAL = _one_of_each_stream()
KLINES = [
    [[1751328000000, "1", "2", "0.5", "1.5", "3", 1751328059999, "4", 5, "1", "2", "0"]],
    {"code": -1121, "msg": "Invalid symbol."},
]

numberish = st.one_of(
    st.decimals(allow_nan=False).map(str),
    st.from_regex(r"-?[0-9]{1,4}(\.[0-9]{0,4})?([eE][-+]?[0-9]{1,8})?", fullmatch=True),
    st.sampled_from(["", " 1", "1_0", "NaN", "-0", "١", "²", "1e999999999", "0E-999999999"]),
)
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.integers(-(2**70), 2**70),
    st.floats(),
    st.text(max_size=8),
    numberish,
    st.sampled_from(["kline", "bookTicker", "btcusdt@kline_1m", "btcusdt@bookTicker", "1m"]),
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
    """A real frame with 1-4 edits at random depths: a value replaced, a key dropped or added."""
    frame = json.loads(json.dumps(draw(st.sampled_from(originals))))
    for _ in range(draw(st.integers(1, 4))):
        node = frame
        while True:
            children = list(node.values()) if isinstance(node, dict) else (
                list(node) if isinstance(node, list) else []
            )  # fmt: skip
            containers = [child for child in children if isinstance(child, dict | list)]
            if not containers or draw(st.booleans()):
                break
            node = draw(st.sampled_from(containers))
        if isinstance(node, dict):
            action = draw(st.sampled_from(["set", "drop", "add"]))
            if action == "add" or not node:
                node[draw(st.text(max_size=3))] = draw(json_values)
            else:
                key = draw(st.sampled_from(list(node)))
                if action == "set":
                    node[key] = draw(json_values)
                else:
                    del node[key]
        elif isinstance(node, list) and node:
            node[draw(st.integers(0, len(node) - 1))] = draw(json_values)
    return frame


def _decode(raw: str | bytes) -> None:
    """parse_frame, then MarketDecoder and its clock: only MalformedMessage may come out."""
    error: MalformedMessage | None = None
    try:
        parsed = ws.parse_frame(raw)
    except MalformedMessage as exc:
        error = exc
    if error is not None:  # a reason, at a JSON path
        assert error.reason
        assert error.where.startswith("$")
        return
    decoder = MarketDecoder.create("BTCUSDT", 60_000, 2_000)
    decoder.on_frame(1_751_328_000_000, parsed)
    decoder.on_frame(1_751_328_060_000, parsed)
    decoder.on_clock(1_751_328_999_000)


def _klines(raw: str | bytes) -> None:
    error: MalformedMessage | None = None
    try:
        bars = rest.parse_klines(raw, "BTCUSDT", 60_000)
    except MalformedMessage as exc:
        error = exc
    except RestError:
        return
    if error is not None:
        assert error.where.startswith("$")
        return
    assert all(isinstance(bar, Bar) for bar in bars)
    MarketDecoder.create("BTCUSDT", 60_000, 2_000).on_backfill(2**62, bars)


FUZZ = settings(max_examples=300, suppress_health_check=[HealthCheck.too_slow], deadline=None)


@FUZZ
@given(st.one_of(st.text(), st.binary()))
def test_arbitrary_text_and_bytes(raw: str | bytes) -> None:
    _decode(raw)


@FUZZ
@given(json_values)
def test_arbitrary_json(value: Any) -> None:
    _decode(json.dumps(value))


@settings(FUZZ, max_examples=1000)
@given(mutated(REAL))
def test_mutated_real_frames(frame: Any) -> None:
    _decode(json.dumps(frame))


@pytest.mark.parametrize("frame", REAL)
def test_real_frames_with_each_value_replaced(frame: Any) -> None:
    """Systematically: every leaf of every kind of real frame replaced by each awkward value."""
    awkward: list[Any] = [None, True, 1, 1.5, -1, 2**64, "", "x", "0", "1e999999999", [], {}]

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
@given(st.one_of(json_values, mutated(KLINES)))
def test_rest_klines_arbitrary_json(value: Any) -> None:
    _klines(json.dumps(value))


@FUZZ
@given(st.one_of(st.text(), st.binary()))
def test_rest_klines_arbitrary_text(raw: str | bytes) -> None:
    _klines(raw)
