"""Watching real ``trio-paper run --sim`` sessions: webhook alerts through an outage and a kill,
a dead alert endpoint that changes nothing, /healthz through an injected outage, /metrics as
Prometheus parses it, the token, a port in use, a stop that no open stream can hold, and a
session that a bug ends."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any

import orjson
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.runtime.alertkit import black_hole, webhook_receiver
from tests.runtime.sessionkit import (
    QUICK_CONFIG,
    Finished,
    command,
    finish,
    make_home,
    newest_run,
    run,
    wait_for,
)

pytestmark = pytest.mark.slow

TOKEN = "watch-token-0123456789"


def _start(home: Path, *args: str, **env: str) -> subprocess.Popen[str]:
    """Start a session with only the watch settings ``env`` names from this test."""
    environ = {k: v for k, v in os.environ.items() if not k.startswith("TRIO_PAPER_")}
    environ.update(PYTHONUNBUFFERED="1", **env)
    return subprocess.Popen(
        command(home, *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env=environ,
    )  # fmt: skip


def _journal(home: Path) -> list[dict[str, Any]]:
    try:
        path = newest_run(home) / "events.jsonl"
    except AssertionError:
        return []
    if not path.exists():
        return []
    return [orjson.loads(line) for line in path.read_bytes().splitlines() if line.endswith(b"}")]


def _count(home: Path, event: str) -> int:
    return sum(1 for r in _journal(home) if r["type"] == "feed" and r.get("event") == event)


def _served_port(home: Path) -> int:
    logs = home / "logs" / "system.jsonl"
    pattern = re.compile(rb"watching at http://127\.0\.0\.1:(\d+)/")
    wait_for(lambda: logs.exists() and pattern.search(logs.read_bytes()), 30, "the server")
    found = pattern.search(logs.read_bytes())
    assert found is not None
    return int(found[1])


def _get(url: str, token: str | None = None, timeout: float = 5) -> tuple[int, bytes]:
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.read()


def _healthcheck(url: str, token: str) -> subprocess.CompletedProcess[str]:
    """The container's HEALTHCHECK command, as it runs there."""
    env = {**os.environ, "TRIO_PAPER_HEALTHZ": url, "TRIO_PAPER_SERVE_TOKEN": token}
    return subprocess.run(
        [sys.executable, "-m", "trio_paper", "status", "--check"],
        env=env, capture_output=True, text=True, timeout=30, check=False,
    )  # fmt: skip


def test_webhook_alerts_through_two_outages_and_a_kill(tmp_path: Path) -> None:
    """Exactly one feed_down and one feed_up for two outages (one per event per hour), the
    kill, and start and end — each once."""
    config = QUICK_CONFIG + "alerts:\n  down_after_s: 1\n  max_per_event: 1\n"
    home = make_home(tmp_path, config)
    with webhook_receiver() as receiver:
        process = _start(
            home, "run", "--sim", "--minutes", "3", "--sim-fault", "refuse@6:4",
            "--sim-fault", "refuse@18:4", TRIO_PAPER_ALERT_URLS=receiver.url,
        )  # fmt: skip
        wait_for(lambda: _count(home, "recovered") >= 2, 90, "two outages and recoveries")
        (home / "state" / "KILL").touch()
        finished = finish(process, home, timeout=60)
        assert finished.code == 4, finished.stderr
        assert receiver.titles() == [
            "trio-paper: session started",
            "trio-paper: feed down",
            "trio-paper: feed back",
            "trio-paper: KILL SWITCH",
            "trio-paper: session ended",
        ]
        types = [post["type"] for post in receiver.posts]
        assert types == ["info", "warning", "success", "failure", "failure"]
        end = receiver.posts[-1]["message"]
        assert end.startswith("kill switch")
        assert "trade(s)" in end
    assert "more than 1 feed_down alerts in 3600 s" in finished.stderr
    assert receiver.url not in finished.stderr
    manifest = json.loads((finished.run / "manifest.json").read_text())
    assert "alerts_unsent" not in manifest


