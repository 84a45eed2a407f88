"""What a ``run`` sets up for being watched: alert channels and the live page's socket, before
the session starts; the last alerts and the list of unsent ones, after it ends."""

from __future__ import annotations

import logging
import os
import sys

import orjson

from ..config import Config
from ..runtime.alerts import (
    Alerter,
    apprise_delivery,
    end_alert,
    fatal_alert,
    summary_line,
)
from ..runtime.watch_server import SERVE_TOKEN_ENV, bind, parse_address
from ..runtime.watchers import WatchPlan
from ..secrets import alert_urls
from .lifecycle import Run

log = logging.getLogger("trio_paper.run")


def watch_plan(config: Config, serve: str | None, token: str | None) -> WatchPlan:
    """Alert channels from the environment; the server's socket, bound now (a port in use is
    a usage error before anything starts)."""
    urls = alert_urls(os.environ)
    alerter = Alerter(config.alerts, apprise_delivery(urls) if urls else None)
    address = serve or config.session.serve
    if address is None:
        return WatchPlan(alerter)
    token = token or os.environ.get(SERVE_TOKEN_ENV, "").strip() or None  # .env is loaded now
    return WatchPlan(alerter, bind(parse_address(address), token), token)


def last_alerts(alerter: Alerter, run: Run, reason: str, fatal: str | None) -> None:
    """Send the fatal and session-end alerts; list in the manifest what could not be sent."""
    try:
        line = summary_line(orjson.loads(run.dir.summary_json.read_bytes()))
    except (OSError, ValueError, KeyError, TypeError):
        line = f"see {run.dir.summary_html}"
    last = ([fatal_alert(fatal)] if fatal else []) + [end_alert(reason, line)]
    unsent = alerter.finish(last)
    if alerter.suppressed:
        log.warning("alerts over their rate limit, not sent: %s", dict(alerter.suppressed))
    if not unsent:
        return
    run.manifest.alerts_unsent = [
        {"event": alert.event, "title": alert.title, "error": error} for alert, error in unsent
    ]
    for alert, error in unsent:
        print(f"trio-paper: alert not sent: {alert.title} ({error})", file=sys.stderr)
    try:
        run.save()
    except OSError as exc:
        log.error("cannot list the unsent alerts in the manifest: %s", exc)
