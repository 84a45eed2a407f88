"""Alerts: which records and times make one, the rate limit, and real sends through apprise to a
webhook receiver on loopback — a dead or silent endpoint costs the sending task, nobody else."""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

import pytest
import trio

from tests.runtime.alertkit import black_hole, closed_port, webhook_receiver
from trio_paper.config import AlertsConfig, from_dict, load
from trio_paper.runtime.alerts import (
    Alert,
    Alerter,
    AlertError,
    AlertRules,
    apprise_delivery,
    quiet,
)
from trio_paper.secrets import alert_urls, secret_parts


def _feed(event: str, **fields: Any) -> dict[str, Any]:
    return {"seq": 1, "ts": 0, "type": "feed", "event": event, **fields}


def test_the_feed_alerts_only_when_down_longer_than_the_limit() -> None:
    rules = AlertRules(AlertsConfig(down_after_s=5))
    assert rules.on_records([_feed("disconnected", reason="x")], now=100) == []
    assert rules.poll(104.9, []) == []
    assert rules.on_records([_feed("disconnected", reason="again")], now=104) == []
    [down] = rules.poll(105, [])
    assert (down.event, down.level) == ("feed_down", "warning")
    assert rules.poll(200, []) == []  # once per outage
    [up] = rules.on_records([_feed("recovered", down_ms=9000)], now=109)
    assert up.event == "feed_up"
    assert "9.0 s" in up.body
    # a short outage: no alert either way
    rules.on_records([_feed("stale", silent_ms=2500)], now=300)
    assert rules.on_records([_feed("recovered", down_ms=3000)], now=303) == []
    assert rules.poll(400, []) == []


def test_kill_halt_start_and_fills_make_their_alerts() -> None:
    rules = AlertRules(AlertsConfig())
    records: list[dict[str, Any]] = [
        {"type": "session_start", "run_id": "r1", "venue": "bitunix", "symbol": "BTCUSDT",
         "interval": "1min", "strategy": {"name": "ema_cross"}, "resumed": False,
         "equity": "10000", "position": "0"},
        {"type": "fill", "side": "buy", "qty": "0.1", "price": "97000.0", "position": "0.1",
         "pnl": "0"},
        {"type": "risk", "event": "halt", "reason": "breaker", "until": 1, "equity": "9000"},
        {"type": "risk", "event": "kill", "source": "file KILL in state/"},
    ]  # fmt: skip
    alerts = rules.on_records(records, now=0)
    assert [a.event for a in alerts] == ["session", "fill", "halt", "kill"]
    assert "run r1" in alerts[0].body
    assert "file KILL in state/" in alerts[3].body


def test_degraded_alerts_once_per_episode() -> None:
    rules = AlertRules(AlertsConfig())
    [alert] = rules.poll(1, ["last checkpoint 90 s ago"])
    assert alert.event == "degraded"
    assert rules.poll(2, ["last checkpoint 91 s ago"]) == []
    assert rules.poll(3, []) == []
    assert len(rules.poll(4, ["last checkpoint 90 s ago"])) == 1


def _never(alert: Alert, quietly: bool) -> str | None:
    raise AssertionError("post must not send")


def test_the_rate_limit_and_off_events_are_not_queued() -> None:
    settings = {"max_per_event": 2, "per_s": 60, "events": {"fill": "off"}}
    config = from_dict({"alerts": settings}, "t")
    alerter = Alerter(config.alerts, _never)
    down = Alert("feed_down", "t", "b")
    for now in (0, 1, 2, 3):
        alerter.post(down, now)
    alerter.post(Alert("fill", "t", "b"), 4)
    alerter.post(down, 60.5)  # the first has left the window
    assert len(alerter._queue) == 3
    assert alerter.suppressed == {"feed_down": 2}


