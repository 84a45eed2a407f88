"""``--test-from``: an input cut in two at a time, for in- and out-of-sample runs.

A candle file is cut by open time; a recording by item time. The parts are written as files
under the sweep's folder (``inputs/before.*`` and ``inputs/after.*``) rather than passed as a
time window, so a job stays exactly a plain replay of a file: workers read it by path, and any
row can be replayed by hand.

The part before a recording's cut is its first lines as they are. The part after is a session
of its own: a ``start``, the feed's last ``connected`` and ``subscribed`` before the cut (if it
was connected then), and the items from the cut on, numbered on from there. Neither kind of
part carries a warm-up: a strategy warms up on the part's own first bars.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, cast

import orjson

from ...codec import MalformedMessage
from ...venues.candles import _TIME_TEXT_COLUMNS, _parse_time_text, open_candle_text


class SplitError(ValueError):
    """The input cannot be split at that time: the message says why."""


def split_candles(source: Path, cut_ms: int, folder: Path) -> tuple[Path, Path]:
    """Write the rows of ``source`` opening before ``cut_ms`` and from it on, each with the
    header; return both paths. Parts already written (a resumed sweep) are kept."""
    before, after = folder / "before.csv.gz", folder / "after.csv.gz"
    if before.exists() and after.exists():
        return before, after
    folder.mkdir(parents=True, exist_ok=True)
    with open_candle_text(source) as (handle, _):
        rows = csv.reader(handle)
        header = next(rows, None)
        if not header:
            raise SplitError(f"{source}: empty file")
        column, parse = _time_column(source, [c.strip() for c in header])
        parts: tuple[list[list[str]], list[list[str]]] = ([], [])
        for number, row in enumerate(rows, start=2):
            if not row:
                continue
            try:
                open_time = parse(row[column])
            except (ValueError, IndexError) as exc:
                raise MalformedMessage(f"bad time ({exc})", f"{source}:{number}") from None
            parts[open_time >= cut_ms].append(row)
    for name, part in zip(("before", "after"), parts, strict=True):
        if not part:
            raise SplitError(f"--test-from: {source} has no candles {name} the split time")
    _write(before, header, parts[0])
    _write(after, header, parts[1])
    return before, after


def _time_column(source: Path, columns: list[str]) -> tuple[int, Callable[[str], int]]:
    if "open_time_ms" in columns:
        return columns.index("open_time_ms"), int
    for name in _TIME_TEXT_COLUMNS:
        if name in columns:
            return columns.index(name), _parse_time_text
    raise MalformedMessage("no time column (open_time_ms, open_time, timestamp)", f"{source}:1")


def _write(path: Path, header: list[str], rows: list[list[str]]) -> None:
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    _write_bytes(path, [text.getvalue().encode("utf-8")])


def _write_bytes(path: Path, chunks: list[bytes]) -> None:
    """Deterministic gzip bytes (no time stamp), written to a temporary name then renamed."""
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("wb") as raw, gzip.GzipFile("", "wb", 6, raw, mtime=0) as packed:
        for chunk in chunks:
            packed.write(chunk)
    os.replace(temporary, path)


_PROLOGUE = ("connected", "subscribed")
_FEED_DOWN = ("disconnected", "stale")


def split_recording(source: Path, cut_ms: int, folder: Path) -> tuple[Path, Path]:
    """Write the items of the recording ``source`` before ``cut_ms`` and from it on, each a
    recording that replays on its own (see the module doc); return both paths."""
    before, after = folder / "before.jsonl.gz", folder / "after.jsonl.gz"
    if before.exists() and after.exists():
        return before, after
    folder.mkdir(parents=True, exist_ok=True)
    first: list[bytes] = []
    second: list[bytes] = []
    prologue: dict[str, dict[str, Any]] = {}
    run_id = "recording"
    with _open_binary(source) as handle:
        header = handle.readline()
        for line, item in _items(handle, source):
            if item["t"] < cut_ms:
                first.append(line)
                kind = item.get("control")
                if kind == "start":
                    run_id = str(item.get("run_id") or run_id)
                elif kind in _PROLOGUE:
                    prologue[kind] = item
                elif kind in _FEED_DOWN:
                    prologue.pop("connected", None)
                continue
            if not second:
                t0 = item["t"]
                start = {"seq": 1, "t": t0, "control": "start", "run_id": f"{run_id}@after",
                         "resume": None}  # fmt: skip
                opening = [start] + [{**prologue[k], "t": t0} for k in _PROLOGUE if k in prologue]
                second += [_line(i, seq) for seq, i in enumerate(opening, start=1)]
                shift = len(opening) + 1 - item["seq"]
            second.append(_line(item, item["seq"] + shift))
    for name, part in (("before", first), ("after", second)):
        if not part:
            raise SplitError(f"--test-from: {source} has no items {name} the split time")
    _write_bytes(before, [header, *first])
    _write_bytes(after, [header, *second])
    return before, after


def _open_binary(path: Path) -> IO[bytes]:
    return cast(IO[bytes], gzip.open(path, "rb")) if path.suffix == ".gz" else path.open("rb")


def _items(handle: IO[bytes], source: Path) -> Iterator[tuple[bytes, dict[str, Any]]]:
    for number, line in enumerate(handle, start=2):
        try:
            item = orjson.loads(line)
        except orjson.JSONDecodeError:
            return  # a torn last line, as a crash leaves it: the replay stops there too
        if not isinstance(item, dict) or not isinstance(item.get("t"), int):
            raise MalformedMessage("not a recording item", f"{source}:{number}")
        yield (line if line.endswith(b"\n") else line + b"\n"), item


def _line(item: dict[str, Any], seq: int) -> bytes:
    return orjson.dumps({**item, "seq": seq}) + b"\n"
