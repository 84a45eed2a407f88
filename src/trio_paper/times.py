"""Time as the engine sees it: integer milliseconds since the epoch, UTC.

Files people read carry ISO-8601 with a ``Z``; these helpers are the only place that converts.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

MINUTE_MS = 60_000
HOUR_MS = 60 * MINUTE_MS
DAY_MS = 24 * HOUR_MS
INTERVAL_MS: dict[str, int] = {
    "1min": MINUTE_MS, "3min": 3 * MINUTE_MS, "5min": 5 * MINUTE_MS, "15min": 15 * MINUTE_MS,
    "30min": 30 * MINUTE_MS, "60min": HOUR_MS, "2h": 2 * HOUR_MS, "4h": 4 * HOUR_MS,
    "6h": 6 * HOUR_MS, "8h": 8 * HOUR_MS, "12h": 12 * HOUR_MS, "1day": DAY_MS,
    "3day": 3 * DAY_MS, "1week": 7 * DAY_MS,
}  # fmt: skip
"""Bar intervals by their venue-neutral names (``venue.interval``) → length; each venue serves
some of them."""
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)


def ms_to_iso(ms: int) -> str:
    """``1746662400000`` → ``"2025-05-08T00:00:00.000Z"``."""
    return datetime.fromtimestamp(ms / 1000, UTC).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def datetime_to_ms(value: datetime) -> int:
    """An aware datetime → ms; a naive one is refused, since its zone is a guess."""
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError(f"time {value.isoformat()} has no timezone")
    return (value - _EPOCH) // _ONE_MS


def iso_to_ms(text: str) -> int:
    """An ISO-8601 time with an explicit zone (``Z`` or ``+hh:mm``) → ms."""
    return datetime_to_ms(datetime.fromisoformat(text))


def utc_day(ms: int) -> int:
    """The start of the UTC day that ``ms`` falls in."""
    return ms // DAY_MS * DAY_MS
