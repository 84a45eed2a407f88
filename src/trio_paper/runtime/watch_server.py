"""The live page, ``/events`` (server-sent events), ``/healthz`` and ``/metrics``: a plain ASGI
app served by hypercorn on Trio from the session's own nursery.

The listening socket is bound before the session starts (``bind``), so a port in use is a
one-line error, and port 0 works in tests. Off loopback, every request must carry the token
(``Authorization: Bearer <token>`` or ``?token=``, which the page passes on to ``/events``).
"""

from __future__ import annotations

import hmac
import ipaddress
import logging
import socket
import urllib.parse
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import aclosing
from typing import Any, Protocol

import attrs
import trio
from hypercorn.config import Config as HypercornConfig
from hypercorn.trio import serve as hypercorn_serve

from ..errors import UsageError
from .metrics import CONTENT_TYPE

log = logging.getLogger("trio_paper.serve")

SERVE_TOKEN_ENV = "TRIO_PAPER_SERVE_TOKEN"
SSE_KEEPALIVE_S = 15.0

Scope = dict[str, Any]
Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]


class ServeError(UsageError, ValueError):
    """``--serve`` cannot be honoured: the message says why in one line."""


class WatchSource(Protocol):
    """What the app shows; ``Watchers`` is one."""

    def page(self) -> bytes: ...
    def health(self) -> tuple[bool, dict[str, Any]]: ...
    def metrics(self) -> bytes: ...
    def updates(self) -> AsyncGenerator[bytes, None]: ...


@attrs.frozen
class ServeAddress:
    host: str
    port: int

    def __str__(self) -> str:
        return f"[{self.host}]:{self.port}" if ":" in self.host else f"{self.host}:{self.port}"

    @property
    def loopback(self) -> bool:
        if self.host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.host).is_loopback
        except ValueError:
            return False


def parse_address(text: str) -> ServeAddress:
    """``127.0.0.1:8080`` / ``[::1]:8080`` / ``0.0.0.0:8080`` → a ``ServeAddress``."""
    host, sep, port = text.strip().rpartition(":")
    host = host.removeprefix("[").removesuffix("]")
    if not sep or not host or not port.isdigit() or int(port) > 65535:
        raise ServeError(f"--serve: not host:port: {text!r}")
    return ServeAddress(host, int(port))


def bind(address: ServeAddress, token: str | None) -> socket.socket:
    """A listening socket at ``address``; refuse a non-loopback bind without a token."""
    if not address.loopback and not token:
        raise ServeError(
            f"--serve {address}: serving beyond loopback needs a token; set {SERVE_TOKEN_ENV} "
            "in the environment or .env (requests then need it)"
        )
    try:
        infos = socket.getaddrinfo(address.host, address.port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise ServeError(f"--serve {address}: {exc.strerror or exc}") from None
    family, kind, proto, _, sockaddr = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(sockaddr)
        sock.listen(64)
    except OSError as exc:
        sock.close()
        raise ServeError(f"--serve {address}: cannot listen: {exc.strerror or exc}") from None
    return sock


def bound_address(sock: socket.socket) -> ServeAddress:
    host, port = sock.getsockname()[:2]
    return ServeAddress(host, port)


# --- the app -----------------------------------------------------------------------------------


class WatchApp:
    """The ASGI application: four routes, a token check, nothing else."""

    def __init__(self, source: WatchSource, token: str | None) -> None:
        self.source = source
        self.token = token

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await _lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        path = scope["path"]
        if not self._allowed(scope):
            await _respond(send, 401, b"a token is needed: ?token= or Authorization: Bearer\n")
            return
        if scope["method"] not in ("GET", "HEAD"):
            await _respond(send, 405, b"GET only\n")
        elif path == "/":
            await _respond(send, 200, self.source.page(), "text/html; charset=utf-8")
        elif path == "/healthz":
            ok, body = self.source.health()
            await _respond(send, 200 if ok else 503, _json(body), "application/json")
        elif path == "/metrics":
            await _respond(send, 200, self.source.metrics(), CONTENT_TYPE)
        elif path == "/events":
            await self._events(send)
        else:
            await _respond(send, 404, b"not found\n")

    def _allowed(self, scope: Scope) -> bool:
        if not self.token:
            return True
        given = ""
        for name, value in scope.get("headers", []):
            if name.lower() == b"authorization":
                scheme, _, rest = value.decode("latin-1").partition(" ")
                if scheme.lower() == "bearer":
                    given = rest.strip()
        if not given:
            query = urllib.parse.parse_qs(scope.get("query_string", b"").decode("latin-1"))
            given = (query.get("token") or [""])[0]
        return hmac.compare_digest(given.encode(), self.token.encode())

    async def _events(self, send: Send) -> None:
        headers = [
            (b"content-type", b"text/event-stream"),
            (b"cache-control", b"no-store"),
            (b"x-accel-buffering", b"no"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        async with aclosing(self.source.updates()) as updates:  # closed when cancelled, too
            async for data in updates:
                await send({"type": "http.response.body", "body": data, "more_body": True})


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _respond(send: Send, status: int, body: bytes, kind: str = "text/plain") -> None:
    headers = [
        (b"content-type", kind.encode()),
        (b"content-length", str(len(body)).encode()),
        (b"cache-control", b"no-store"),
    ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


def _json(body: dict[str, Any]) -> bytes:
    import orjson  # noqa: PLC0415

    return orjson.dumps(body, default=str) + b"\n"


# --- serving -----------------------------------------------------------------------------------


async def serve(
    app: WatchApp,
    sock: socket.socket,
    grace_s: float,
    *,
    task_status: trio.TaskStatus[ServeAddress] = trio.TASK_STATUS_IGNORED,
) -> None:
    """Serve ``app`` on the bound ``sock`` until cancelled. A cancel ends it at once: open
    streams (a page left open, a slow scraper) never hold the session."""
    address = bound_address(sock)
    config = HypercornConfig()
    config.bind = [f"fd://{sock.detach()}"]
    config.graceful_timeout = grace_s
    config.keep_alive_timeout = 5
    config.accesslog = None
    config.errorlog = log
    log.info("watching at http://%s/ (/healthz, /metrics)", address)
    task_status.started(address)  # the socket listens already: early clients wait in its backlog
    await hypercorn_serve(app, config, mode="asgi")  # type: ignore[arg-type]
