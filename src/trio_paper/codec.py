"""JSON and the one strict cattrs converter; every schema failure becomes ``MalformedMessage``.

cattrs coerces by default (``"3"`` → 3, ``3.9`` → 3, ``"false"`` → True). The hooks here refuse
all of that: an int is an int, a bool is a bool, a price is a ``Decimal`` built from a string
and nothing else, a time has a zone, a list is a list, and an object is a dict with no keys the
schema does not name.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any, TypeVar, get_args, get_origin

import attrs
import cattrs
import orjson
from cattrs.cols import list_structure_factory, mapping_structure_factory
from cattrs.errors import IterableValidationError, IterableValidationNote
from cattrs.gen import make_dict_structure_fn
from cattrs.v import transform_error

from .errors import UsageError

T = TypeVar("T")


class MalformedMessage(UsageError, ValueError):
    """Input that does not match its schema: ``where`` it was and ``reason`` it was refused.

    ``where`` is a JSON path (``$.data.o``) or a location in a file (``recording.jsonl:17``).
    """

    def __init__(self, reason: str, where: str = "$") -> None:
        super().__init__(f"{where}: {reason}")
        self.reason = reason
        self.where = where


def _type_name(value: object) -> str:
    return "null" if value is None else type(value).__name__


MAX_DECIMAL_EXPONENT = 30
"""Decimals of 1e31 and more are refused: "1e999999" is a valid number that no venue sends, and
arithmetic on it overflows the decimal context (an exception far from the frame). Tiny ones
only underflow to zero, and a computed state may hold them: they pass."""


def strict_decimal(value: object, _: type = Decimal) -> Decimal:
    """A decimal from its exact text, the one way every price and size is read."""
    if type(value) is not str:
        raise TypeError(f"expected a decimal string, got {_type_name(value)} {value!r}")
    # Decimal() alone also takes " 1", "1_000", "NaN", "Infinity" and non-ASCII digits.
    if value.isascii() and value.strip() == value and "_" not in value:
        try:
            number = Decimal(value)
        except InvalidOperation:
            pass
        else:
            if number.is_finite():
                if number and number.adjusted() > MAX_DECIMAL_EXPONENT:
                    raise ValueError(f"decimal out of range: {value!r}")
                return number
    raise ValueError(f"not a decimal number: {value!r}")


def _price_levels(value: object, _: type) -> list[tuple[Decimal, Decimal]]:
    """Book levels ``[["price", "qty"], ...]``: the hot path of every depth frame, by hand."""
    if type(value) is not list:
        raise TypeError(f"expected a list, got {_describe(value)}")
    levels = []
    for index, level in enumerate(value):
        try:
            if type(level) is not list or len(level) != 2:
                raise TypeError(f"expected a [price, size] pair, got {_describe(level)}")
            levels.append((strict_decimal(level[0], Decimal), strict_decimal(level[1], Decimal)))
        except (TypeError, ValueError) as exc:
            exc.add_note(IterableValidationNote(f"@ index {index}", index, tuple))
            raise IterableValidationError("bad price level", [exc], list) from None
    return levels


PriceLevels = list[tuple[Decimal, Decimal]]


def _strict(kind: type) -> Callable[[object, type], Any]:
    def hook(value: object, _: type) -> object:
        if type(value) is not kind:
            raise TypeError(f"expected {kind.__name__}, got {_type_name(value)} {value!r}")
        return value

    return hook


def _strict_float(value: object, _: type) -> float:
    if type(value) not in (int, float):
        raise TypeError(f"expected a number, got {_type_name(value)} {value!r}")
    return float(value)  # type: ignore[arg-type]


def _aware_datetime(value: object, _: type) -> datetime:
    if type(value) is not str:
        raise TypeError(f"expected an ISO-8601 time string, got {_type_name(value)} {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(f"not an ISO-8601 time: {value!r}") from None
    if parsed.tzinfo is None:
        raise ValueError(f"time {value!r} has no timezone")
    return parsed


def _is_list(tp: Any) -> bool:
    return get_origin(tp) is list


def _is_dict(tp: Any) -> bool:
    return get_origin(tp) is dict


def _is_fixed_tuple(tp: Any) -> bool:
    args = get_args(tp)
    return get_origin(tp) is tuple and bool(args) and args[-1] is not Ellipsis


def _number_decimal(value: object, _: type) -> Decimal:
    if type(value) in (int, float):
        value = repr(value)
    elif type(value) is not str:
        raise TypeError(f"expected a number, got {_type_name(value)} {value!r}")
    return strict_decimal(value, Decimal)


def _make_converter(decimal_hook: Callable[[object, type], Decimal]) -> cattrs.Converter:
    conv = cattrs.Converter(forbid_extra_keys=True, detailed_validation=True)
    conv.register_structure_hook(Decimal, decimal_hook)
    conv.register_structure_hook(int, _strict(int))
    conv.register_structure_hook(str, _strict(str))
    conv.register_structure_hook(bool, _strict(bool))
    conv.register_structure_hook(float, _strict_float)
    conv.register_structure_hook(datetime, _aware_datetime)
    conv.register_unstructure_hook(Decimal, str)
    conv.register_unstructure_hook(datetime, datetime.isoformat)

    def list_hook(tp: Any) -> Callable[[object, type], list[Any]]:
        generated = list_structure_factory(tp, conv)

        def hook(value: object, _: type) -> list[Any]:
            if type(value) is not list:
                raise TypeError(f"expected a list, got {_describe(value)}")
            result: list[Any] = generated(value, tp)
            return result

        return hook

    def dict_hook(tp: Any) -> Callable[[object, type], dict[Any, Any]]:
        generated = mapping_structure_factory(tp, conv)

        def hook(value: object, _: type) -> dict[Any, Any]:
            if type(value) is not dict:
                raise TypeError(f"expected an object, got {_describe(value)}")
            result: dict[Any, Any] = generated(value, tp)
            return result

        return hook

    def tuple_hook(tp: Any) -> Callable[[object, type], tuple[Any, ...]]:
        items = get_args(tp)
        hooks = [conv.get_structure_hook(item) for item in items]

        def hook(value: object, _: type) -> tuple[Any, ...]:
            if type(value) is not list or len(value) != len(items):
                raise TypeError(f"expected a list of {len(items)}, got {_describe(value)}")
            out = []
            for index, (h, v, t) in enumerate(zip(hooks, value, items, strict=True)):
                try:
                    out.append(h(v, t))
                except Exception as exc:
                    exc.add_note(IterableValidationNote(f"@ index {index}", index, t))
                    raise IterableValidationError("bad tuple item", [exc], tp) from None
            return tuple(out)

        return hook

    def attrs_hook(cls: type) -> Callable[[object, type], Any]:
        generated: Callable[[Any, type], Any] = make_dict_structure_fn(cls, conv)

        def hook(value: object, _: type) -> Any:
            if type(value) is not dict:
                raise TypeError(f"expected an object, got {_describe(value)}")
            return generated(value, cls)

        return hook

    conv.register_structure_hook_factory(_is_list, list_hook)
    conv.register_structure_hook_factory(_is_dict, dict_hook)
    conv.register_structure_hook_factory(_is_fixed_tuple, tuple_hook)
    conv.register_structure_hook_factory(attrs.has, attrs_hook)
    conv.register_structure_hook_func(lambda tp: tp == PriceLevels, _price_levels)
    return conv


def _describe(value: object) -> str:
    if isinstance(value, list):
        return f"a list of {len(value)}"
    return _type_name(value)


def _format_exception(exc: BaseException, _: type | None) -> str:
    if isinstance(exc, KeyError):
        return "required key missing"
    if isinstance(exc, cattrs.ForbiddenExtraKeysError):
        return f"unknown key(s): {', '.join(sorted(exc.extra_fields))}"
    if len(exc.args) > 1 and isinstance(exc.args[0], str):  # attrs validators add context args
        return exc.args[0]
    return str(exc)


converter = _make_converter(strict_decimal)
"""The one converter: structure with ``structure``, unstructure with ``converter.unstructure``."""

config_converter = _make_converter(_number_decimal)
"""The same rules for files people write (config.yaml): a decimal may also be a plain number
(``0.06``), read through its shortest text so that no binary fraction creeps in."""


def structure(
    data: object, cls: type[T], where: str = "$", using: cattrs.Converter = converter
) -> T:
    """Structure ``data`` as ``cls``, strictly; any failure is one ``MalformedMessage``.

    The first failure is named with its path; a frame rarely has more than one wrong field, and
    one clear line in the log beats a list.
    """
    try:
        return using.structure(data, cls)
    except Exception as exc:
        leaves: list[BaseException] = []

        def describe(leaf: BaseException, tp: type | None) -> str:
            leaves.append(leaf)
            return _format_exception(leaf, tp)

        messages = transform_error(exc, path=where, format_exception=describe)
        message = messages[0] if messages else f"{exc} @ {where}"
        reason, _, path = message.rpartition(" @ ")
        keyed = _key_of(leaves[0]) if leaves else None
        if keyed is not None:  # cattrs stops at the object; name the key inside it too
            path, reason = f"{path}.{keyed[0]}", keyed[1]
        raise MalformedMessage(reason, path) from None


_VALIDATOR_MESSAGE = re.compile(r"'(\w+)' (must be .*)", re.DOTALL)
"""How attrs validators word a refusal: ``'leverage' must be <= 125: 200``."""


def _key_of(exc: BaseException) -> tuple[str, str] | None:
    """``(key, reason)`` when ``exc`` is about one key of the object at its path."""
    if isinstance(exc, cattrs.ForbiddenExtraKeysError) and len(exc.extra_fields) == 1:
        return next(iter(exc.extra_fields)), "unknown key"
    if isinstance(exc, ValueError) and exc.args and isinstance(exc.args[0], str):
        match = _VALIDATOR_MESSAGE.fullmatch(exc.args[0])
        if match:
            return match[1], match[2]
    return None


def loads(raw: str | bytes) -> Any:
    """Parse JSON text; not UTF-8 or not JSON is a ``MalformedMessage``."""
    try:
        return orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        reason = "not UTF-8" if "utf-8" in str(exc).lower() else f"not JSON ({exc})"
        raise MalformedMessage(reason) from None


def loads_object(raw: str | bytes) -> dict[str, Any]:
    """Parse JSON text that must be an object."""
    data = loads(raw)
    if type(data) is not dict:
        raise MalformedMessage(f"expected an object, got {_describe(data)}")
    return data


def _default(value: object) -> object:
    if isinstance(value, Decimal):
        return str(value)
    raise TypeError(f"cannot encode {type(value).__name__} as JSON")


def dumps(value: object) -> bytes:
    """Compact JSON with ``Decimal`` as a string, keys in insertion order: stable bytes."""
    return orjson.dumps(value, default=_default)


def known_keys(cls: type) -> frozenset[str]:
    """The keys an attrs schema class names."""
    return frozenset(a.name for a in attrs.fields(cls))


def unknown_keys(data: Mapping[str, object], cls: type) -> list[str]:
    """The keys of ``data`` that ``cls`` does not name, sorted."""
    return sorted(set(data) - known_keys(cls))
