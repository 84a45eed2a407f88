"""Logging: the JSON record, rotation, private files, stderr for terminals and for machines."""

from __future__ import annotations

import contextlib
import io
import logging
import os
import pty
import re
import stat
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest

from trio_paper import logs, scrub
from trio_paper.config import LogConfig
from trio_paper.scrub import Scrubber

TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
SECRET = "log-secret-0123456789"


@pytest.fixture
def stderr() -> Iterator[io.StringIO]:
    """Where the logs' stderr handler writes; logging torn down afterwards."""
    stream = io.StringIO()
    previous = scrub.install(Scrubber([SECRET]))
    try:
        yield stream
    finally:
        logs.shutdown()
        scrub.install(previous)


def records(path: Path) -> list[dict[str, Any]]:
    return [orjson.loads(line) for line in path.read_bytes().splitlines()]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_one_json_record_per_event(tmp_path: Path, stderr: io.StringIO) -> None:
    path = logs.setup(tmp_path, LogConfig(level="DEBUG"), stderr=stderr)
    assert path == tmp_path / "logs" / "system.jsonl"
    log = logs.get("runtime.feed")
    log.debug("connecting")
    log.info("reconnected after %d s", 3, attempt=3, url="wss://h/p")
    logging.getLogger("trio_paper.session").warning("stale", extra={"fields": {"silent_ms": 9}})
    try:
        raise ValueError("bad frame")
    except ValueError:
        log.exception("pump failed", seq=17)
    logs.shutdown()

    got = records(path)
    assert [r["time"] for r in got] == [r["time"] for r in got if TIME.match(r["time"])]
    assert [{k: v for k, v in r.items() if k not in ("time", "traceback")} for r in got] == [
        {"level": "DEBUG", "component": "runtime.feed", "message": "connecting"},
        {
            "level": "INFO",
            "component": "runtime.feed",
            "message": "reconnected after 3 s",
            "fields": {"attempt": 3, "url": "wss://h/p"},
        },
        {
            "level": "WARNING",
            "component": "session",
            "message": "stale",
            "fields": {"silent_ms": 9},
        },
        {
            "level": "ERROR",
            "component": "runtime.feed",
            "message": "pump failed",
            "fields": {"seq": 17},
        },
    ]
    trace = got[-1]["traceback"]
    assert trace.startswith("Traceback (most recent call last):")
    assert trace.endswith("ValueError: bad frame")
    assert "test_logs.py" in trace
    assert [orjson.loads(line) for line in stderr.getvalue().splitlines()] == got


def test_fields_of_any_type_are_encoded(tmp_path: Path, stderr: io.StringIO) -> None:
    path = logs.setup(tmp_path, LogConfig(), stderr=stderr)
    logs.get("x").info("odd", price=Decimal("99400.1"), where=tmp_path, ids={1, 2}, by={3: "a"})
    logs.shutdown()
    (record,) = records(path)
    assert record["fields"] == {
        "price": "99400.1",
        "where": str(tmp_path),
        "ids": "{1, 2}",
        "by": {"3": "a"},
    }


def test_levels_ours_and_other_libraries(tmp_path: Path, stderr: io.StringIO) -> None:
    path = logs.setup(tmp_path, LogConfig(level="DEBUG"), stderr=stderr)
    logging.getLogger("trio_paper.feed").debug("ours")
    logging.getLogger("trio_websocket").debug("theirs, too chatty")
    logging.getLogger("httpx").info("HTTP Request: GET https://h/")
    logs.shutdown()
    assert [(r["component"], r["message"]) for r in records(path)] == [
        ("feed", "ours"),
        ("httpx", "HTTP Request: GET https://h/"),
    ]


def test_setting_up_again_replaces_the_handlers(tmp_path: Path, stderr: io.StringIO) -> None:
    root = logging.getLogger()
    before = list(root.handlers)
    logs.setup(tmp_path, LogConfig(), stderr=stderr)
    path = logs.setup(tmp_path, LogConfig(level="WARNING"), stderr=stderr)
    logs.get("x").info("dropped")
    logs.get("x").warning("once")
    logs.shutdown()
    assert [r["message"] for r in records(path)] == ["once"]
    assert root.handlers == before


def test_everything_logged_is_scrubbed(tmp_path: Path, stderr: io.StringIO) -> None:
    path = logs.setup(tmp_path, LogConfig(), stderr=stderr)
    log = logs.get("strategy.user")
    log.warning("key %s", SECRET, url=f"wss://bob:{SECRET}@h/", header={"apiKey": "AK"})
    try:
        raise RuntimeError(f"boom {SECRET}")
    except RuntimeError as exc:
        logs.log_exception("session", exc)
    logs.shutdown()
    text = path.read_text()
    assert SECRET not in text
    assert SECRET not in stderr.getvalue()
    first, second = records(path)
    assert first["message"] == "key ***"
    assert first["fields"] == {"url": "wss://***@h/", "header": {"apiKey": "***"}}
    assert second["message"] == "unhandled RuntimeError: boom ***"
    assert second["component"] == "session"
    assert second["traceback"].endswith("RuntimeError: boom ***")


