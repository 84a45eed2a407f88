"""Logging: JSON lines in ``<home>/logs/system.jsonl``, and on stderr for people or machines.

One record per event::

    {"time": "2025-05-08T12:29:00.123Z", "level": "WARNING", "component": "feed",
     "message": "reconnected", "fields": {"attempt": 3}, "traceback": "Traceback ..."}

``component`` is the logger's name under ``trio_paper.`` (another library's logger keeps its
full name); ``fields`` and ``traceback`` appear when there are any. Log with fields like this::

    log = logs.get("feed")                 # the logger trio_paper.feed
    log.info("reconnected", attempt=3)
    log.exception("pump failed", url=url)  # inside ``except``: adds the traceback

``Log`` passes fields as ``extra={"fields": {...}}``, so a plain ``logging`` logger can do the
same; ``%``-style arguments work as usual. Every line is scrubbed (``scrub.py``) after it is
formatted, traceback included. The file rotates by size (``logging.max_bytes``, keeping
``logging.backups`` old ones) and is readable by its owner only. stderr gets readable lines
when it is a terminal and the same JSON lines when it is not (a container's log collector).
"""

from __future__ import annotations

import logging
import logging.handlers
import os
import sys
import traceback
from datetime import UTC, datetime
from io import TextIOWrapper
from pathlib import Path
from typing import Any, TextIO

import orjson

from .config import LogConfig
from .scrub import scrub_text
from .store.files import private_dir

PREFIX = "trio_paper."
FILE_NAME = "system.jsonl"


def component_of(name: str) -> str:
    """``trio_paper.feed`` → ``feed``; another library's logger keeps its name."""
    return name.removeprefix(PREFIX)


def _time(created: float) -> str:
    return datetime.fromtimestamp(created, UTC).isoformat(timespec="milliseconds")[:-6] + "Z"


def _traceback(record: logging.LogRecord) -> str | None:
    if record.exc_info and record.exc_info[1] is not None:
        return "".join(traceback.format_exception(record.exc_info[1])).rstrip("\n")
    text = getattr(record, "traceback", None)
    return text if isinstance(text, str) else None


