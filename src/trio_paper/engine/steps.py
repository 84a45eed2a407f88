"""Rounding to an instrument's grid: prices to the tick, quantities to the lot step."""

from __future__ import annotations

from decimal import ROUND_HALF_EVEN, Decimal


def on_step(value: Decimal, step: Decimal, rounding: str = ROUND_HALF_EVEN) -> Decimal:
    """``value`` as a whole number of ``step``s, written with the step's decimals.

    The quantize keeps journal text plain: a whole number of ticks would otherwise come out as
    ``9.0500E+5`` rather than ``90500.0``.
    """
    return ((value / step).to_integral_value(rounding) * step).quantize(step)