def test_notices_are_logged_with_their_traceback_and_cleared(
    tmp_path: Path, stderr: io.StringIO
) -> None:
    path = logs.setup(tmp_path, LogConfig(), stderr=stderr)
    notices = [
        "strategy x raised KeyError: 'a'\n"
        "Traceback (most recent call last):\n  ...\nKeyError: 'a'\n",
        "bad frame seq 7: $.data: expected an object",
    ]
    logs.log_notices("replay", notices)
    logs.shutdown()
    assert notices == []
    first, second = records(path)
    assert first["message"] == "strategy x raised KeyError: 'a'"
    assert first["traceback"] == "Traceback (most recent call last):\n  ...\nKeyError: 'a'"
    assert second["message"] == "bad frame seq 7: $.data: expected an object"
    assert "traceback" not in second
    assert first["level"] == second["level"] == "WARNING"


def test_the_log_rotates_by_size_and_stays_private(tmp_path: Path, stderr: io.StringIO) -> None:
    (tmp_path / "logs").mkdir(mode=0o755)
    old = tmp_path / "logs" / "system.jsonl"
    old.write_text('{"message":"from before"}\n')
    old.chmod(0o644)
    path = logs.setup(tmp_path, LogConfig(max_bytes=2048, backups=2), stderr=stderr)
    for number in range(200):
        logs.get("x").info("record", number=number)
    logs.shutdown()

    files = sorted(p.name for p in (tmp_path / "logs").iterdir())
    assert files == ["system.jsonl", "system.jsonl.1", "system.jsonl.2"]
    assert mode(tmp_path / "logs") == 0o700
    for name in files:
        assert mode(tmp_path / "logs" / name) == 0o600, name
        assert (tmp_path / "logs" / name).stat().st_size <= 2048
    numbers = [
        r["fields"]["number"] for name in reversed(files) for r in records(tmp_path / "logs" / name)
    ]
    assert numbers == list(range(200 - len(numbers), 200))  # the newest, in order, none torn
    assert path.exists()


# --- stderr: a terminal or not --------------------------------------------------------------

CHILD = """
import logging, sys
from pathlib import Path
from trio_paper import logs
from trio_paper.config import LogConfig
logs.setup(Path(sys.argv[1]), LogConfig())
logs.get("feed").warning("reconnected", attempt=3)
"""


def _run_child(home: Path, stderr: int) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-c", CHILD, str(home)], stderr=stderr, check=True, timeout=60
    )


def test_stderr_is_json_when_not_a_terminal(tmp_path: Path) -> None:
    result = _run_child(tmp_path, subprocess.PIPE)
    (line,) = result.stderr.splitlines()
    record = orjson.loads(line)
    assert (record["level"], record["component"], record["message"]) == (
        "WARNING",
        "feed",
        "reconnected",
    )
    assert record["fields"] == {"attempt": 3}


def test_stderr_is_readable_on_a_terminal(tmp_path: Path) -> None:
    master, slave = pty.openpty()
    try:
        _run_child(tmp_path, slave)
        os.close(slave)
        output = b""
        while True:
            try:
                chunk = os.read(master, 4096)
            except OSError:  # EIO: the terminal's other side is closed and drained
                break
            if not chunk:
                break
            output += chunk
    finally:
        os.close(master)
    (line,) = output.decode().splitlines()
    assert re.fullmatch(
        r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z WARNING feed: reconnected attempt=3", line
    ), line
    assert records(tmp_path / "logs" / "system.jsonl")[0]["message"] == "reconnected"


def test_the_formatter_follows_isatty() -> None:
    master, slave = pty.openpty()
    with os.fdopen(slave, "w") as terminal:
        assert isinstance(logs.stderr_formatter(terminal), logs.HumanFormatter)
    os.close(master)
    assert isinstance(logs.stderr_formatter(io.StringIO()), logs.JsonFormatter)


def test_stderr_is_looked_up_when_a_record_comes(tmp_path: Path, stderr: io.StringIO) -> None:
    """A progress bar or status panel that takes stderr over still gets the log lines."""
    logs.setup(tmp_path, LogConfig())
    with contextlib.redirect_stderr(stderr):
        logs.get("x").warning("above the bar")
    assert orjson.loads(stderr.getvalue())["message"] == "above the bar"


def test_a_command_that_logs_nothing_leaves_nothing(tmp_path: Path, stderr: io.StringIO) -> None:
    logs.setup(tmp_path, LogConfig(), stderr=stderr)
    logs.get("x").debug("below the level")
    logs.shutdown()
    assert list(tmp_path.iterdir()) == []
