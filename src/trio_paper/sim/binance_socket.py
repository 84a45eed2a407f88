"""Binance USD-M's side of one client socket: nothing on open, the streams named in the URL,
and ``SUBSCRIBE`` / ``UNSUBSCRIBE`` answered with ``{"result":null,"id":N}``.

Everything else (the player, the faults, the rate limit, protocol pings every 3 minutes, the
24 h close) is ``connection.ExchangeSocket``'s, driven by ``ExchangeRules.for_venue``. On the
legacy paths (``/stream``, ``/ws``) a subscription is acknowledged and never served.
"""

from __future__ import annotations

from typing import Any

import trio

from ..codec import MalformedMessage, loads_object
from ..venues.binance_usdm import server as frames
from .connection import ExchangeSocket
from .dialect import Route, stream_route


class BinanceSocket(ExchangeSocket):
    """The exchange's side of one Binance WebSocket."""

    def greeting(self) -> list[str]:
        return []

    async def _on_message(self, raw: str | bytes) -> None:
        try:
            message = loads_object(raw)
        except MalformedMessage:
            self.stats.bad_client_messages += 1
            return
        method, params, request_id = message.get("method"), message.get("params"), message.get("id")
        if method not in ("SUBSCRIBE", "UNSUBSCRIBE") or type(request_id) is not int:
            self.stats.bad_client_messages += 1
            return
        routes = _routes(params)
        if method == "SUBSCRIBE":
            delay = self.rng.uniform(*self.rules.subscribe_delay_s)
            self._add_routes(routes, trio.current_time() + delay)
        else:
            for route in routes:
                self.subscriptions.pop(route, None)
        await self.wire.send_text(frames.subscribe_answer(request_id))


def _routes(params: Any) -> list[Route]:
    if type(params) is not list:
        return []
    return [stream_route(p) for p in params if type(p) is str and "@" in p]
