"""Fetching closed bars over REST, politely: within the venue's request rate and page size.

Returns raw response bodies, not bars: the body is what the session records, and the core parses
it (so a replay parses the same bytes).
"""

from __future__ import annotations

import attrs
import httpx
import trio

from ..venues import Venue


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

    async def pages(self, start: int, end: int, client: httpx.AsyncClient) -> list[Page]:
        """Bars in ``[start, end)``, one page per ``venue.max_kline_page`` bars, oldest first."""
        pages = []
        step = self.venue.max_kline_page * self.interval_ms
        for page_start in range(start, end, step):
            page_end = min(end, page_start + step)
            limit = (page_end - page_start) // self.interval_ms or 1
            pages.append(await self._get(client, page_start, page_end, limit))
        return pages

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
