"""Fetching closed bars over REST, politely: within the venue's request rate and page size.

Returns raw response bodies, not bars: the body is what the session records, and the core parses
it (so a replay parses the same bytes).

Page edges: Bitunix does not say whether ``endTime`` is inclusive (PROTOCOL.md §6.1) and keeps
the *newest* bars of a full page. A page asks for at most ``max_kline_page - 1`` buckets with a
``limit`` one larger, so either reading fits whole; the bars are merged by open time downstream
(the bar builder takes each bucket once). Each page is checked against the buckets it asked
for, and a hole is asked for once more. A request that fails (transport, HTTP status) is retried
with a doubling pause when the caller allows it — a gap's fetch, not the warm-up, which is
bounded by the session's start.
"""

from __future__ import annotations

import attrs
import httpx
import trio

from ..codec import MalformedMessage
from ..venues import RestError, Venue

RETRY_FIRST_S = 1.0
RETRY_MAX_S = 30.0


@attrs.frozen
class Page:
    """One request's outcome: the raw body, or why there is none."""

    start: int
    end: int
    body: str | None
    error: str | None


class RestKlines:
    """A kline client for one venue base URL (``--rest-url``)."""

    def __init__(
        self, venue: Venue, base_url: str, symbol: str, interval: str, timeout: float = 10.0
    ) -> None:
        self.venue = venue
        self.base_url = base_url.rstrip("/")
        self.symbol = symbol
        self.interval = interval
        self.interval_ms = venue.intervals[interval]
        self.timeout = timeout
        self._next_request = 0.0

    async def pages(
        self, start: int, end: int, client: httpx.AsyncClient, retries: int = 0
    ) -> list[Page]:
        """Bars in ``[start, end)``: pages of at most ``max_kline_page - 1`` buckets, oldest
        first, each followed by a page for its hole if it came back with one; a failed request
        is tried ``retries`` more times."""
        pages = []
        step = max(1, self.venue.max_kline_page - 1) * self.interval_ms
        for page_start in range(start, end, step):
            page_end = min(end, page_start + step)
            page = await self._get_retrying(client, page_start, page_end, retries)
            pages.append(page)
            hole = self._hole(page)
            if hole is not None:
                pages.append(await self._get_retrying(client, *hole, retries))
        return pages

    def _hole(self, page: Page) -> tuple[int, int] | None:
        """The span of buckets a non-empty page lacks, oldest to newest missing; None if whole
        (or unreadable: the core reports that)."""
        if page.body is None:
            return None
        try:
            bars = self.venue.parse_klines(page.body, self.symbol, self.interval_ms)
        except (MalformedMessage, RestError):
            return None
        have = {bar.open_time for bar in bars}
        missing = [t for t in range(page.start, page.end, self.interval_ms) if t not in have]
        if not bars or not missing:
            return None
        return missing[0], missing[-1] + self.interval_ms

    async def _get_retrying(
        self, client: httpx.AsyncClient, start: int, end: int, retries: int
    ) -> Page:
        buckets = (end - start) // self.interval_ms or 1
        limit = min(buckets + 1, self.venue.max_kline_page)
        page = await self._get(client, start, end, limit)
        for attempt in range(retries):
            if page.error is None:
                break
            await trio.sleep(min(RETRY_MAX_S, RETRY_FIRST_S * 2**attempt))
            page = await self._get(client, start, end, limit)
        return page

    async def _get(self, client: httpx.AsyncClient, start: int, end: int, limit: int) -> Page:
        await self._pace()
        request = self.venue.kline_request(self.symbol, self.interval, start, end, limit)
        try:
            response = await client.get(
                self.base_url + request.path, params=request.query, timeout=self.timeout
            )
        except httpx.HTTPError as exc:
            return Page(start, end, None, f"{type(exc).__name__}: {exc}")
        if response.status_code != 200:
            return Page(start, end, None, f"HTTP {response.status_code}")
        return Page(start, end, response.text, None)

    async def _pace(self) -> None:
        wait = self._next_request - trio.current_time()
        if wait > 0:
            await trio.sleep(wait)
        self._next_request = trio.current_time() + 1 / self.venue.max_rest_requests_per_s
