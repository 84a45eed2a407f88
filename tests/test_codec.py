"""The strict converter: no coercion, prices from strings only, aware times only, fixed schemas
closed, and every failure one ``MalformedMessage`` naming where and why."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any

import attrs
import pytest

from trio_paper.codec import (
    MalformedMessage,
    PriceLevels,
    config_converter,
    dumps,
    loads,
    loads_object,
    structure,
    unknown_keys,
)


@attrs.frozen
class Inner:
    price: Decimal
    when: datetime


@attrs.frozen
class Outer:
    n: int
    flag: bool
    name: str
    inner: Inner
    items: list[int]
    pair: tuple[int, str]
    levels: PriceLevels
    ratio: float = 0.0


@attrs.frozen
class Limited:
    leverage: int = attrs.field(validator=attrs.validators.le(125))


GOOD: dict[str, Any] = {
    "n": 3,
    "flag": False,
    "name": "x",
    "inner": {"price": "86699.6", "when": "2026-09-23T00:00:00Z"},
    "items": [1, 2],
    "pair": [7, "a"],
    "levels": [["86699.6", "2.274"], ["86699.5", "2.7407"]],
}


def _with(path: tuple[str | int, ...], value: object) -> dict[str, Any]:
    """A deep copy of GOOD with the value at ``path`` replaced."""
    data: Any = loads(dumps(GOOD))
    node = data
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    result: dict[str, Any] = data
    return result


def _refusal(data: object, cls: type = Outer) -> MalformedMessage:
    with pytest.raises(MalformedMessage) as info:
        structure(data, cls)
    return info.value


def test_good_data_structures_to_exact_values() -> None:
    """The reference object decodes, prices as the exact Decimal of their text."""
    out = structure(GOOD, Outer)
    assert out.n == 3
    assert out.flag is False
    assert out.inner.price == Decimal("86699.6")
    assert out.inner.when == datetime(2026, 9, 23, tzinfo=UTC)
    assert out.items == [1, 2]
    assert out.pair == (7, "a")
    assert out.levels == [
        (Decimal("86699.6"), Decimal("2.274")),
        (Decimal("86699.5"), Decimal("2.7407")),
    ]


@pytest.mark.parametrize(
    ("path", "value", "where", "reason"),
    [
        (("n",), "3", "$.n", "expected int, got str '3'"),
        (("n",), 3.9, "$.n", "expected int, got float 3.9"),
        (("n",), 3.0, "$.n", "expected int, got float 3.0"),
        (("n",), True, "$.n", "expected int, got bool True"),
        (("n",), None, "$.n", "expected int, got null None"),
        (("flag",), "false", "$.flag", "expected bool, got str 'false'"),
        (("flag",), 0, "$.flag", "expected bool, got int 0"),
        (("name",), 5, "$.name", "expected str, got int 5"),
        (("inner", "price"), 86699.6, "$.inner.price", "expected a decimal string, got float"),
        (("inner", "price"), 86699, "$.inner.price", "expected a decimal string, got int"),
        (("inner", "price"), "NaN", "$.inner.price", "not a decimal number: 'NaN'"),
        (("inner", "price"), "Infinity", "$.inner.price", "not a decimal number"),
        (("inner", "price"), " 1", "$.inner.price", "not a decimal number: ' 1'"),
        (("inner", "price"), "1_000", "$.inner.price", "not a decimal number: '1_000'"),
        (("inner", "price"), "١٢", "$.inner.price", "not a decimal number"),
        (("inner", "price"), "", "$.inner.price", "not a decimal number: ''"),
        (("inner", "price"), "1e999999", "$.inner.price", "decimal out of range: '1e999999'"),
        (("inner", "price"), "-1E+31", "$.inner.price", "decimal out of range"),
        (("inner", "when"), "2026-09-23T00:00:00", "$.inner.when", "has no timezone"),
        (("inner", "when"), "2026-09-23", "$.inner.when", "has no timezone"),
        (("inner", "when"), "yesterday", "$.inner.when", "not an ISO-8601 time: 'yesterday'"),
        (("inner", "when"), 1790121600000, "$.inner.when", "expected an ISO-8601 time string"),
        (("items",), "12", "$.items", "expected a list, got str"),
        (("items",), {"0": 1}, "$.items", "expected a list, got dict"),
        (("items", 1), "2", "$.items[1]", "expected int, got str '2'"),
        (("pair",), [7], "$.pair", "expected a list of 2, got a list of 1"),
        (("pair",), [7, "a", 1], "$.pair", "expected a list of 2, got a list of 3"),
        (("pair", 1), 1, "$.pair[1]", "expected str, got int 1"),
        (("levels", 1), ["1"], "$.levels[1]", "expected a [price, size] pair, got a list of 1"),
        (("levels", 0, 1), 2.274, "$.levels[0]", "expected a decimal string, got float"),
        (("inner",), [1], "$.inner", "expected an object, got a list of 1"),
        (("inner",), "x", "$.inner", "expected an object, got str"),
        (("ratio",), "0.5", "$.ratio", "expected a number, got str '0.5'"),
        (("ratio",), False, "$.ratio", "expected a number, got bool False"),
    ],
)
def test_each_coercion_is_refused_with_its_path(
    path: tuple[str | int, ...], value: object, where: str, reason: str
) -> None:
    """cattrs' default coercions ("3" → 3, 3.9 → 3, "false" → True, ...) are all refused, and
    the error names the JSON path and the reason."""
    error = _refusal(_with(path, value))
    assert error.where == where
    assert reason in error.reason
    assert str(error) == f"{error.where}: {error.reason}"


def test_tiny_and_large_but_sane_decimals_pass() -> None:
    """Only huge magnitudes are refused (they overflow arithmetic); tiny values and zeros with
    any exponent, as computed state can hold, pass unchanged."""
    for text in ("1e-31", "0E-50", "0E+50", "9.99e30", "-123456789012345678901234567890"):
        assert structure(_with(("inner", "price"), text), Outer).inner.price == Decimal(text)


def test_a_float_field_takes_an_int_but_keeps_it_a_float() -> None:
    """``float`` accepts JSON integers (2 is a number) and stores 2.0."""
    out = structure(_with(("ratio",), 2), Outer)
    assert out.ratio == 2.0
    assert type(out.ratio) is float


def test_aware_times_in_any_zone_are_accepted() -> None:
    """An explicit offset is as good as Z; the instant is what counts."""
    out = structure(_with(("inner", "when"), "2026-09-23T02:00:00+02:00"), Outer)
    assert out.inner.when == datetime(2026, 9, 23, tzinfo=UTC)
    assert out.inner.when.utcoffset() == timedelta(hours=2)
    assert out.inner.when.tzinfo == timezone(timedelta(hours=2))


def test_a_mapping_must_be_an_object_with_keys_and_values_of_its_types() -> None:
    assert structure({"a": 1}, dict[str, int]) == {"a": 1}
    for value, where, reason in [
        ([["a", 1]], "$", "expected an object, got a list of 1"),
        ("a", "$", "expected an object, got str"),
        ({"a": "1"}, "$['a']", "expected int, got str '1'"),
    ]:
        with pytest.raises(MalformedMessage) as info:
            structure(value, dict[str, int])
        assert (info.value.where, info.value.reason) == (where, reason)


def test_missing_and_unknown_keys() -> None:
    """A missing key and an unknown key are both refused, each naming the key's path."""
    data = _with(("n",), 3)
    del data["inner"]["price"]
    missing = _refusal(data)
    assert (missing.where, missing.reason) == ("$.inner.price", "required key missing")

    extra = _refusal(_with(("inner", "size"), "1"))
    assert (extra.where, extra.reason) == ("$.inner.size", "unknown key")

    two = _refusal({**GOOD, "a": 1, "b": 2})
    assert (two.where, two.reason) == ("$", "unknown key(s): a, b")


