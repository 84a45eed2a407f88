"""A candle replay's bars beside its journal: the bar records it may leave out, and their return.

Nearly every bar of a bars-only backtest repeats the one before in all but its candle: the same
equity, the same position, nothing in between. Such a bar record says nothing the candle file
does not, yet such records were 85 % of a year's journal and, with the report's pass over them,
a sixth of its replay's time. So a candle replay keeps a byte copy of its candle file in the run
directory (``candles.csv[.gz]``), and its journal leaves out a ``csv`` bar record that
*continues* the one before (``Chain``): its ``seq`` follows that bar's at once, and its equity,
position and ``ts - open_time`` are that bar's.

Readers put them back (``with_bar_runs``): a gap in ``seq`` after a ``csv`` bar is that many
bars, the candle rows after that bar's, each with its equity and position. The records read
back are the ones the journal would have held (tests/store/test_bars_beside.py), so every reader
of ``read_journal`` sees schema 1's records; the report takes a gap whole, as a ``BarRun``.
"""

from __future__ import annotations

import filecmp
import os
import shutil
from bisect import bisect_right
from collections.abc import Iterable, Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import attrs

from ..codec import MalformedMessage
from ..engine.records import BAR
from ..venues.candles import candle_columns
from .files import fsync_dir

CSV = "csv"
COPY_NAMES = ("candles.csv.gz", "candles.csv")
"""The candle file's copy in a run directory: gzipped if the original was (``.gz``)."""


def copy_name(source: Path) -> str:
    """The name of ``source``'s copy in a run directory."""
    return COPY_NAMES[0] if source.suffix == ".gz" else COPY_NAMES[1]


def keep_copy(source: Path, run_dir: Path) -> Path:
    """Copy ``source`` into ``run_dir``, durably, unless it is there already (a resumed run:
    then it must be the same bytes). The journal may leave bars out only once this returns."""
    copy = run_dir / copy_name(source)
    if copy.exists():
        if not filecmp.cmp(source, copy, shallow=False):
            raise MalformedMessage(
                f"changed since the run began: it is not {copy} any more; replay it as a new "
                "run (another --run-id)",
                str(source),
            )
        return copy
    temporary = copy.with_name(f".{copy.name}.tmp")  # one replay of a run at a time
    try:
        shutil.copyfile(source, temporary)
        with temporary.open("rb") as handle:
            os.fsync(handle.fileno())
        os.replace(temporary, copy)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_dir(run_dir)
    return copy


def find_copy(run_dir: Path) -> Path | None:
    """The candle copy in ``run_dir``, if the run has one."""
    return next((p for p in map(run_dir.joinpath, COPY_NAMES) if p.exists()), None)


@attrs.define
class Chain:
    """The journal writer's side: which ``csv`` bar records continue the one before.

    ``seq`` is the last bar record the writer was given (written or left out), ``-1`` for none
    or when another record came after it; ``offset`` its ``ts - open_time``; ``equity`` and
    ``position`` its values, and ``texts`` their text. The same objects again (the engine keeps
    them while nothing moves) are the same text without writing it.
    """

    seq: int = -1
    offset: int = -1
    equity: Any = None
    position: Any = None
    texts: tuple[str, str] = ("", "")

    def continues(self, record: dict[str, Any]) -> bool:
        """Whether ``record`` may be left out; every record the writer takes passes here."""
        if not _is_csv_bar(record):
            self.seq = -1
            return False
        seq, ts, open_time = record["seq"], record["ts"], record["open_time"]
        equity, position = record["equity"], record["position"]
        follows = seq == self.seq + 1 and ts - open_time == self.offset
        if follows and equity is self.equity and position is self.position:
            self.seq = seq
            return True
        texts = (str(equity), str(position))
        self.seq, self.equity, self.position = seq, equity, position
        if follows and texts == self.texts:
            return True
        self.offset, self.texts = ts - open_time, texts
        return False

    def resume(self, last: dict[str, Any] | None, covered: int) -> None:
        """Carry on after a stop: ``last`` is the journal's last record, and every record up to
        ``covered`` (the checkpoint's) is in the journal or was left out continuing it."""
        if last is None or not _is_csv_bar(last):
            return
        self.seq, self.offset = max(last["seq"], covered), last["ts"] - last["open_time"]
        self.texts = (str(last["equity"]), str(last["position"]))


