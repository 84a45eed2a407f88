"""Frozen ``attrs`` instances made faster than their ``__init__``: many at once, or one.

A frozen ``attrs`` class sets each slot of a new instance by a call to ``object.__setattr__``
from its ``__init__``: a third of a microsecond for four fields, most of the cost of an input
when a replay reads hundreds of thousands of them. ``builder(cls)`` maps each slot's
descriptor over a whole batch in C instead; ``maker(cls)`` calls the descriptors of one
instance directly, without the bound ``__setattr__`` in between. The instances are the ones
``cls(...)`` makes, as long as its ``__init__`` does nothing but set the slots; a class that
grows a validator, a converter, a factory default or a post-init is made by its ``__init__``
again.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast

import attrs

T = TypeVar("T")


def _plain(cls: type[Any]) -> bool:
    """Whether ``cls.__init__`` does nothing but set each of its slots to its argument."""
    return (
        "__slots__" in cls.__dict__
        and "__attrs_post_init__" not in cls.__dict__
        and all(
            f.init and f.validator is None and f.converter is None
            and not isinstance(f.default, attrs.Factory)  # type: ignore[arg-type]
            for f in attrs.fields(cls)
        )
    )  # fmt: skip


def builder(cls: type[T]) -> Callable[..., list[T]]:
    """``build(*columns, n=n)``: ``n`` instances of ``cls``, as ``list(map(cls, *columns))``
    makes them, with one column for each of its fields, in order (defaults included)."""
    fields = attrs.fields(cast(Any, cls))
    if not _plain(cls):

        def by_init(*columns: Iterable[Any], n: int) -> list[T]:
            return list(map(cls, *columns))

        return by_init
    setters = tuple(cls.__dict__[field.name].__set__ for field in fields)
    new = object.__new__

    def by_slots(*columns: Iterable[Any], n: int) -> list[T]:
        made: list[T] = list(map(new, itertools.repeat(cls, n)))
        for set_slot, column in zip(setters, columns, strict=True):
            deque(map(set_slot, made, column), maxlen=0)
        return made

    return by_slots


def maker(cls: type[T]) -> Callable[..., T]:
    """``make(*values)``: one instance of ``cls``, as ``cls(...)`` makes it from the fields'
    values, given in order (keyword-only ones too); those with defaults may be left out."""
    fields = attrs.fields(cast(Any, cls))
    defaults = [f.default is not attrs.NOTHING for f in fields]
    if not _plain(cls) or defaults != sorted(defaults):  # a default before a required field
        return cls
    scope: dict[str, Any] = {"new": object.__new__, "cls": cls}
    params, body = [], []
    for i, (field, default) in enumerate(zip(fields, defaults, strict=True)):
        scope[f"set_{i}"] = cls.__dict__[field.name].__set__
        scope[f"default_{i}"] = field.default
        params.append(f"v{i}=default_{i}" if default else f"v{i}")
        body.append(f"    set_{i}(made, v{i})")
    source = f"def make({', '.join(params)}):\n    made = new(cls)\n"
    source += "\n".join(body) + "\n    return made\n"
    exec(compile(source, f"<batch.maker {cls.__qualname__}>", "exec"), scope)
    make: Callable[..., T] = scope["make"]
    return make
