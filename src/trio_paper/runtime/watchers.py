"""Everything that watches a session from outside: alerts, health, metrics, the live page.

The session calls two things: ``on_records(records)`` after each input's records are journaled
(cheap, never blocks, never raises into the engine), and ``run`` once, in its root nursery. The
watchers read the rest themselves — the feed's status, the panel's snapshot, the checkpoint's
age — from the ``WatchSources`` the session hands over, every ``POLL_S``.
"""

from __future__ import annotations

import logging
import math
import socket
from collections import deque
from collections.abc import AsyncGenerator, Callable, Mapping
from importlib import resources
from typing import Any

import attrs
import orjson
import trio

from ..config import Config
from ..engine.records import RecordType
from ..scrub import scrub_bytes
from .alerts import Alerter, AlertRules
from .feed import FeedStatus
from .metrics import SessionMetrics
from .watch_server import WatchApp, serve

log = logging.getLogger("trio_paper.watch")

POLL_S = 0.5
PRICE_POINTS = 600
LAST_RECORDS = 50
SUBSCRIBER_BACKLOG = 8
"""Updates a slow page may fall behind by; then the oldest are dropped (each is a full state)."""


@attrs.frozen
class WatchPlan:
    """What ``run`` decides before the session: where alerts go, and the bound server socket
    with its token, if serving."""

    alerter: Alerter
    server: socket.socket | None = None
    token: str | None = None

    @property
    def active(self) -> bool:
        """Whether there is anything to watch for: without alerts or a server, a session runs
        exactly as it did before watchers existed."""
        return self.alerter.deliver is not None or self.server is not None


@attrs.frozen
class WatchSources:
    """What the session already has, handed over as it is."""

    feed: Callable[[], FeedStatus]  # Session.feed_status: all sockets as one
    snapshot: Callable[[], Mapping[str, Any]]  # StatusBoard.snapshot
    feed_health: Callable[[], Mapping[str, int]]  # Core.feed_health: bad frames, ...
    checkpoint_age: Callable[[], float]  # seconds since the last checkpoint (trio time)
    clock_ms: Callable[[], int]  # the session's wall clock


class _Subscriber:
    def __init__(self) -> None:
        self.backlog: deque[bytes] = deque(maxlen=SUBSCRIBER_BACKLOG)
        self.wake = trio.Event()


