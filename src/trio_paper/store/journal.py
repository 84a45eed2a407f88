"""``events.jsonl``: one JSON record per engine output, append-only (docs/events.md)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import orjson

from ..codec import MalformedMessage, dumps
from ..engine.records import BAR
from .appendlog import AppendLog, truncate_torn_tail
from .bars_beside import BarRun, Chain, expand, with_bar_runs
from .numeric_lines import NumericLine, bar_line


class JournalWriter(AppendLog):
    """Buffers records; the session syncs before a fill counts as done.

    With ``bars_beside`` (a candle replay whose run keeps its candle copy), a ``csv`` bar that
    continues the one before is left out (``bars_beside.Chain``)."""

    def __init__(self, path: Path, create: bool = True, bars_beside: bool = False) -> None:
        super().__init__(path, create=create)
        self.chain = Chain() if bars_beside else None
        self.left_out = 0
        """Bar records left out by this writer (``bars_beside``)."""

    def append(self, records: Iterable[dict[str, Any]]) -> None:
        numeric: list[NumericLine] = []  # bar lines not buffered yet, in order
        chain = self.chain
        for record in records:
            if chain is not None and chain.continues(record):
                self.left_out += 1
                continue
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

    def __init__(self, path: Path, bars_beside: bool = False, covered: int = 0) -> None:
        """``covered``: the ``seq`` of the last record the checkpoint resumed from covers."""
        self.cut = truncate_torn_tail(path)
        last = last_record(path)
        self.durable = 0 if last is None else last["seq"]
        """The ``seq`` of the last record the journal already holds (0: none)."""
        super().__init__(path, create=not self.durable, bars_beside=bars_beside)
        if self.chain is not None:
            self.chain.resume(last, covered)

    def append_new(self, records: list[dict[str, Any]]) -> int:
        """Append the records past ``durable``; return how many that was."""
        if self.durable:
            records = [r for r in records if r["seq"] > self.durable]
        self.append(records)
        return len(records)


def last_record(journal: Path) -> dict[str, Any] | None:
    """The journal's last complete record, as written (None for none)."""
    last = None
    if journal.exists():
        with journal.open("rb") as handle:
            for last in journal_records(handle, journal):  # noqa: B007 (the last is the answer)
                pass
    return last


def read_journal(path: Path) -> Iterator[dict[str, Any]]:
    """Stream the records of a journal, with any bars it left out (``bars_beside``) back in
    their place; a last line cut short by a crash is skipped."""
    return expand(read_journal_runs(path))


def read_journal_runs(path: Path) -> Iterator[dict[str, Any] | BarRun]:
    """``read_journal``, with the bars a journal left out as ``BarRun`` s, for a reader that
    takes a run of them at once (the report)."""
    with path.open("rb") as handle:
        yield from with_bar_runs(journal_records(handle, path), path)


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
