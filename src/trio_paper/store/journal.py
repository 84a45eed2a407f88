"""``events.jsonl``: one JSON record per engine output, append-only (docs/events.md)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from ..codec import MalformedMessage, dumps
from .appendlog import AppendLog


class JournalWriter(AppendLog):
    """Buffers records; the session syncs before a fill counts as done."""

    def __init__(self, path: Path, create: bool = True) -> None:
        super().__init__(path, create=create)

    def append(self, records: Iterable[dict[str, Any]]) -> None:
        for record in records:
            self.write_line(dumps(record))


def read_journal(path: Path) -> Iterator[dict[str, Any]]:
    """Stream the records of a journal; a last line cut short by a crash is skipped."""
    with path.open("rb") as handle:
        for number, line in enumerate(handle, start=1):
            try:
                record = orjson.loads(line)
            except orjson.JSONDecodeError:
                if not line.endswith(b"\n"):
                    return
                raise MalformedMessage("not JSON", f"{path}:{number}") from None
            if type(record) is not dict:
                raise MalformedMessage("expected an object", f"{path}:{number}")
            yield record
