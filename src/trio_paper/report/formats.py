"""How the page writes numbers, money and times: thousands separators, a real minus, UTC ISO."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import ROUND_HALF_EVEN, Decimal, InvalidOperation
from html import escape

MINUS = "\u2212"
DASH = "—"


def esc(value: object) -> str:
    """Text for HTML content or a quoted attribute."""
    return escape(str(value), quote=True)


def to_decimal(value: object) -> Decimal | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    return number if number.is_finite() else None


def negated(value: object) -> Decimal | None:
    """``"0.375"`` → ``Decimal("-0.375")``: a cost (paid > 0) as a cash flow (paid < 0)."""
    d = to_decimal(value)
    return -d if d else d


def number(value: object, places: int = 2, signed: bool = False) -> str:
    """``"-1234.5"`` → ``"−1,234.50"``; ``None`` → ``"—"``."""
    d = to_decimal(value)
    if d is None:
        return DASH
    d = d.quantize(Decimal(1).scaleb(-places), rounding=ROUND_HALF_EVEN)
    text = format(abs(d), ",f")
    if d < 0:
        return MINUS + text
    return ("+" + text) if signed and d > 0 else text


def money(value: object, signed: bool = False) -> str:
    return number(value, 2, signed)


def pct(value: object, places: int = 2, signed: bool = False) -> str:
    text = number(value, places, signed)
    return text if text == DASH else f"{text}\u2009%"


def price(value: object) -> str:
    """A price as the journal wrote it (its own precision), with thousands separators."""
    d = to_decimal(value)
    if d is None:
        return DASH
    text = format(abs(d), ",f")
    return MINUS + text if d < 0 else text


def tone(value: object) -> str:
    """The CSS class for a signed amount: ``pos``, ``neg`` or empty."""
    d = to_decimal(value)
    if d is None or not d:
        return ""
    return "pos" if d > 0 else "neg"


def duration(ms: int | None) -> str:
    """``5_400_000`` → ``"1 h 30 m"``: the two largest units."""
    if ms is None:
        return DASH
    seconds = max(0, ms) // 1000
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    parts = [(days, "d"), (hours, "h"), (minutes, "m"), (secs, "s")]
    while len(parts) > 1 and parts[0][0] == 0:
        parts.pop(0)
    return " ".join(f"{n} {unit}" for n, unit in parts[:2])


def utc(ms: int | None, seconds: bool = True) -> str:
    """``1746662460000`` → ``"2025-05-08T00:01:00Z"`` (UTC, ISO-8601)."""
    if ms is None:
        return DASH
    when = datetime.fromtimestamp(ms / 1000, UTC)
    return when.strftime("%Y-%m-%dT%H:%M:%SZ" if seconds else "%Y-%m-%dT%H:%MZ")
