"""``events.jsonl``: one JSON record per engine output, append-only (docs/events.md)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from ..codec import MalformedMessage, dumps
from ..engine.records import BAR
from .appendlog import AppendLog, truncate_torn_tail
from .numeric_lines import NumericLine, bar_line


class JournalWriter(AppendLog):
    """Buffers records; the session syncs before a fill counts as done."""

    def __init__(self, path: Path, create: bool = True) -> None:
        super().__init__(path, create=create)

    def append(self, records: Iterable[dict[str, Any]]) -> None:
        numeric: list[NumericLine] = []  # bar lines not buffered yet, in order
        for record in records:
            line = bar_line(record) if record.get("type") is BAR else None
            if line is not None:
                numeric.append(line)
                continue
            if numeric:
                self.write_numeric_lines(numeric)
                numeric = []
            self.write_line(dumps(record))
        if numeric:
            self.write_numeric_lines(numeric)


class ResumedJournal(JournalWriter):
    """A journal reopened after a stop, for inputs run through the core again.

    A torn last line is cut first (``cut`` says how many bytes). ``append_new`` then writes only
    the records the journal does not hold yet, by ``seq``: re-running inputs never duplicates a
    record, and the journal ends as if the run had never stopped.
    """

    def __init__(self, path: Path) -> None:
        self.cut = truncate_torn_tail(path)
        self.durable = last_seq(path)
        """The ``seq`` of the last record the journal already holds (0: none)."""
        super().__init__(path, create=not self.durable)

    def append_new(self, records: list[dict[str, Any]]) -> int:
        """Append the records past ``durable``; return how many that was."""
        if self.durable:
            records = [r for r in records if r["seq"] > self.durable]
        self.append(records)
        return len(records)


def last_seq(journal: Path) -> int:
    """The ``seq`` of the journal's last complete record (0 for none)."""
    last = 0
    if journal.exists():
        for record in read_journal(journal):
            last = record["seq"]
    return last


def read_journal(path: Path) -> Iterator[dict[str, Any]]:
    """Stream the records of a journal; a last line cut short by a crash is skipped."""
    with path.open("rb") as handle:
        yield from journal_records(handle, path)


def journal_records(lines: Iterable[bytes], path: Path) -> Iterator[dict[str, Any]]:
    """The records of a journal's ``lines`` (each with its newline but a torn last one):
    ``read_journal``'s parse, for a reader that gets the lines another way."""
    for number, line in enumerate(lines, start=1):
        try:
            record = orjson.loads(line)
        except orjson.JSONDecodeError:
            if not line.endswith(b"\n"):
                return
            raise MalformedMessage("not JSON", f"{path}:{number}") from None
        if type(record) is not dict:
            raise MalformedMessage("expected an object", f"{path}:{number}")
        yield record
