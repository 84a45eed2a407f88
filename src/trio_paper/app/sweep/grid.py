"""A sweep's grid: ``--param name=values`` parsed, checked against the strategy, multiplied out.

Values are a comma list (``fast=5,9,13``), an inclusive range with a step
(``stop_pct=0.3..1.0:0.1``), or one value. Whole numbers become ``int``, other numbers exact
``Decimal`` (never float), ``true``/``false``/``none`` what they say, anything else a string.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation
from typing import Any

import attrs

Value = int | Decimal | bool | str | None
MAX_RANGE = 10_000

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")
_WORDS: dict[str, Value] = {"true": True, "false": False, "none": None, "null": None}


class GridError(ValueError):
    """A ``--param`` that cannot be read, names no param, or leaves the grid empty."""


@attrs.frozen
class Axis:
    name: str
    values: tuple[Value, ...]


def parse_param(text: str) -> Axis:
    """``"fast=5,9,13"`` → ``Axis("fast", (5, 9, 13))``."""
    name, equals, spec = text.partition("=")
    name = name.strip()
    if not equals or not _NAME.fullmatch(name):
        raise GridError(f"--param {text!r}: expected NAME=VALUES, e.g. fast=5,9,13")
    if ".." in spec:
        values = _range(text, spec)
    else:
        parts = [part.strip() for part in spec.split(",")]
        if any(not part for part in parts):
            raise GridError(f"--param {text!r}: an empty value")
        values = tuple(_value(part) for part in parts)
    if not values:
        raise GridError(f"--param {text!r}: no values (the grid would be empty)")
    if len(set(map(_canonical, values))) != len(values):
        raise GridError(f"--param {text!r}: a value is repeated")
    return Axis(name, values)


def _range(text: str, spec: str) -> tuple[Value, ...]:
    bounds, colon, step_text = spec.partition(":")
    low_text, _, high_text = bounds.partition("..")
    try:
        low, high = Decimal(low_text.strip()), Decimal(high_text.strip())
        step = Decimal(step_text.strip()) if colon else Decimal(1)
    except InvalidOperation:
        raise GridError(f"--param {text!r}: a range is LOW..HIGH:STEP, e.g. 0.3..1.0:0.1") from None
    if not (low.is_finite() and high.is_finite() and step.is_finite()) or step <= 0:
        raise GridError(f"--param {text!r}: the step must be a number > 0")
    if low > high:
        raise GridError(f"--param {text!r}: the range is empty ({low} > {high})")
    count = int((high - low) / step) + 1
    if count > MAX_RANGE:
        raise GridError(f"--param {text!r}: {count:,} values; at most {MAX_RANGE:,} a range")
    whole = all(d == d.to_integral_value() for d in (low, step))
    return tuple(int(low + i * step) if whole else low + i * step for i in range(count))


def _value(text: str) -> Value:
    if text.lower() in _WORDS:
        return _WORDS[text.lower()]
    if re.fullmatch(r"[+-]?\d+", text):
        return int(text)
    try:
        number = Decimal(text)
    except InvalidOperation:
        return text
    return number if number.is_finite() else text


def _canonical(value: Value) -> str:
    return f"{type(value).__name__}:{value}"


def check_names(axes: Iterable[Axis], known: Iterable[str], strategy: str) -> None:
    """Refuse a param the strategy does not have, and one given twice."""
    names = sorted(known)
    seen: set[str] = set()
    for axis in axes:
        if axis.name not in names:
            raise GridError(
                f"--param {axis.name}: strategy {strategy} has no such param"
                f" (it has {', '.join(names) or 'none'})"
            )
        if axis.name in seen:
            raise GridError(f"--param {axis.name}: given twice; put all its values in one")
        seen.add(axis.name)


def combinations(axes: list[Axis]) -> list[dict[str, Value]]:
    """Every combination, the last axis varying fastest."""
    if not axes:
        raise GridError("the grid is empty: give at least one --param NAME=VALUES")
    names = [axis.name for axis in axes]
    return [
        dict(zip(names, values, strict=True))
        for values in itertools.product(*(axis.values for axis in axes))
    ]


def plain(value: Value) -> Any:
    """A value as JSON holds it: exact decimals as text."""
    return str(value) if isinstance(value, Decimal) else value
