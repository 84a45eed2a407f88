"""Alerts: what deserves a message to a phone, and sending it without ever slowing trading.

``AlertRules`` turns the session's journal records (and the clock, for "down longer than") into
``Alert`` values; it does no I/O. ``Alerter`` owns a small queue of them and one task in the
session's nursery that sends each, through apprise, in a worker thread under a timeout. A slow or
dead channel costs that task time, never the engine's: ``post`` only appends to the queue. What
could not be sent by the end — failed, timed out, or still queued — is in ``Alerter.unsent``,
which ``finish`` (called after the event loop, with the session-end alert) completes.

The apprise URLs hold tokens: they come from ``TRIO_PAPER_ALERT_URLS`` (the environment or
``.env``) only, and ``secret_parts`` gives the scrubber every piece of them.
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections import Counter, deque
from collections.abc import Callable
from typing import Any

import attrs
import trio

from ..config import AlertsConfig
from ..engine.records import RecordType
from ..errors import UsageError
from ..secrets import ALERT_URLS_ENV

log = logging.getLogger("trio_paper.alerts")

QUEUE_SIZE = 100
"""Alerts waiting to be sent; past this the oldest is given up (and listed as unsent)."""
LEVELS = ("info", "success", "warning", "failure")


class AlertError(UsageError, ValueError):
    """``TRIO_PAPER_ALERT_URLS`` holds something apprise cannot use (the message never shows it)."""


@attrs.frozen
class Alert:
    event: str  # an ``alerts.events`` key: session, kill, halt, feed_down, ...
    title: str
    body: str
    level: str = attrs.field(default="info", validator=attrs.validators.in_(LEVELS))


# --- where alerts go ---------------------------------------------------------------------------


def quiet(url: str) -> str:
    """``url`` asking the channel for a silent notification where apprise can (Telegram)."""
    if not url.startswith(("tgram://", "telegram://")):
        return url
    return url + ("&" if "?" in url else "?") + "silent=yes"


Deliver = Callable[[Alert, bool], str | None]
"""Send one alert (``True``: silently) to every channel; ``None``, or why it failed."""


def apprise_delivery(urls: list[str]) -> Deliver:
    """Deliver through apprise to ``urls``; an unusable URL is an ``AlertError`` now, at start."""
    # apprise loads its plugins on first use, one of which imports imghdr (deprecated in 3.11)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import apprise  # noqa: PLC0415  (only a session with alert URLs pays for importing it)

        # Its failures reach us through LogCapture, and are logged once per burst, by us.
        logging.getLogger("apprise").propagate = False
        loud, silent = apprise.Apprise(), apprise.Apprise()
        for index, url in enumerate(urls, 1):
            if not loud.add(url) or not silent.add(quiet(url)):
                scheme = url.partition("://")[0] if "://" in url else "(no scheme)"
                raise AlertError(
                    f"{ALERT_URLS_ENV}: URL {index} of {len(urls)} ({scheme}://...) is not an "
                    "apprise URL apprise can use; see https://github.com/caronc/apprise/wiki"
                )

    def deliver(alert: Alert, quietly: bool) -> str | None:
        target = silent if quietly else loud
        with apprise.LogCapture(level=logging.WARNING) as captured:  # type: ignore[no-untyped-call]
            ok = target.notify(
                body=alert.body, title=alert.title, notify_type=apprise.NotifyType(alert.level)
            )
        if ok:
            return None
        lines = [line for line in captured.getvalue().splitlines() if line.strip()]
        return lines[-1].strip() if lines else "apprise reported a failure"

    return deliver


# --- what deserves an alert --------------------------------------------------------------------


class AlertRules:
    """Records and time in, ``Alert`` values out: no I/O, no clock of its own."""

    def __init__(self, config: AlertsConfig) -> None:
        self.config = config
        self.down_since: float | None = None
        self._down_alerted = False
        self._degraded = False

    def on_records(self, records: list[dict[str, Any]], now: float) -> list[Alert]:
        alerts = []
        for record in records:
            kind = record["type"]
            event = record.get("event")
            if kind == RecordType.SESSION_START:
                alerts.append(
                    Alert("session", "trio-paper: session started", _started(record), "info")
                )
            elif kind == RecordType.RISK and event == "kill":
                alerts.append(
                    Alert(
                        "kill",
                        "trio-paper: KILL SWITCH",
                        f"kill switch ({record.get('source')}): orders cancelled, position "
                        f"closed, the session stops. equity {record.get('equity', '?')}",
                        "failure",
                    )
                )
            elif kind == RecordType.RISK and event == "halt":
                alerts.append(
                    Alert(
                        "halt",
                        "trio-paper: entries halted",
                        f"{record.get('reason')}; flat, no entries until {record.get('until')} "
                        f"(ms UTC); equity {record.get('equity')}",
                        "failure",
                    )
                )
            elif kind == RecordType.FILL:
                alerts.append(
                    Alert(
                        "fill",
                        f"trio-paper: {record.get('side')} {record.get('qty')}",
                        f"{record.get('side')} {record.get('qty')} at {record.get('price')}, "
                        f"position {record.get('position')}, pnl {record.get('pnl')}",
                        "info",
                    )
                )
            elif kind == RecordType.FEED and event in ("disconnected", "stale"):
                if self.down_since is None:
                    self.down_since = now
            elif kind == RecordType.FEED and event == "recovered":
                self.down_since = None
                if self._down_alerted:
                    self._down_alerted = False
                    seconds = int(record.get("down_ms") or 0) / 1000
                    alerts.append(
                        Alert(
                            "feed_up",
                            "trio-paper: feed back",
                            f"market data flows again after {seconds:.1f} s",
                            "success",
                        )
                    )
        return alerts

    def poll(self, now: float, health: list[str]) -> list[Alert]:
        """Alerts that time alone brings: the feed down too long, health newly degraded.
        ``health`` is what is wrong now besides the feed (empty when healthy)."""
        alerts = []
        down = self.down_since
        if down is not None and not self._down_alerted and now - down >= self.config.down_after_s:
            self._down_alerted = True
            alerts.append(
                Alert(
                    "feed_down",
                    "trio-paper: feed down",
                    f"no market data for {now - down:.0f} s; reconnecting. Nothing fills "
                    "on old prices meanwhile.",
                    "warning",
                )
            )
        if health and not self._degraded:
            alerts.append(Alert("degraded", "trio-paper: degraded", "; ".join(health), "warning"))
        self._degraded = bool(health)
        return alerts


def _started(record: dict[str, Any]) -> str:
    strategy = record.get("strategy") or {}
    resumed = ", resumed" if record.get("resumed") else ""
    return (
        f"run {record.get('run_id')}: {record.get('venue')} {record.get('symbol')} "
        f"{record.get('interval')}, strategy {strategy.get('name')}{resumed}; "
        f"equity {record.get('equity')}, position {record.get('position')}"
    )


def end_alert(reason: str, summary_line: str) -> Alert:
    level = "failure" if reason.startswith(("kill", "fatal")) else "info"
    return Alert("session", "trio-paper: session ended", f"{reason}. {summary_line}", level)


def summary_line(summary: dict[str, Any]) -> str:
    """One line from ``summary.json``: net PnL, return, trades, drawdown."""
    pnl, trades, curve = summary["pnl"], summary["trades"], summary["equity_curve"]
    return (
        f"net {pnl['net']} USDT ({pnl['return_pct']} %), {trades['count']} trade(s), "
        f"max drawdown {curve['max_drawdown_pct']} %, equity {pnl['ending_equity']}"
    )


def fatal_alert(message: str) -> Alert:
    return Alert("fatal", "trio-paper: FATAL", message, "failure")


# --- sending -----------------------------------------------------------------------------------


@attrs.define
class _Flight:
    """One send in a worker thread; it may outlive the wait for it (then ``finish`` looks)."""

    alert: Alert
    deliver: Deliver
    quietly: bool
    error: str | None = None
    done: threading.Event = attrs.Factory(threading.Event)

    def run(self) -> None:
        try:
            self.error = self.deliver(self.alert, self.quietly)
        except Exception as exc:  # a channel's bug must not end the session
            self.error = f"{type(exc).__name__}: {exc}"
        finally:
            self.done.set()


class Alerter:
    """The queue of alerts and the task that sends them; see the module docstring."""

    def __init__(self, config: AlertsConfig, deliver: Deliver | None) -> None:
        self.config = config
        self.deliver = deliver
        self.sent: list[Alert] = []
        self.unsent: list[tuple[Alert, str]] = []
        self.suppressed: Counter[str] = Counter()
        self._queue: deque[Alert] = deque()
        self._recent: dict[str, deque[float]] = {}
        self._wake = trio.Event()
        self._flight: _Flight | None = None
        self._failures = 0

    def mode(self, event: str) -> str:
        mode: str = getattr(self.config.events, event)
        return mode

    def post(self, alert: Alert, now: float) -> None:
        """Queue ``alert`` unless its event is off or over its rate limit. Never blocks."""
        if self.deliver is None or self.mode(alert.event) == "off":
            return
        recent = self._recent.setdefault(alert.event, deque())
        while recent and now - recent[0] >= self.config.per_s:
            recent.popleft()
        if len(recent) >= self.config.max_per_event:
            if not self.suppressed[alert.event]:
                log.warning(
                    "alerts: more than %d %s alerts in %g s; the rest are counted, not sent",
                    self.config.max_per_event,
                    alert.event,
                    self.config.per_s,
                )
            self.suppressed[alert.event] += 1
            return
        recent.append(now)
        self._queue.append(alert)
        if len(self._queue) > QUEUE_SIZE:
            self.unsent.append((self._queue.popleft(), "queue full"))
        self._wake.set()

    async def run(self, *, task_status: trio.TaskStatus[None] = trio.TASK_STATUS_IGNORED) -> None:
        """Send queued alerts, one at a time, until cancelled."""
        task_status.started()
        while True:
            while self._queue:
                alert = self._queue.popleft()
                flight = self._start(alert)
                with trio.move_on_after(self.config.send_timeout_s):
                    await trio.to_thread.run_sync(flight.run, abandon_on_cancel=True)
                self._settle(flight)
            self._wake = trio.Event()
            await self._wake.wait()

    def finish(self, last: list[Alert]) -> list[tuple[Alert, str]]:
        """After the event loop: settle the send in flight, send what is queued and ``last``
        (each under the send timeout), and return every alert that was not sent, and why."""
        flight = self._flight
        if flight is not None:
            flight.done.wait(self.config.send_timeout_s)
            self._settle(flight)
        if self.deliver is not None:
            self._queue.extend(a for a in last if self.mode(a.event) != "off")
        while self._queue:
            flight = self._start(self._queue.popleft())
            worker = threading.Thread(target=flight.run, name="alert", daemon=True)
            worker.start()
            flight.done.wait(self.config.send_timeout_s)
            self._settle(flight)
        return self.unsent

    def _start(self, alert: Alert) -> _Flight:
        assert self.deliver is not None
        self._flight = _Flight(alert, self.deliver, self.mode(alert.event) == "silent")
        return self._flight

    def _settle(self, flight: _Flight) -> None:
        """Count one send's outcome (once); failures are logged once per burst."""
        if self._flight is not flight:
            return
        self._flight = None
        if not flight.done.is_set():
            error: str | None = f"no answer within {self.config.send_timeout_s:g} s"
        else:
            error = flight.error
        if error is None:
            self.sent.append(flight.alert)
            if self._failures:
                log.info("alerts: sent again, after %d failed", self._failures)
            self._failures = 0
            return
        self.unsent.append((flight.alert, error))
        if not self._failures:
            log.warning(
                "alerts: cannot send %r: %s (further failures are not logged until one succeeds)",
                flight.alert.title,
                error,
            )
        self._failures += 1