def test_not_an_object_at_the_top() -> None:
    values: list[object] = [[], "x", 3, None]
    for value in values:
        error = _refusal(value)
        assert error.where == "$"
        assert error.reason.startswith("expected an object")


def test_validator_errors_name_the_dotted_key() -> None:
    """An attrs validator's refusal is placed at its key, not at the object holding it."""
    error = _refusal({"leverage": 200}, Limited)
    assert (error.where, error.reason) == ("$.leverage", "must be <= 125: 200")
    nested = _refusal({"x": {"leverage": 200}}, _Holder)
    assert nested.where == "$.x.leverage"


@attrs.frozen
class _Holder:
    x: Limited


def test_where_prefixes_the_path() -> None:
    """``where`` roots the path, e.g. at a line of a file."""
    error = _refusal_at({"leverage": "1"}, "rec.jsonl:7")
    assert error.where == "rec.jsonl:7.leverage"


def _refusal_at(data: object, where: str) -> MalformedMessage:
    with pytest.raises(MalformedMessage) as info:
        structure(data, Limited, where)
    return info.value


def test_config_converter_takes_plain_numbers_as_decimals_through_their_text() -> None:
    """YAML gives 0.06 as a float; the config converter reads it as Decimal("0.06"), not as
    the binary fraction 0.059999999999999997779553950749686919152736663818359375."""
    assert structure(0.06, Decimal, using=config_converter) == Decimal("0.06")
    assert structure(5, Decimal, using=config_converter) == Decimal("5")
    assert structure("0.5", Decimal, using=config_converter) == Decimal("0.5")
    with pytest.raises(MalformedMessage, match="expected a number, got bool"):
        structure(True, Decimal, using=config_converter)
    with pytest.raises(MalformedMessage, match="not a decimal number: 'nan'"):
        structure(float("nan"), Decimal, using=config_converter)


@pytest.mark.parametrize(
    ("raw", "reason"),
    [
        (b"\xff\xfe{}", "not UTF-8"),
        ("\ud800", "not UTF-8"),
        ("{", "not JSON"),
        ("", "not JSON"),
        ('{"a":1} x', "not JSON"),
        ("NaN", "not JSON"),
    ],
)
def test_loads_refuses_what_is_not_json(raw: str | bytes, reason: str) -> None:
    with pytest.raises(MalformedMessage) as info:
        loads(raw)
    assert info.value.where == "$"
    assert info.value.reason.startswith(reason)


def test_loads_object_wants_an_object() -> None:
    assert loads_object(b'{"a": [1]}') == {"a": [1]}
    for raw in ("[1, 2]", "3", '"x"', "null"):
        with pytest.raises(MalformedMessage, match="expected an object"):
            loads_object(raw)


def test_dumps_is_compact_with_decimals_as_strings() -> None:
    """Stable bytes: insertion order, no spaces, Decimal as its exact text."""
    value = {"b": Decimal("0.00013461"), "a": [1, Decimal("-0")], "c": "€"}
    assert dumps(value) == '{"b":"0.00013461","a":[1,"-0"],"c":"€"}'.encode()
    with pytest.raises(TypeError, match="set"):
        dumps({"x": {1}})


def test_unknown_keys_lists_what_the_schema_does_not_name() -> None:
    assert unknown_keys({"price": 1, "when": 2, "z": 3, "a": 4}, Inner) == ["a", "z"]
    assert unknown_keys({"price": 1}, Inner) == []
