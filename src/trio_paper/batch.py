"""Many frozen ``attrs`` instances at once, from the columns of their fields.

A frozen ``attrs`` class sets each slot of a new instance by a call to ``object.__setattr__``
from its ``__init__``: a third of a microsecond for four fields, most of the cost of an input
when a replay reads hundreds of thousands of them. ``builder(cls)`` maps each slot's
descriptor over a whole batch in C instead. The instances are the ones ``cls(...)`` makes, as
long as its ``__init__`` does nothing but set the slots; a class that grows a validator, a
converter or a post-init is built by its ``__init__`` again.
"""

from __future__ import annotations

import itertools
from collections import deque
from collections.abc import Callable, Iterable
from typing import Any, TypeVar, cast

import attrs

T = TypeVar("T")


def builder(cls: type[T]) -> Callable[..., list[T]]:
    """``build(*columns, n=n)``: ``n`` instances of ``cls``, as ``list(map(cls, *columns))``
    makes them, with one column for each of its fields, in order (defaults included)."""
    fields = attrs.fields(cast(Any, cls))
    plain = (
        "__slots__" in cls.__dict__
        and "__attrs_post_init__" not in cls.__dict__
        and all(f.init and f.validator is None and f.converter is None for f in fields)
    )
    if not plain:

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