def _fields(record: logging.LogRecord) -> dict[str, Any]:
    fields = getattr(record, "fields", None)
    return fields if isinstance(fields, dict) else {}


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line, scrubbed."""

    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": _time(record.created),
            "level": record.levelname,
            "component": component_of(record.name),
            "message": record.getMessage(),
        }
        if fields := _fields(record):
            data["fields"] = fields
        if (text := _traceback(record)) is not None:
            data["traceback"] = text
        if record.stack_info:
            data["stack"] = record.stack_info
        line = orjson.dumps(data, default=str, option=orjson.OPT_NON_STR_KEYS)
        return scrub_text(line.decode())


class HumanFormatter(logging.Formatter):
    """``2025-05-08T12:29:00.123Z WARNING feed: reconnected attempt=3``, traceback below."""

    def format(self, record: logging.LogRecord) -> str:
        parts = [_time(record.created), f"{record.levelname:<7}", f"{component_of(record.name)}:"]
        parts.append(record.getMessage())
        parts += (f"{key}={value}" for key, value in _fields(record).items())
        text = " ".join(parts)
        if (trace := _traceback(record)) is not None:
            text += "\n" + trace
        if record.stack_info:
            text += "\n" + record.stack_info
        return scrub_text(text)


def stderr_formatter(stream: TextIO) -> logging.Formatter:
    """Readable lines for a terminal, JSON lines for anything else."""
    try:
        terminal = stream.isatty()
    except (AttributeError, ValueError):  # no isatty, or closed
        terminal = False
    return HumanFormatter() if terminal else JsonFormatter()


class PrivateRotatingFileHandler(logging.handlers.RotatingFileHandler):
    """A rotating log whose files are created (or made) readable by their owner only, in a
    private directory made when the first record comes: a command that logs nothing leaves
    nothing behind."""

    def _open(self) -> TextIOWrapper:
        private_dir(Path(self.baseFilename).parent)
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.fchmod(fd, 0o600)  # a file left by an older version, or made under a loose umask
        return open(fd, "a", encoding=self.encoding, errors=self.errors)


class StderrHandler(logging.StreamHandler[TextIO]):
    """Writes to whatever ``sys.stderr`` is at the time, so that a progress bar or a status
    panel that takes stderr over to print above itself shows the log lines in the right place."""

    def __init__(self) -> None:
        super().__init__(sys.stderr)

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, value: TextIO) -> None:
        pass


class Log:
    """A logger that takes fields as keywords: ``log.info("reconnected", attempt=3)``."""

    def __init__(self, logger: logging.Logger) -> None:
        self.logger = logger

    def _log(
        self, level: int, message: str, args: tuple[object, ...], fields: dict[str, Any], exc: bool
    ) -> None:
        if self.logger.isEnabledFor(level):
            extra = {"fields": fields} if fields else None
            self.logger.log(level, message, *args, exc_info=exc, extra=extra, stacklevel=3)

    def debug(self, message: str, *args: object, **fields: Any) -> None:
        self._log(logging.DEBUG, message, args, fields, exc=False)

    def info(self, message: str, *args: object, **fields: Any) -> None:
        self._log(logging.INFO, message, args, fields, exc=False)

    def warning(self, message: str, *args: object, **fields: Any) -> None:
        self._log(logging.WARNING, message, args, fields, exc=False)

    def error(self, message: str, *args: object, **fields: Any) -> None:
        self._log(logging.ERROR, message, args, fields, exc=False)

    def exception(self, message: str, *args: object, **fields: Any) -> None:
        """An error with the traceback of the exception being handled."""
        self._log(logging.ERROR, message, args, fields, exc=True)


def get(component: str) -> Log:
    """The ``Log`` for ``trio_paper.<component>``."""
    return Log(logging.getLogger(PREFIX + component))


def log_exception(component: str, exc: BaseException, message: str = "", **fields: Any) -> None:
    """Log ``exc`` with its traceback as an error of ``component``: call it for an unhandled
    exception in any task, before deciding what to do about it."""
    text = message or f"unhandled {type(exc).__name__}: {exc}"
    extra = {"fields": fields} if fields else None
    logging.getLogger(PREFIX + component).error(text, exc_info=exc, extra=extra)


def log_notices(component: str, notices: list[str]) -> None:
    """Log the core's notices as warnings and clear the list (it is shared with the engine).
    A notice's first line is the message; the rest, a strategy's traceback, is its traceback."""
    logger = logging.getLogger(PREFIX + component)
    for notice in notices:
        message, _, rest = notice.partition("\n")
        extra = {"traceback": rest.rstrip("\n")} if rest.strip() else None
        logger.warning("%s", message, extra=extra)
    notices.clear()


# --- set-up ----------------------------------------------------------------------------------

_installed: list[logging.Handler] = []
_saved_levels: dict[str, int] = {}


def setup(
    home: Path,
    config: LogConfig,
    stderr: TextIO | None = None,
    stderr_level: str | None = None,
) -> Path:
    """Send every record to ``<home>/logs/system.jsonl`` and to ``stderr`` (default: whatever
    ``sys.stderr`` is when a record comes) at ``stderr_level`` (default ``config.level``);
    return the file's path.

    Our loggers log at ``config.level``; other libraries' at INFO or above (no one wants
    trio-websocket's DEBUG). Calling it again replaces what the last call set up.
    """
    shutdown()
    path = home.resolve() / "logs" / FILE_NAME
    file_handler = PrivateRotatingFileHandler(
        path, maxBytes=config.max_bytes, backupCount=config.backups, encoding="utf-8", delay=True
    )
    file_handler.setFormatter(JsonFormatter())
    stream_handler = StderrHandler() if stderr is None else logging.StreamHandler(stderr)
    stream_handler.setFormatter(stderr_formatter(stream_handler.stream))
    stream_handler.setLevel(stderr_level or config.level)
    level = logging.getLevelName(config.level)
    root, ours = logging.getLogger(), logging.getLogger(PREFIX.rstrip("."))
    _saved_levels.update({"": root.level, ours.name: ours.level})
    root.setLevel(max(level, logging.INFO))
    ours.setLevel(level)
    for handler in (file_handler, stream_handler):
        root.addHandler(handler)
        _installed.append(handler)
    return path


def shutdown() -> None:
    """Flush, close and remove what ``setup`` installed; restore the levels it changed."""
    root = logging.getLogger()
    for handler in _installed:
        root.removeHandler(handler)
        handler.close()
    _installed.clear()
    for name, level in _saved_levels.items():
        logging.getLogger(name or None).setLevel(level)
    _saved_levels.clear()
