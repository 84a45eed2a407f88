"""The watchers in process, on a real loopback socket, around a real core: routes, the token,
/healthz's reasons, the event stream (scrubbed), and a cancel that no open stream survives."""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from typing import Any

import attrs
import httpx
import orjson
import pytest
import trio

from trio_paper import scrub
from trio_paper.config import Config, evolve
from trio_paper.core import Core
from trio_paper.engine.strategies import load
from trio_paper.inputs import SessionStart
from trio_paper.runtime.alerts import Alerter
from trio_paper.runtime.feed import FeedStatus
from trio_paper.runtime.panel import StatusBoard
from trio_paper.runtime.watch_server import ServeAddress, ServeError, bind, parse_address
from trio_paper.runtime.watchers import Watchers, WatchPlan, WatchSources

TOKEN = "in-process-token-0123456789"


@attrs.define
class Rig:
    watchers: Watchers
    feed: FeedStatus
    base: str
    checkpoint_age: float = 1.0


@asynccontextmanager
async def _watching(config: Config, token: str | None = None) -> AsyncIterator[Rig]:
    core = Core(config, load("ema_cross", {}))
    feed = FeedStatus()
    sock = bind(ServeAddress("127.0.0.1", 0), token)
    port = sock.getsockname()[1]
    rig: Rig

    sources = WatchSources(
        lambda: feed, StatusBoard(core, lambda: feed, tty=False).snapshot, core.feed_health,
        lambda: rig.checkpoint_age, lambda: 1_700_000_000_000,
    )  # fmt: skip
    watchers = Watchers(config, sources, WatchPlan(Alerter(config.alerts, None), sock, token))
    rig = Rig(watchers, feed, f"http://127.0.0.1:{port}")
    async with trio.open_nursery() as nursery:
        await nursery.start(watchers.run)
        watchers.on_records(
            core.on_item(SessionStart(1, 1_700_000_000_000, "run-xyz-12345", None)).records
        )
        yield rig
        nursery.cancel_scope.cancel()


@contextmanager
def _scrubbing(*values: str) -> Iterator[None]:
    previous = scrub.install(scrub.Scrubber(values))
    try:
        yield
    finally:
        scrub.install(previous)


async def test_routes_and_the_token() -> None:
    with trio.fail_after(20):
        async with _watching(Config(), TOKEN) as rig, httpx.AsyncClient() as client:
            assert (await client.get(f"{rig.base}/metrics")).status_code == 401
            bearer = {"Authorization": f"Bearer {TOKEN}"}
            assert (await client.get(f"{rig.base}/nowhere", headers=bearer)).status_code == 404
            assert (await client.post(f"{rig.base}/healthz", headers=bearer)).status_code == 405
            page = await client.get(f"{rig.base}/?token={TOKEN}")
            assert page.status_code == 200
            assert page.headers["content-type"].startswith("text/html")
            assert "--bg: #f3f4f7" in page.text  # the report's own CSS, inline
            metrics = await client.get(f"{rig.base}/metrics", headers=bearer)
            assert "trio_paper_equity_usdt 10000.0" in metrics.text


async def test_healthz_names_what_is_wrong() -> None:
    with trio.fail_after(20):
        async with _watching(Config()) as rig, httpx.AsyncClient() as client:
            reply = await client.get(f"{rig.base}/healthz")
            assert reply.status_code == 503
            assert reply.json()["reasons"] == ["feed not connected (connecting)"]
            rig.feed.connected = True
            reply = await client.get(f"{rig.base}/healthz")
            assert (reply.status_code, reply.json()["status"]) == (200, "ok")
            rig.checkpoint_age = 75.0  # the limit is 2 × 30 s + 10 s
            reply = await client.get(f"{rig.base}/healthz")
            assert reply.status_code == 503
            assert reply.json()["reasons"] == ["last checkpoint 75 s ago (limit 70 s)"]
            assert reply.json()["checkpoint_age_s"] == 75.0


async def _events(stream: trio.SocketStream, count: int) -> tuple[bytes, list[dict[str, Any]]]:
    """Read the response head and the first ``count`` events (raw HTTP/1.1, chunked)."""
    data = b""
    while data.count(b"data: ") < count or not data.endswith(b"\n\n\r\n"):
        data += await stream.receive_some(65536)
    head, _, body = data.partition(b"\r\n\r\n")
    events = [
        orjson.loads(line.removeprefix(b"data: "))
        for line in body.split(b"\n")
        if line.startswith(b"data: ")
    ]
    return head, events[:count]


async def test_the_event_stream_starts_whole_and_is_scrubbed() -> None:
    with _scrubbing("run-xyz-12345"), trio.fail_after(20):  # pretend the run id were a secret
        async with _watching(Config()) as rig:
            stream = await trio.open_tcp_stream("127.0.0.1", int(rig.base.rsplit(":", 1)[1]))
            await stream.send_all(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
            head, (first, second) = await _events(stream, 2)
            await stream.aclose()
    assert b"content-type: text/event-stream" in head.lower()
    assert first["run"]["run_id"] == "***"
    assert first["status"]["equity"] == "10000"
    assert not first["healthy"]
    # a record arrives once: in the first update after it, however that is timed
    records = first["records"] + second["records"]
    assert [r["type"] for r in records] == ["session_start"]
    assert len(first["prices"]) >= len(second["prices"])


async def test_cancelling_ends_open_streams_at_once() -> None:
    with trio.fail_after(10):
        async with _watching(Config()) as rig:
            port = int(rig.base.rsplit(":", 1)[1])
            stream = await trio.open_tcp_stream("127.0.0.1", port)
            await stream.send_all(b"GET /events HTTP/1.1\r\nHost: x\r\n\r\n")
            assert b"200" in await stream.receive_some(100)
            started = trio.current_time()
        assert trio.current_time() - started < 1
        await stream.aclose()


def test_addresses() -> None:
    assert parse_address("127.0.0.1:8080") == ServeAddress("127.0.0.1", 8080)
    assert parse_address("[::1]:9") == ServeAddress("::1", 9)
    assert parse_address("[::1]:9").loopback
    assert parse_address("localhost:9").loopback
    assert not parse_address("0.0.0.0:9").loopback
    for bad in ("8080", "host:", ":80", "host:99999"):
        with pytest.raises(ServeError, match="not host:port"):
            parse_address(bad)


def test_binding_refuses_beyond_loopback_without_a_token_and_a_taken_port() -> None:
    with pytest.raises(ServeError, match="needs a token"):
        bind(ServeAddress("0.0.0.0", 0), None)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        with pytest.raises(ServeError, match="Address already in use"):
            bind(ServeAddress("127.0.0.1", port), None)


def test_session_serve_is_checked_in_the_config() -> None:
    config = evolve(Config(), session={"serve": "127.0.0.1:8080"})
    assert config.session.serve == "127.0.0.1:8080"
