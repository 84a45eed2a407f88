"""``--test-from``: a candle file cut in two by open time, for in- and out-of-sample runs.

The parts are written as files under the sweep's folder (``inputs/before.csv.gz`` and
``inputs/after.csv.gz``) rather than passed as a time window, so a job stays exactly a plain
replay of a file: workers read it by path, and any row can be replayed by hand.
"""

from __future__ import annotations

import csv
import gzip
import io
import os
from collections.abc import Callable
from pathlib import Path

from ..candles import _TIME_TEXT_COLUMNS, _open_text, _parse_time_text
from ..codec import MalformedMessage


class SplitError(ValueError):
    """The input cannot be split at that time: the message says why."""


def split_candles(source: Path, cut_ms: int, folder: Path) -> tuple[Path, Path]:
    """Write the rows of ``source`` opening before ``cut_ms`` and from it on, each with the
    header; return both paths. Parts already written (a resumed sweep) are kept."""
    before, after = folder / "before.csv.gz", folder / "after.csv.gz"
    if before.exists() and after.exists():
        return before, after
    folder.mkdir(parents=True, exist_ok=True)
    with _open_text(source) as handle:
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
    """Deterministic gzip bytes (no time stamp), written to a temporary name then renamed."""
    text = io.StringIO()
    writer = csv.writer(text, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    temporary = path.with_name(f".{path.name}.tmp")
    with temporary.open("wb") as raw, gzip.GzipFile("", "wb", 6, raw, mtime=0) as packed:
        packed.write(text.getvalue().encode("utf-8"))
    os.replace(temporary, path)
