"""Running real ``trio-paper run --sim`` sessions in tests, and reading what they leave."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import attrs
import orjson

QUICK_CONFIG = """\
feed:
  ping_interval_s: 3
  pong_timeout_s: 1.5
  stale_after_s: 2.5
  connect_timeout_s: 2
  backoff_initial_s: 0.2
  backoff_max_s: 2
  healthy_after_s: 5
session:
  checkpoint_interval_s: 2
  status_interval_s: 5
"""
"""Short timeouts, so a fault is noticed and survived within seconds."""


@attrs.frozen
class Finished:
    code: int
    stdout: str
    stderr: str
    home: Path

    @property
    def run(self) -> Path:
        return (self.home / "runs" / "latest").resolve()

    def summary(self) -> dict[str, Any]:
        summary: dict[str, Any] = orjson.loads((self.run / "summary.json").read_bytes())
        return summary

    def records(self, run: Path | None = None) -> list[dict[str, Any]]:
        events = (run or self.run) / "events.jsonl"
        return [orjson.loads(line) for line in events.read_bytes().splitlines()]


def make_home(tmp: Path, config: str = QUICK_CONFIG) -> Path:
    home = tmp / "home"
    home.mkdir(exist_ok=True)
    (home / "config.yaml").write_text(config)
    return home


def command(home: Path, *args: str) -> list[str]:
    return [sys.executable, "-m", "trio_paper", "--home", str(home), *args]


def start(home: Path, *args: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    return subprocess.Popen(
        command(home, *args), stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env
    )


def finish(process: subprocess.Popen[str], home: Path, timeout: float) -> Finished:
    stdout, stderr = process.communicate(timeout=timeout)
    return Finished(process.returncode, stdout, stderr, home)


def run(home: Path, *args: str, timeout: float = 300) -> Finished:
    return finish(start(home, *args), home, timeout)


def wait_for(predicate: Any, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def newest_run(home: Path) -> Path:
    """The newest run folder, finished or not (``runs/latest`` is the newest finished one);
    run ids sort by their start time."""
    runs = [p for p in (home / "runs").glob("*") if p.is_dir() and not p.is_symlink()]
    if not runs:
        raise AssertionError(f"no run under {home}")
    return max(runs, key=lambda p: p.name)


def journal_has(home: Path, kind: str) -> bool:
    try:
        events = newest_run(home) / "events.jsonl"
    except AssertionError:
        return False
    return events.exists() and f'"type":"{kind}"'.encode() in events.read_bytes()


def signal_process(process: subprocess.Popen[str], signum: signal.Signals) -> None:
    process.send_signal(signum)


def feed_events(records: list[dict[str, Any]], event: str) -> list[dict[str, Any]]:
    return [r for r in records if r["type"] == "feed" and r.get("event") == event]


def down_windows(records: list[dict[str, Any]]) -> list[tuple[int, int]]:
    """``[from, to)`` spans, by journal ``ts``, when the feed was down or stale."""
    windows = []
    down_since: int | None = None
    for record in records:
        if record["type"] != "feed":
            continue
        if record["event"] in ("disconnected", "stale") and down_since is None:
            down_since = record["ts"]
        elif record["event"] == "recovered" and down_since is not None:
            windows.append((down_since, record["ts"]))
            down_since = None
    if down_since is not None:
        windows.append((down_since, records[-1]["ts"] + 1))
    return windows
