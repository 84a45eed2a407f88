"""The hand-checked fast path of ``parse_frame`` against the strict cattrs path it shortcuts.

The rule (see ``venues/bitunix/fastpath.py``): for any push, the fast path returns exactly what
the strict path returns, or None — never an event the strict path would refuse. Compared by
``repr``, so a decimal's exact text (``3.340`` against ``3.34``) counts too. The text path
(``fastpath.push``) is held to the same rule on every push's text as Bitunix writes it
(compact), and on texts edited where a dict cannot show it: spacing, key
order, escapes, duplicate keys, number spellings.
"""

from __future__ import annotations

import json
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from trio_paper.codec import MalformedMessage, loads, loads_object, structure
from trio_paper.inputs import Frame
from trio_paper.model import Quote
from trio_paper.store.recording import RecordingReader
from trio_paper.venues.bitunix import fastpath
from trio_paper.venues.bitunix import ws as bitunix
from trio_paper.venues.sanity import Bounds

KLINE: dict[str, Any] = {
    "ch": "market_kline_1min",
    "symbol": "BTCUSDT",
    "ts": 1746662465653,
    "data": {"o": "97044.5", "c": "97050.40", "h": "97050.4", "l": "97044.5", "b": "7.7405",
             "q": "751195.91575"},
}  # fmt: skip
DEPTH: dict[str, Any] = {
    "ch": "depth_book1",
    "symbol": "BTCUSDT",
    "ts": 1746662465656,
    "data": {"b": [["97050.2", "1.2993"]], "a": [["97050.4", "3.340"]]},
}
PRICE: dict[str, Any] = {
    "ch": "price",
    "symbol": "BTCUSDT",
    "ts": 1746662465660,
    "data": {"ip": "97047.5", "mp": "97046.5", "fr": "-0.002318", "ft": "2025-05-08T00:00:00Z",
             "nft": "2025-05-08T08:00:00.000+00:00"},
}  # fmt: skip
BASES = [KLINE, DEPTH, PRICE, {**KLINE, "ch": "market_kline_15min"}]
AWKWARD: list[Any] = [
    None, True, False, 0, 1, -1, 1.5, 2**64, "", "x", "0", "-0", "-1", "0.0", "1e3", "1E-3",
    " 1", "1 ", "1_0", "NaN", "Infinity", "١", "²", "1e999999999", "1e30", "1e31", "0E-999999",
    [], {}, ["1", "1"], [["1", "1"]], "2025-05-08", "2025-05-08T00:00:00", "2025-05-08T00:00Z",
]  # fmt: skip


def _fast(frame: dict[str, Any]) -> object | None:
    ch = frame["ch"]
    if ch.startswith("market_kline_"):
        interval_ms = bitunix.INTERVALS.get(ch.rpartition("_")[2])
        return fastpath.kline(frame, interval_ms) if interval_ms else None
    if ch.startswith("depth_book"):
        return fastpath.quote(frame)
    return fastpath.mark_price(frame)


def _strict(frame: dict[str, Any]) -> object:
    """The strict path alone, as ``parse_frame`` takes it when the fast path declines."""
    ch = frame["ch"]
    if ch.startswith("market_kline_"):
        return bitunix._bar_update(structure(frame, bitunix._KlineFrame), bitunix._interval_ms(ch))
    if ch.startswith("depth_book"):
        return bitunix._quote(structure(frame, bitunix._DepthFrame))
    return bitunix._mark_price(structure(frame, bitunix._PriceFrame))


def _compact(frame: object) -> str:
    """A push's text as Bitunix writes it: no spaces, keys in order, UTF-8 as it is."""
    return json.dumps(frame, separators=(",", ":"), ensure_ascii=False)


def _agree(frame: dict[str, Any]) -> object | None:
    """Assert the rule for ``frame``, by the dict and by its compact text; return what the dict
    fast path gave."""
    fast = _fast(frame)
    text = fastpath.push(_compact(frame))
    try:
        strict = _strict(frame)
    except MalformedMessage:
        assert fast is None, f"the fast path accepted what the strict path refuses: {frame}"
        assert text is None, f"the text path accepted what the strict path refuses: {frame}"
        return None
    assert fast is None or repr(fast) == repr(strict)
    assert text is None or repr(text) == repr(strict)
    return fast


def _agree_text(raw: str) -> object | None:
    """Assert the rule for a push's text, whatever it holds; return what the text path gave."""
    text = fastpath.push(raw)
    try:
        frame = loads(raw)
        strict = _strict(frame) if type(frame) is dict and type(frame.get("ch")) is str else None
    except (MalformedMessage, KeyError):
        strict = None
    if strict is None or isinstance(strict, MalformedMessage):
        assert text is None, f"the text path accepted what the strict path refuses: {raw}"
        return None
    assert text is None or repr(text) == repr(strict), raw
    return text


