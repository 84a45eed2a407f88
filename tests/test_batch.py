"""batch.builder: frozen attrs instances a slot at a time, the ones their __init__ makes."""

from __future__ import annotations

from decimal import Decimal

import attrs
import pytest

from trio_paper.batch import builder, maker
from trio_paper.inputs import Frame
from trio_paper.model import Bar, BarUpdate


def test_bars_built_a_slot_at_a_time_are_the_bars_bar_builds() -> None:
    o, h, lo, c, v = (Decimal(x) for x in ("100.5", "101", "99.5", "100", "2.5"))
    columns = [("BTCUSDT", "BTCUSDT"), (60_000, 60_000), (0, 60_000), (o, c), (h, h), (lo, lo)]
    columns += [(c, o), (v, v), (c * v, o * v), ("csv", "csv")]
    built = builder(Bar)(*columns, n=2)
    made = list(map(Bar, *columns))
    assert built == made
    assert [repr(b) for b in built] == [repr(b) for b in made]
    assert list(map(hash, built)) == list(map(hash, made))
    assert [b.close_time for b in built] == [60_000, 120_000]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        built[0].close = Decimal(1)  # type: ignore[misc]


def test_frames_built_a_slot_at_a_time_are_the_frames_frame_builds() -> None:
    """A default (``parsed``, ``fields``) is a column like any other."""
    columns = [(1, 2, 3), (10, 20, 30), ("a", "b", b"c"), (None, None, None), ("", "b", "")]
    built = builder(Frame)(*columns, n=3)
    assert built == [Frame(1, 10, "a"), Frame(2, 20, "b"), Frame(3, 30, b"c")]
    assert [f.parsed for f in built] == [None] * 3
    assert [f.fields for f in built] == ["", "b", ""]
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        built[0].seq = 5  # type: ignore[misc]


def test_a_class_with_a_validator_is_built_by_its_init() -> None:
    @attrs.frozen
    class Positive:
        x: int = attrs.field(validator=attrs.validators.gt(0))

    build = builder(Positive)
    assert build((1, 2), n=2) == [Positive(1), Positive(2)]
    with pytest.raises(ValueError, match="must be > 0"):
        build((1, 0), n=2)


def test_one_made_by_its_slots_is_the_one_its_init_makes() -> None:
    """Called as the class is: defaults may be left out, keyword-only ones are keywords; the
    instance is still frozen."""
    d = Decimal("1.5")
    make = maker(BarUpdate)
    assert make.__name__ == "make"  # made by its slots, not BarUpdate itself
    made = make("BTCUSDT", 60_000, 0, d, d, d, d, d, d, 5)
    built = BarUpdate("BTCUSDT", 60_000, 0, d, d, d, d, d, d, 5)
    assert (made, repr(made), hash(made)) == (built, repr(built), hash(built))
    closed = make("BTCUSDT", 60_000, 0, d, d, d, d, d, d, 5, closed=True)
    assert closed == BarUpdate("BTCUSDT", 60_000, 0, d, d, d, d, d, d, 5, closed=True)
    assert maker(Frame)(1, 2, "x") == Frame(1, 2, "x")
    with pytest.raises(TypeError):
        make("BTCUSDT", 60_000, 0, d, d, d, d, d, d, 5, True)  # as BarUpdate(...) refuses it
    with pytest.raises(attrs.exceptions.FrozenInstanceError):
        made.close = d  # type: ignore[misc]


def test_a_class_that_does_more_than_set_its_slots_is_made_by_its_init() -> None:
    @attrs.frozen
    class Positive:
        x: int = attrs.field(validator=attrs.validators.gt(0))

    @attrs.frozen
    class Listed:
        xs: list[int] = attrs.Factory(list)

    assert maker(Positive) is Positive
    assert maker(Listed) is Listed
    assert maker(Listed)().xs is not maker(Listed)().xs
