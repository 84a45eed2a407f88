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
    """``make(...)``: one instance of ``cls``, as ``cls(...)`` makes it, called as ``cls`` is
    (the same parameters, keyword-only ones included), so either may stand for the other."""
    fields = attrs.fields(cast(Any, cls))
    if not _plain(cls):
        return cls
    # Underscored names in the scope: an attrs parameter (an alias) never starts with one.
    scope: dict[str, Any] = {"_new": object.__new__, "_cls": cls}
    positional: list[str] = []
    keywords: list[str] = []
    body: list[str] = []
    for i, field in enumerate(fields):
        scope[f"_set_{i}"] = cls.__dict__[field.name].__set__
        param = field.alias
        if field.default is not attrs.NOTHING:
            scope[f"_default_{i}"] = field.default
            param += f"=_default_{i}"
        (keywords if field.kw_only else positional).append(param)
        body.append(f"    _set_{i}(_made, {field.alias})")
    params = positional + (["*", *keywords] if keywords else [])
    source = f"def make({', '.join(params)}):\n    _made = _new(_cls)\n"
    source += "\n".join(body) + "\n    return _made\n"
    exec(compile(source, f"<batch.maker {cls.__qualname__}>", "exec"), scope)
    make: Callable[..., T] = scope["make"]
    return make