class Watchers:
    def __init__(self, config: Config, sources: WatchSources, plan: WatchPlan) -> None:
        self.config = config
        self.sources = sources
        self.alerter = plan.alerter
        self.plan = plan
        self.rules = AlertRules(config.alerts)
        self.prom = SessionMetrics(sources.feed, sources.feed_health)
        self.run_info: dict[str, Any] | None = None
        self._prices: deque[tuple[int, float, float | None]] = deque(maxlen=PRICE_POINTS)
        self._records: deque[dict[str, Any]] = deque(maxlen=LAST_RECORDS)
        self._new_records: list[dict[str, Any]] = []
        self._subscribers: set[_Subscriber] = set()
        self._page: bytes | None = None

    # --- called by the session -------------------------------------------------------------

    def on_records(self, records: list[dict[str, Any]]) -> None:
        """After ``records`` are in the journal: never blocks, never raises."""
        try:
            now = trio.current_time()
            self.prom.on_records(records, self.sources.clock_ms())
            for alert in self.rules.on_records(records, now):
                self.alerter.post(alert, now)
            for record in records:
                if record["type"] == RecordType.SESSION_START:
                    strategy = record.get("strategy") or {}
                    self.run_info = {
                        "run_id": record.get("run_id"), "venue": record.get("venue"),
                        "symbol": record.get("symbol"), "strategy": strategy.get("name"),
                    }  # fmt: skip
            self._records.extend(records)
            self._new_records.extend(records)
            del self._new_records[:-LAST_RECORDS]
        except Exception:  # a watcher's bug must never stop trading
            log.exception("watchers: on_records failed")

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Send alerts, poll health, feed the live page, serve HTTP: until cancelled."""
        async with trio.open_nursery() as nursery:
            await nursery.start(self.alerter.run)
            if self.plan.server is not None:
                app = WatchApp(self, self.plan.token)
                await nursery.start(serve, app, self.plan.server, self.config.session.stop_grace_s)
            task_status.started()
            while True:
                self._poll()
                await trio.sleep(POLL_S)

    # --- health ------------------------------------------------------------------------------

    def health(self) -> tuple[bool, dict[str, Any]]:
        """Healthy while the feed is up and the checkpoint is fresh; the body says why not."""
        feed, other = self._problems()
        reasons = feed + other
        age = self.sources.checkpoint_age()
        body = {
            "status": "ok" if not reasons else "unhealthy",
            "reasons": reasons,
            "feed_connected": self.sources.feed().connected,
            "checkpoint_age_s": None if math.isinf(age) else round(age, 1),
        }
        return not reasons, body

    def _problems(self) -> tuple[list[str], list[str]]:
        feed: list[str] = []
        now = trio.current_time()
        status = self.sources.feed()
        if self.rules.down_since is not None:
            feed.append(f"feed down for {now - self.rules.down_since:.0f} s")
        elif not status.connected:
            feed.append(f"feed not connected ({status.last_error or 'connecting'})")
        other: list[str] = []
        age = self.sources.checkpoint_age()
        limit = 2 * self.config.session.checkpoint_interval_s + 10
        if not math.isinf(age) and age > limit:
            other.append(f"last checkpoint {age:.0f} s ago (limit {limit:g} s)")
        return feed, other

    # --- the page ----------------------------------------------------------------------------

    def page(self) -> bytes:
        if self._page is None:
            folder = resources.files("trio_paper.report")
            css = folder.joinpath("page.css").read_text(encoding="utf-8")
            html = folder.joinpath("live.html").read_text(encoding="utf-8")
            self._page = html.replace("/*PAGE_CSS*/", css).encode("utf-8")
        return self._page

    def metrics(self) -> bytes:
        self._gauges()
        return self.prom.render()

    def _gauges(self) -> None:
        age = self.sources.checkpoint_age()
        if not math.isinf(age):
            self.prom.checkpoint_age.set(age)

    async def updates(self) -> AsyncGenerator[bytes, None]:
        """One page's stream of server-sent events: everything now, then each change."""
        subscriber = _Subscriber()
        subscriber.backlog.append(self._event(full=True))
        self._subscribers.add(subscriber)
        try:
            while True:
                while subscriber.backlog:
                    yield subscriber.backlog.popleft()
                subscriber.wake = trio.Event()
                with trio.move_on_after(15):
                    await subscriber.wake.wait()
                if not subscriber.backlog:
                    yield b": keep-alive\n\n"
        finally:
            self._subscribers.discard(subscriber)

    def _poll(self) -> None:
        now = trio.current_time()
        _, other = self._problems()
        for alert in self.rules.poll(now, other):
            self.alerter.post(alert, now)
        snapshot = self.sources.snapshot()
        price, equity = snapshot.get("price"), snapshot.get("equity")
        if price is not None:  # floats for the page's chart only: it draws, it does not add up
            mark = None if equity is None else float(equity)
            self._prices.append((self.sources.clock_ms(), float(price), mark))
            self.prom.price.set(float(price))
        self._gauges()
        if self._subscribers:
            event = self._event(full=False, snapshot=snapshot)
            for subscriber in self._subscribers:
                subscriber.backlog.append(event)
                subscriber.wake.set()
        self._new_records.clear()

    def _settled_records(self) -> list[dict[str, Any]]:
        """The last records but those the next update brings: no page shows one twice."""
        records = list(self._records)
        return records[: max(0, len(records) - len(self._new_records))]

    def _event(self, full: bool, snapshot: Mapping[str, Any] | None = None) -> bytes:
        healthy, body = self.health()
        state = {
            "now": self.sources.clock_ms(),
            "status": dict(snapshot if snapshot is not None else self.sources.snapshot()),
            "healthy": healthy,
            "reasons": body["reasons"],
            "run": self.run_info,
            "prices": list(self._prices) if full else list(self._prices)[-1:],
            "records": self._settled_records() if full else self._new_records,
        }
        data = orjson.dumps(state, default=_plain)
        return b"data: " + scrub_bytes(data) + b"\n\n"


def _plain(value: object) -> object:
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return str(value)