def test_a_dead_alert_endpoint_changes_nothing_in_the_journal(tmp_path: Path) -> None:
    config = QUICK_CONFIG + "alerts:\n  send_timeout_s: 1\n"
    home = make_home(tmp_path, config)
    with black_hole() as port:
        url = f"json://alerts:hook-password-123@127.0.0.1:{port}/hook-path-secret"
        started = time.monotonic()
        process = _start(home, "run", "--sim", "--minutes", "0.25", TRIO_PAPER_ALERT_URLS=url)
        finished = finish(process, home, timeout=90)
        took = time.monotonic() - started
    assert finished.code == 0, finished.stderr
    assert took < 15 + 10 + 2 + 15  # the deadline, the grace, the last alert's timeout, start-up
    manifest = json.loads((finished.run / "manifest.json").read_text())
    assert [a["title"] for a in manifest["alerts_unsent"]] == [
        "trio-paper: session started",
        "trio-paper: session ended",
    ]
    assert "alert not sent: trio-paper: session ended" in finished.stderr
    written = finished.stderr + (home / "logs" / "system.jsonl").read_text()
    written += (finished.run / "manifest.json").read_text()
    assert "hook-password-123" not in written
    assert "hook-path-secret" not in written
    records = finished.records()
    assert records[-1]["type"] == "session_end"
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
    replayed = run(tmp_path, "replay", "--file", str(finished.run / "recording.jsonl"))
    assert replayed.code == 0, replayed.stderr
    assert (tmp_path / "runs" / "latest" / "events.jsonl").read_bytes() == (
        finished.run / "events.jsonl"
    ).read_bytes()


