"""Which URL serves which stream since Binance's 2026 split: the rule the simulator enforces.

``/market`` carries klines, mark prices, trades, tickers and liquidations; ``/public`` carries
the book (``bookTicker``, depth). A connection names its streams in the URL
(``/<route>/stream?streams=a/b``) or subscribes after connecting (``/<route>/ws``). The legacy
unrouted paths (``/stream``, ``/ws``) still accept both, and acknowledge a subscription, but
deliver nothing: that silent failure is what ``delivers`` says. No I/O.
"""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import attrs

MARKET = "market"
PUBLIC = "public"
_PUBLIC_KINDS = ("bookTicker", "depth")


@attrs.frozen
class Target:
    """A WebSocket request target: its route (``None`` for the legacy unrouted paths) and the
    streams named in its query."""

    route: str | None
    streams: tuple[str, ...]


def route_of(stream: str) -> str:
    """``btcusdt@bookTicker`` → ``public``; ``btcusdt@kline_1m`` → ``market``."""
    kind = stream.partition("@")[2]
    return PUBLIC if kind.startswith(_PUBLIC_KINDS) else MARKET


def parse_target(target: str) -> Target:
    """``/market/stream?streams=a/b`` → ``Target("market", ("a", "b"))``; ``/ws`` → legacy, none.

    Anything else is a ``ValueError`` naming the path (the simulator answers it with a 404)."""
    parts = urlsplit(target)
    route, _, endpoint = parts.path.strip("/").rpartition("/")
    if route not in ("", MARKET, PUBLIC) or endpoint not in ("stream", "ws"):
        raise ValueError(f"no such WebSocket path: {parts.path!r}")
    query = parse_qs(parts.query)
    streams = query.get("streams", [""])[-1] if endpoint == "stream" else ""
    return Target(route or None, tuple(s for s in streams.split("/") if s))


def delivers(target: Target, stream: str) -> bool:
    """Whether a connection to ``target`` receives ``stream``'s pushes: only on its own route."""
    return target.route is not None and route_of(stream) == target.route