@pytest.mark.parametrize("frame", BASES)
def test_plain_pushes_take_the_fast_path(frame: dict[str, Any]) -> None:
    assert _agree(frame) is not None
    raw = json.dumps(frame)
    assert repr(bitunix.parse_frame(raw).events[0]) == repr(_strict(frame))
    compact = _compact(frame)
    assert _agree_text(compact) is not None
    assert repr(bitunix.parse_frame(compact).events[0]) == repr(_strict(frame))


def test_every_push_of_the_demo_recording_takes_the_fast_path(demo_recording: Path) -> None:
    pushes = 0
    with RecordingReader(demo_recording) as reader:
        for item in reader:
            if isinstance(item, Frame):
                frame = loads_object(item.raw)
                if "ch" in frame:
                    pushes += 1
                    assert _agree(frame) is not None
                    assert isinstance(item.raw, str)
                    assert _agree_text(item.raw) is not None
    assert pushes > 3000


def _leaves(node: Any, path: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _leaves(v, (*path, k))]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _leaves(v, (*path, i))]
    return [path]


def _edited(frame: dict[str, Any], path: tuple[Any, ...], value: Any) -> Any:
    """A copy of ``frame`` with the value at ``path`` replaced (``...`` deletes it)."""
    copy = json.loads(json.dumps(frame))
    node: Any = copy
    for key in path[:-1]:
        node = node[key]
    if value is ...:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return copy


@pytest.mark.parametrize("frame", BASES)
def test_every_leaf_replaced_by_each_awkward_value(frame: dict[str, Any]) -> None:
    for path in _leaves(frame):
        if path == ("ch",):
            continue  # the channel picks the schema; parse_frame checks it is a string
        for value in AWKWARD:
            _agree(_edited(frame, path, value))


@pytest.mark.parametrize("frame", BASES)
def test_every_key_dropped_or_added(frame: dict[str, Any]) -> None:
    for path in _leaves(frame):
        if path != ("ch",) and not isinstance(path[-1], int):
            _agree(_edited(frame, path, ...))
    _agree({**frame, "extra": 1})
    _agree({**frame, "data": {**frame["data"], "extra": "1"}})


def test_book_levels_beyond_the_first_and_crossed_books() -> None:
    two = [["97050.2", "1"], ["97050.1", "2"]]
    for side in ("b", "a"):
        _agree({**DEPTH, "data": {**DEPTH["data"], side: two}})
        _agree({**DEPTH, "data": {**DEPTH["data"], side: []}})
    _agree({**DEPTH, "data": {"b": [["2", "1"]], "a": [["1", "1"]]}})
    _agree({**DEPTH, "data": {"b": [["1", "1"]], "a": [["1", "1"]]}})
    _agree({**DEPTH, "ch": "depth_book5"})


numberish = st.one_of(
    st.decimals(allow_nan=True, allow_infinity=True).map(str),
    st.from_regex(r"-?[0-9]{1,4}(\.[0-9]{0,4})?([eE][-+]?[0-9]{1,3})?", fullmatch=True),
    st.sampled_from([x for x in AWKWARD if isinstance(x, str)]),
)
values = st.one_of(
    numberish, st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=6),
    st.datetimes().map(lambda d: d.isoformat()), st.sampled_from(AWKWARD),
)  # fmt: skip


@st.composite
def mutated(draw: st.DrawFn) -> Any:
    frame = draw(st.sampled_from(BASES))
    for _ in range(draw(st.integers(1, 3))):
        paths = [p for p in _leaves(frame) if p != ("ch",)]
        path = draw(st.sampled_from(paths))
        frame = _edited(frame, path, draw(values))
    return frame