def test_bare_on_and_off_in_yaml_read_as_modes(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("alerts:\n  events:\n    fill: on\n    kill: off\n    halt: silent\n")
    events = load(path).alerts.events
    assert (events.fill, events.kill, events.halt) == ("on", "off", "silent")


def test_urls_come_from_the_environment_and_every_token_part_is_a_secret() -> None:
    env = {
        "TRIO_PAPER_ALERT_URLS": " tgram://123456789:AAbbCCddEEff/987654321 ,, "
        "discord://1234567890/webhooktokenvalue , json://127.0.0.1:9/hook?key=qvalue123"
    }
    urls = alert_urls(env)
    assert len(urls) == 3
    parts = secret_parts(urls)
    for piece in ("123456789:AAbbCCddEEff", "987654321", "webhooktokenvalue", "qvalue123"):
        assert piece in parts
    assert "127.0.0.1:9" not in parts
    assert quiet(urls[0]).endswith("?silent=yes")
    assert quiet(urls[1]) == urls[1]


def test_an_unusable_url_is_one_line_that_does_not_show_it() -> None:
    with pytest.raises(AlertError) as caught:
        apprise_delivery(["json://127.0.0.1:9/x", "nosuchscheme://secretvalue123/abc"])
    message = str(caught.value)
    assert "URL 2 of 2 (nosuchscheme://...)" in message
    assert "secretvalue123" not in message
    assert "\n" not in message


async def _until(predicate: Any, what: str) -> None:
    """Poll ``predicate``: what it watches changes in another thread, which cannot set an Event."""
    while not predicate():  # noqa: ASYNC110
        await trio.sleep(0.02)


async def test_alerts_reach_a_webhook_in_order_with_their_level() -> None:
    with webhook_receiver() as receiver, trio.fail_after(20):
        alerter = Alerter(AlertsConfig(), apprise_delivery([receiver.url]))
        async with trio.open_nursery() as nursery:
            await nursery.start(alerter.run)
            alerter.post(Alert("session", "one", "first", "info"), 0)
            alerter.post(Alert("kill", "two", "second", "failure"), 0)
            await _until(lambda: len(alerter.sent) == 2, "two sends")  # the receiver has them first
            nursery.cancel_scope.cancel()
        assert [(p["title"], p["message"], p["type"]) for p in receiver.posts] == [
            ("one", "first", "info"),
            ("two", "second", "failure"),
        ]
        assert receiver.paths == ["/hook", "/hook"]
        assert [a.title for a in alerter.sent] == ["one", "two"]
        # after the loop: the last alerts go out synchronously
        assert alerter.finish([Alert("session", "three", "end")]) == []
        assert receiver.titles() == ["one", "two", "three"]


async def test_a_dead_endpoint_is_logged_once_per_burst_and_listed_unsent(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = f"json://127.0.0.1:{closed_port()}/hook"
    alerter = Alerter(AlertsConfig(), apprise_delivery([url]))
    with trio.fail_after(20), caplog.at_level(logging.WARNING, "trio_paper.alerts"):
        async with trio.open_nursery() as nursery:
            await nursery.start(alerter.run)
            for n in range(3):
                alerter.post(Alert("session", f"a{n}", "b"), 0)
            await _until(lambda: len(alerter.unsent) == 3, "three failures")
            nursery.cancel_scope.cancel()
    assert [a.title for a, _ in alerter.unsent] == ["a0", "a1", "a2"]
    assert len([r for r in caplog.records if "cannot send" in r.getMessage()]) == 1


async def test_a_silent_endpoint_times_out_without_holding_anyone() -> None:
    with black_hole() as port, trio.fail_after(20):
        config = AlertsConfig(send_timeout_s=0.5)
        alerter = Alerter(config, apprise_delivery([f"json://127.0.0.1:{port}/hook"]))
        async with trio.open_nursery() as nursery:
            await nursery.start(alerter.run)
            started = time.monotonic()
            alerter.post(Alert("session", "slow", "b"), 0)
            assert time.monotonic() - started < 0.05  # posting never waits for the channel
            await _until(lambda: alerter.unsent, "the timeout")
            assert time.monotonic() - started < 2
            nursery.cancel_scope.cancel()
        [(alert, error)] = alerter.unsent
        assert alert.title == "slow"
        assert error == "no answer within 0.5 s"
        started = time.monotonic()
        unsent = alerter.finish([Alert("session", "end", "b")])
        assert [a.title for a, _ in unsent] == ["slow", "end"]
        assert time.monotonic() - started < 2