def test_healthz_metrics_and_the_token_through_an_outage(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    process = _start(
        home, "run", "--sim", "--minutes", "3", "--serve", "127.0.0.1:0",
        "--sim-fault", "refuse@10:6", TRIO_PAPER_SERVE_TOKEN=TOKEN,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{_served_port(home)}"
        assert _get(f"{base}/healthz")[0] == 401
        assert _get(f"{base}/metrics", "wrong-token-0123456789")[0] == 401
        wait_for(lambda: _get(f"{base}/healthz", TOKEN)[0] == 200, 30, "healthy")
        assert _get(f"{base}/healthz?token={TOKEN}")[0] == 200
        wait_for(lambda: _get(f"{base}/healthz", TOKEN)[0] == 503, 30, "the outage")
        code, body = _get(f"{base}/healthz", TOKEN)
        health = json.loads(body)
        assert code == 503, health
        assert health["status"] == "unhealthy"
        assert any("feed" in reason for reason in health["reasons"])
        wait_for(lambda: _get(f"{base}/healthz", TOKEN)[0] == 200, 30, "the recovery")
        assert _healthcheck(f"{base}/healthz", TOKEN).returncode == 0
        assert _healthcheck(f"{base}/healthz", "wrong-token-0123456789").returncode == 1

        code, text = _get(f"{base}/metrics", TOKEN)
        assert code == 200
        families = {f.name: f for f in text_string_to_metric_families(text.decode())}
        value = {name: f.samples[0].value for name, f in families.items()}
        assert value["trio_paper_frames"] > 0
        assert value["trio_paper_reconnects"] >= 1
        assert value["trio_paper_stale_periods"] >= 1
        assert value["trio_paper_equity_usdt"] > 0
        assert value["trio_paper_feed_connected"] == 1
        assert "trio_paper_frame_to_journal_seconds" in families
        page = _get(f"{base}/", TOKEN)[1]
        assert b"<script" in page
        assert b"http://" not in page  # no CDN: it works offline
        assert b"https://" not in page

        # a page left open (an endless event stream) must not hold the stop
        stream = socket.create_connection(("127.0.0.1", int(base.rsplit(":", 1)[1])))
        stream.sendall(f"GET /events?token={TOKEN} HTTP/1.1\r\nHost: x\r\n\r\n".encode())
        assert b"200" in stream.recv(200)
        stopped = time.monotonic()
        process.send_signal(signal.SIGTERM)
        finished = finish(process, home, timeout=60)
        stream.close()
    finally:
        if process.poll() is None:
            process.kill()
    assert finished.code == 0, finished.stderr
    assert time.monotonic() - stopped < 10 + 5  # stop_grace_s and the reports
    assert TOKEN not in finished.stderr
    assert TOKEN not in (home / "logs" / "system.jsonl").read_text()


def test_serving_beyond_loopback_needs_the_token(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    finished = finish(_start(home, "run", "--sim", "--serve", "0.0.0.0:0"), home, timeout=60)
    assert finished.code == 2
    assert finished.stderr.strip().splitlines() == [
        "trio-paper: --serve 0.0.0.0:0: serving beyond loopback needs a token; set "
        "TRIO_PAPER_SERVE_TOKEN in the environment or .env (requests then need it)"
    ]
    assert not (home / "runs" / "latest").exists()


def test_a_port_in_use_is_one_line_and_exit_2(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        process = _start(home, "run", "--sim", "--serve", f"127.0.0.1:{port}")
        finished: Finished = finish(process, home, timeout=60)
    assert finished.code == 2
    assert finished.stderr.strip().splitlines() == [
        f"trio-paper: --serve 127.0.0.1:{port}: cannot listen: Address already in use"
    ]


INJECTED = '''\
"""Put on PYTHONPATH by a test: an error in the session shell, at its 40th input."""
import trio_paper.runtime.session as session
from trio_paper.errors import FatalIO

_handle = session.Session._handle
_seen = []


def _failing(self, item):
    _seen.append(None)
    if len(_seen) == 40:
        raise {error}
    return _handle(self, item)


session.Session._handle = _failing
'''
BUG = 'RuntimeError("injected bug 7f3a")'


def start_injected(home: Path, error: str, alerts: str) -> subprocess.Popen[str]:
    """A ``run --sim`` session whose shell raises ``error`` (Python source) at its 40th input."""
    inject = home.parent / "inject"
    inject.mkdir(exist_ok=True)
    (inject / "sitecustomize.py").write_text(INJECTED.replace("{error}", error))
    path = os.pathsep.join(p for p in (str(inject), os.environ.get("PYTHONPATH")) if p)
    return _start(
        home, "run", "--sim", "--minutes", "2", TRIO_PAPER_ALERT_URLS=alerts, PYTHONPATH=path
    )


def test_a_session_that_crashes_is_finished_alerted_and_recovered(tmp_path: Path) -> None:
    """An unexpected error (a bug, injected into a real process) still ends the run: the
    manifest says so, the reports are written, the fatal alert is sent, the traceback is in the
    log, and the next start recovers the account from what was synced."""
    home = make_home(tmp_path)
    with webhook_receiver() as receiver:
        crashed = finish(start_injected(home, BUG, receiver.url), home, timeout=90)
        assert crashed.code == 1, crashed.stderr
        assert receiver.titles() == [
            "trio-paper: session started",
            "trio-paper: FATAL",
            "trio-paper: session ended",
        ]
        assert "crashed: RuntimeError: injected bug 7f3a" in receiver.posts[1]["message"]
    assert "trio-paper: crashed: RuntimeError: injected bug 7f3a (a bug" in crashed.stderr
    manifest = json.loads((crashed.run / "manifest.json").read_text())
    assert manifest["exit_code"] == 1
    assert manifest["exit_reason"] == "crashed: RuntimeError: injected bug 7f3a"
    page = (crashed.run / "summary.html").read_text()
    assert "did not finish (crashed: RuntimeError: injected bug 7f3a)" in page
    logged = [
        orjson.loads(line) for line in (home / "logs" / "system.jsonl").read_bytes().splitlines()
    ]
    errors = [entry for entry in logged if entry["level"] == "ERROR"]
    assert "injected bug 7f3a" in errors[-1]["traceback"]
    crashed_run = crashed.run  # runs/latest moves on with the next start
    synced = crashed.records()
    assert synced
    assert synced[-1]["type"] != "session_end"

    again = run(home, "run", "--sim", "--minutes", "0.1")
    assert again.code == 0, again.stderr
    recovered = again.records(crashed_run)
    assert recovered[: len(synced)] == synced
    assert recovered[-1]["type"] == "session_end"
    assert recovered[-1]["reason"] == "interrupted; recovered at the next start"
    manifest = json.loads((crashed_run / "manifest.json").read_text())
    assert manifest["exit_reason"] == (
        "crashed: RuntimeError: injected bug 7f3a; recovered at the next start"
    )
    assert manifest["exit_code"] == 1
    started = again.records()[0]
    assert started["type"] == "session_start"
    assert started["resumed"] is True
    assert started["cash"] == recovered[-1]["cash"]


def test_a_fatal_io_error_explains_what_failed_beside_it(tmp_path: Path) -> None:
    """A failed write that also breaks another task (a waiter's own error beside it): the run
    ends as fatal I/O, exit 3, with the write's message, not as a crash of the other."""
    home = make_home(tmp_path)
    both = f'ExceptionGroup("both", [FatalIO("cannot write x: No space left"), {BUG}])'
    with webhook_receiver() as receiver:
        ended = finish(start_injected(home, both, receiver.url), home, timeout=90)
        assert ended.code == 3, ended.stderr
        assert receiver.titles()[-2:] == ["trio-paper: FATAL", "trio-paper: session ended"]
        assert receiver.posts[-2]["message"] == "cannot write x: No space left"
    assert "trio-paper: fatal: cannot write x: No space left" in ended.stderr
    assert "crashed" not in ended.stderr
    manifest = json.loads((ended.run / "manifest.json").read_text())
    assert (manifest["exit_code"], manifest["exit_reason"]) == (
        3,
        "fatal I/O: cannot write x: No space left",
    )
    logged = (home / "logs" / "system.jsonl").read_text()
    assert "failed beside the fatal I/O error" in logged
    assert "injected bug 7f3a" in logged