@settings(max_examples=2000, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(mutated())
def test_mutated_pushes(frame: Any) -> None:
    _agree(frame)


TEXT_EDITS: list[tuple[str, str]] = [
    ('"symbol":"BTCUSDT"', '"symbol": "BTCUSDT"'),
    ('"symbol":"BTCUSDT"', '"symbol":"BTC\\u0055SDT"'),
    ('"symbol":"BTCUSDT"', '"symbol":"BTCUSDT","symbol":"BTCUSDT"'),
    ('"symbol":"BTCUSDT"', '"symbol":"ＢTCUSDT"'),
    ('"symbol":"BTCUSDT"', '"symbol":""'),
    ('"symbol":"BTCUSDT"', '"symbol":"BTC\\"USDT"'),
    ('"ts":', '"ts":-'),
    ('"ts":', '"ts":0'),
    ('"ts":', '"ts":1'),
    ('"ts":', '"ts":99999999999'),
    ('"ts":1', '"ts":1.'),
    ('"ts":1', '"ts":1e'),
    ('"ch":', ' "ch":'),
    ('{"ch"', '{"ch":"x","ch"'),
    ("}}", "} }"),
    ("}}", "}}\n"),
    ("}}", "}},"),
    ('"data":{', '"data":{"x":"1",'),
    ('"data":{', '"data": {'),
    (',"data":', ',"extra":1,"data":'),
    ('"9', '"\\u0039'),
    ('"9', '"٩'),
    ('"9', '"-9'),
    ('"9', '"+9'),
    ('"9', '" 9'),
    ('"9', '"9_'),
    ('"9', '"09'),
    ('"9', '"0'),
    ('"9', '"00000000000000000000009'),
    (".", ".."),
    (".", ""),
    (".", ".e5"),
    (".", "e5."),
    ('0"', '0."'),
    ('0"', '0e1"'),
    ('0"', '0 "'),
    ('1"', '1E-3"'),
    ('":"0.', '":"-0.'),
    ('"fr":"', '"fr":"-'),
    ('"fr":"', '"fr":"--'),
    ('"fr":"', '"fr":"+'),
    ('Z"', '"'),
    ('Z"', 'z"'),
    ('Z"', '+00:00"'),
    ('Z"', '+0000"'),
    ("00:00", "24:00"),
    ("2025", "2O25"),
    ('"ft":"', '"ft":"x'),
    ("_1min", "_1m"),
    ("_1min", "_1week"),
    ("_1min", "_1month"),
    ("_1min", "_1MIN"),
    ("depth_book1", "depth_book5"),
    ('[["9', '[["1","1"],["9'),
    ('"b":[[', '"b":[[],['),
    ('"o":', '"O":'),
    ('"mp":', '"mp ":'),
]


@pytest.mark.parametrize("frame", [*BASES, {**PRICE, "data": {**PRICE["data"], "fr": "0.01"}}])
@pytest.mark.parametrize(("old", "new"), TEXT_EDITS)
def test_text_edits_a_dict_cannot_show(frame: dict[str, Any], old: str, new: str) -> None:
    raw = _compact(frame)
    for count in (1, -1):  # the first occurrence, then every one
        if old in raw:
            _agree_text(raw.replace(old, new, count if count > 0 else raw.count(old)))


def test_what_the_text_path_declines_goes_on_to_the_dict_path() -> None:
    spaced = json.dumps(DEPTH)
    assert fastpath.push(spaced) is None
    assert repr(bitunix.parse_frame(spaced).events[0]) == repr(_strict(DEPTH))
    reordered = _compact({"symbol": DEPTH["symbol"], **DEPTH})
    assert fastpath.push(reordered) is None
    assert repr(bitunix.parse_frame(reordered).events[0]) == repr(_strict(DEPTH))


texts = st.text(alphabet=st.sampled_from('0123456789.-+eE "\\,:{}[]xZTu\u0669'), max_size=4)


@st.composite
def edited_texts(draw: st.DrawFn) -> str:
    raw = _compact(draw(st.sampled_from(BASES)))
    for _ in range(draw(st.integers(1, 3))):
        start = draw(st.integers(0, len(raw)))
        end = draw(st.integers(start, min(len(raw), start + 3)))
        raw = raw[:start] + draw(texts) + raw[end:]
    return raw


@settings(max_examples=3000, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(edited_texts())
def test_edited_texts(raw: str) -> None:
    _agree_text(raw)


# --- parse_sane: the text path and the sanity bounds at once ----------------------------------


def _agree_sane(raw: str, received: int, bounds: Bounds) -> object | None:
    """``parse_sane`` gives what ``parse_frame`` and ``Bounds.check`` give, or None. The check
    is taken field by field (``check``'s slow path, which names the absurd value), so that
    ``Bounds.sane``, the one expression both ``check`` and ``parse_sane`` trust, is tested too.
    Its two halves, ``split`` and ``parse_split``, give the same, and the fields can travel
    as a line of text, joined by commas (none empty, none with a comma or a line break)."""
    sane = bitunix.parse_sane(raw, received, bounds)
    fields = bitunix.split(raw)
    halves = None if fields is None else bitunix.parse_split(fields, received, bounds)
    assert repr(halves) == repr(sane)
    assert fields is None or ("\n" not in fields and all(fields.split(","))), fields
    try:
        parsed = bitunix.parse_frame(raw)
        for index, event in enumerate(parsed.events):
            bounds._explain(index, event, received, "BTCUSDT")
    except MalformedMessage:
        assert sane is None, f"parse_sane accepted what the full path refuses: {raw} {bounds}"
        return None
    assert sane is None or (repr((sane,)) == repr(parsed.events) and not parsed.unknown)
    return sane


prices = st.sampled_from(
    ["0.1", "1", "97044.5", "97044.6", "97046.5", "97047", "97047.5", "97050", "97050.3", "97050.4"]
)
SANE_BASES = [
    *BASES,
    {**PRICE, "data": {**PRICE["data"], "ip": "97045.5"}},  # the index below the mark
    {**PRICE, "data": {**PRICE["data"], "ft": "2025-04-01T00:00:00Z"}},  # settled long ago
    {**PRICE, "data": {**PRICE["data"], "nft": "2025-06-01T08:00:00Z"}},  # due far ahead
    {**PRICE, "data": {**PRICE["data"], "fr": "0"}},
    {**KLINE, "data": {**KLINE["data"], "c": "97050.5"}},  # closes above the high
    {**KLINE, "data": {**KLINE["data"], "c": "97044.4"}},  # closes below the low
    {**KLINE, "data": {**KLINE["data"], "o": "97044.4"}},  # opens below the low
    {**KLINE, "data": {**KLINE["data"], "h": "97044.4"}},  # a high below the low
    {**DEPTH, "data": {**DEPTH["data"], "a": [["97050.4", "0"]]}},
]
bounds = st.builds(
    Bounds,
    min_price=prices.map(Decimal),
    max_price=st.one_of(prices, st.just("10000000")).map(Decimal),
    max_funding_rate=st.sampled_from(["0.05", "0.00002318", "0.00002317", "0"]).map(Decimal),
    max_skew_ms=st.sampled_from([0, 3, 4, 7, 300_000]),
)
offsets = st.sampled_from([0, 3, -3, 4, -4, 7, 300_000, -300_001, 2 * 86_400_000 + 1])


def test_plain_pushes_are_parsed_and_checked_at_once() -> None:
    sane = Bounds(Decimal("0.1"), Decimal("10000000"), Decimal("0.05"), 300_000)
    for frame in BASES:
        assert _agree_sane(_compact(frame), frame["ts"], sane) is not None
    for frame in SANE_BASES[len(BASES) :]:
        _agree_sane(_compact(frame), frame["ts"], sane)


@settings(max_examples=3000, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.sampled_from(SANE_BASES), bounds, offsets)
def test_parse_sane_at_the_edges_of_the_bounds(
    frame: dict[str, Any], limits: Bounds, offset: int
) -> None:
    _agree_sane(_compact(frame), frame["ts"] + offset, limits)


@settings(max_examples=2000, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.one_of(mutated().map(_compact), edited_texts()), bounds, offsets)
def test_parse_sane_on_mutated_pushes(raw: str, limits: Bounds, offset: int) -> None:
    _agree_sane(raw, 1746662465653 + offset, limits)


@pytest.mark.parametrize(
    ("floor", "skew"), [(Decimal(0), 300_000), (Decimal("-0.1"), 300_000), (Decimal("0.1"), -1)]
)
def test_bounds_have_a_positive_floor_and_no_negative_skew(floor: Decimal, skew: int) -> None:
    """The text path leaves out the checks a positive floor makes (a price at or above it is
    above zero): bounds without one cannot be made."""
    with pytest.raises(ValueError, match="must be"):
        Bounds(floor, Decimal("10000000"), Decimal("0.05"), skew)


def test_prices_read_are_kept_within_bounds_and_equal_to_their_text() -> None:
    """The text path keeps the prices it reads (a push repeats most of the last ones): what it
    gives back is ``Decimal(text)``, exponent and all, and the store never outgrows its size."""
    fastpath._PRICES.clear()
    texts = [f"{97000 + i / 10:.1f}" for i in range(fastpath._PRICES_KEPT + 5)] + ["5", "5.00"]
    for text in texts:
        assert fastpath._price(text) == Decimal(text)
        assert len(fastpath._PRICES) <= fastpath._PRICES_KEPT
    assert 0 < len(fastpath._PRICES) < 10  # emptied once, refilled since
    raw = _compact({**DEPTH, "data": {"b": [["5.00", "1"]], "a": [["5", "2"]]}})
    assert fastpath.push(raw) is None  # 5.00 is not below 5, whatever was kept
    quote = fastpath.push(_compact({**DEPTH, "data": {"b": [["4.90", "1"]], "a": [["5.00", "2"]]}}))
    assert isinstance(quote, Quote)
    assert (str(quote.bid), str(quote.ask)) == ("4.90", "5.00")