@attrs.frozen
class BarRun:
    """Bars a journal left out, from ``first_seq`` on: their candles' ``open_times`` and
    ``prices`` (the texts of open, high, low, close, volume), each at ``ts = open_time +
    offset`` with ``equity`` and ``position`` as the journal writes them."""

    first_seq: int
    offset: int
    open_times: list[int]
    prices: list[list[str]]
    equity: Any
    position: Any

    def __len__(self) -> int:
        return len(self.open_times)

    def records(self, start: int = 0) -> list[dict[str, Any]]:
        """The bar records from the ``start``-th bar on, as ``read_journal`` reads them."""
        return [self._record(i) for i in range(start, len(self.open_times))]

    def _record(self, i: int) -> dict[str, Any]:
        o, h, lo, c, v = (_decimal_text(column[i]) for column in self.prices)
        t = self.open_times[i]
        return {
            "seq": self.first_seq + i, "ts": t + self.offset, "type": "bar", "open_time": t,
            "open": o, "high": h, "low": lo, "close": c, "volume": v, "source": CSV,
            "equity": self.equity, "position": self.position,
        }  # fmt: skip


def _decimal_text(text: str) -> str:
    """A price as the journal writes it: ``str(Decimal)`` of the engine's ``Decimal(text)``."""
    return str(Decimal(text))


def with_bar_runs(
    records: Iterable[dict[str, Any]], journal: Path
) -> Iterator[dict[str, Any] | BarRun]:
    """``records`` of the journal at ``journal``, each gap after a ``csv`` bar as a ``BarRun``
    read from the run's candle copy (opened at the first gap)."""
    rows: _Rows | None = None
    last: dict[str, Any] | None = None
    for record in records:
        seq = record.get("seq")
        if last is not None and type(seq) is int and seq > last["seq"] + 1 and _is_csv_bar(last):
            rows = rows or _Rows(journal)
            yield rows.run_after(last, seq)
        last = record if type(record.get("seq")) is int else last
        yield record


def expand(records: Iterable[dict[str, Any] | BarRun]) -> Iterator[dict[str, Any]]:
    """Each ``BarRun`` as its records: the journal as schema 1 wrote it."""
    for item in records:
        if isinstance(item, BarRun):
            yield from item.records()
        else:
            yield item


def _is_csv_bar(record: dict[str, Any]) -> bool:
    return (
        record.get("type") == BAR
        and record.get("source") == CSV
        and type(record.get("ts")) is int
        and type(record.get("open_time")) is int
    )


class _Rows:
    """The candle copy's rows, read once, forward, a batch of columns at a time."""

    def __init__(self, journal: Path) -> None:
        self.copy = find_copy(journal.parent)
        self.where = str(journal)
        self.batches: Iterator[tuple[list[int], list[Sequence[str]]]] | None = None
        self.times: list[int] = []
        self.prices: list[Sequence[str]] = [[] for _ in range(5)]
        self.at = 0  # the next row of the batch in hand

    def run_after(self, bar: dict[str, Any], seq: int) -> BarRun:
        """The bars the journal left out between ``bar`` and the record at ``seq``: as many
        candles as the gap, the first after ``bar``'s."""
        count = seq - bar["seq"] - 1
        where = f"{self.where}: seq {bar['seq'] + 1} to {seq - 1}"
        if self.copy is None:
            raise MalformedMessage(
                f"the journal leaves out {count} bars, and the run has no candle copy "
                f"({' or '.join(COPY_NAMES)}) to read them from",
                where,
            )
        if self.batches is None:
            self.batches = candle_columns(self.copy)
        times: list[int] = []
        prices: list[list[str]] = [[] for _ in range(5)]
        while len(times) < count:
            if self.at == len(self.times) and not self._next_batch():
                raise MalformedMessage(
                    f"the journal leaves out {count} bars, but {self.copy.name} has "
                    f"{len(times)} after open_time {bar['open_time']}",
                    where,
                )
            if not times:  # the first: the candle after ``bar``'s
                self.at = bisect_right(self.times, bar["open_time"], self.at)
            end = min(len(self.times), self.at + count - len(times))
            times += self.times[self.at : end]
            for mine, theirs in zip(prices, self.prices, strict=True):
                mine.extend(theirs[self.at : end])
            self.at = end
        return BarRun(bar["seq"] + 1, bar["ts"] - bar["open_time"], times, prices,
                      bar["equity"], bar["position"])  # fmt: skip

    def _next_batch(self) -> bool:
        assert self.batches is not None
        for times, prices in self.batches:
            if times:
                self.times, self.prices, self.at = times, prices, 0
                return True
        return False
