"""One verdict for a run: ``ok``, ``degraded`` or ``no data``, with the reasons in words.

A live run that never connected used to show a green "complete" badge and a clean feed card.
The verdict looks at what the data was like, not only whether the session ended:

- ``no data``: no market frame ever arrived and no bar was read (a feed that never connected);
- ``degraded``: outages, stale periods, bad frames, gaps, or a session that did not finish;
- ``ok``: none of those.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any

OK = "ok"
DEGRADED = "degraded"
NO_DATA = "no data"


def _n(count: int, one: str, many: str | None = None) -> str:
    return f"{count:,} {one if count == 1 else (many or one + 's')}"


def verdict(summary: dict[str, Any], session_bars: int) -> tuple[str, list[str]]:
    """The health of the run whose ``summary.json`` (without ``health``) is ``summary``."""
    feed: dict[str, Any] = summary["feed"]
    frames = feed.get("frames") or 0
    if summary.get("first_event") is None:
        return NO_DATA, ["the journal holds no record"]
    if not frames and not session_bars:
        if feed["connects"]:
            why = f"the feed connected {_n(feed['connects'], 'time')} but no market frame arrived"
        elif feed["failed_connects"]:
            why = f"the feed never connected ({_n(feed['failed_connects'], 'failed attempt')})"
        else:
            why = "no market frame arrived and no bar was read"
        return NO_DATA, [why]
    reasons = []
    if feed["disconnects"] or feed["failed_connects"]:
        down = Decimal(feed["down_seconds"]).quantize(Decimal(1))
        failed = feed["failed_connects"]
        tries = f" ({_n(failed, 'failed attempt')} to reconnect)" if failed else ""
        reasons.append(f"{_n(feed['disconnects'], 'disconnect')}{tries}, feed down {down} s")
    if feed["stale_events"]:
        reasons.append(_n(feed["stale_events"], "stale period"))
    if feed.get("bad_frames"):
        reasons.append(_n(feed["bad_frames"], "bad frame"))
    if feed["gaps"]:
        reasons.append(f"{_n(feed['gaps'], 'gap')}: {_n(feed['gap_bars'], 'bar')} missing")
    elif feed.get("missing"):
        reasons.append(f"{_n(feed['missing'], 'bar')} missing")
    if summary.get("journal_error"):
        reasons.append(f"journal unreadable: {summary['journal_error']}")
    elif summary.get("exit_reason") is None:
        reasons.append("the session did not finish (no session_end)")
    return (DEGRADED if reasons else OK), reasons
