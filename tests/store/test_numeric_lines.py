"""Bar records written by hand: the bytes ``codec.dumps`` writes, for exactly the records made of
numbers and fixed words; anything with room for text goes through the scrubber as before."""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from trio_paper import scrub
from trio_paper.codec import dumps
from trio_paper.engine.records import RecordType
from trio_paper.scrub import Scrubber
from trio_paper.store.journal import JournalWriter
from trio_paper.store.numeric_lines import bar_line

SECRET = "s3cr3t-Value-0f-test"
D = Decimal


def _bar(**changes: Any) -> dict[str, Any]:
    record: dict[str, Any] = {
        "seq": 7, "ts": 1704067260000, "type": RecordType.BAR, "open_time": 1704067200000,
        "open": D("42283.5"), "high": D("42300.1"), "low": D("42250.0"), "close": D("42290.2"),
        "volume": D("123.456"), "source": "csv", "equity": D("9876.543210987"),
        "position": D("-0.0234"),
    }  # fmt: skip
    record.update(changes)
    return record


@pytest.fixture
def scrubber() -> Iterator[Scrubber]:
    installed = Scrubber([SECRET])
    previous = scrub.install(installed)
    yield installed
    scrub.install(previous)


def _line(record: dict[str, Any]) -> bytes | None:
    line = bar_line(record)
    return None if line is None else line.encode("ascii")


def test_a_bar_record_is_the_bytes_dumps_writes() -> None:
    assert _line(_bar()) == dumps(_bar())


decimals = st.decimals(allow_nan=True, allow_infinity=True) | st.decimals(places=12)
times = st.integers(min_value=0, max_value=2**63 - 1)


@given(
    seq=times, ts=times, open_time=times, o=decimals, h=decimals, lo=decimals, c=decimals,
    v=decimals, equity=decimals, position=decimals, source=st.sampled_from(["ws", "rest", "csv"]),
)  # fmt: skip
def test_any_numbers_give_the_same_bytes(
    seq: int, ts: int, open_time: int, o: Decimal, h: Decimal, lo: Decimal, c: Decimal,
    v: Decimal, equity: Decimal, position: Decimal, source: str,
) -> None:  # fmt: skip
    """Exponents, negative zero, NaN, 30 digits: ``str(Decimal)`` is what the fallback writes."""
    record = _bar(
        seq=seq, ts=ts, open_time=open_time, open=o, high=h, low=lo, close=c, volume=v,
        equity=equity, position=position, source=source,
    )  # fmt: skip
    assert _line(record) == dumps(record)


@pytest.mark.parametrize(
    "record",
    [
        _bar(source="apiKey=" + SECRET),  # text where a fixed word goes
        _bar(source=SECRET),
        _bar(open="42283.5"),  # a string where a number goes
        _bar(seq=True),  # a bool is an int, but not a number here
        _bar(equity=1.5),  # a float
        _bar(ts=-1),
        _bar(seq=2**63),  # orjson refuses it: so must the line
        {**_bar(), "note": SECRET},  # a key the schema does not name
        {k: v for k, v in _bar().items() if k != "position"},
        dict(reversed(_bar().items())),  # the keys in another order
        _bar(type="bar"),  # a plain string, not the engine's record type
        _bar(type=RecordType.FILL),
    ],
)
def test_anything_else_is_left_to_the_ordinary_way(record: dict[str, Any]) -> None:
    assert bar_line(record) is None


def test_the_journal_scrubs_what_can_hold_text_and_only_that(
    tmp_path: Path, scrubber: Scrubber
) -> None:
    """A reject's reason and a bar whose source is text are scrubbed; a bar of numbers is
    written as ``dumps`` writes it."""
    reject = {"seq": 8, "ts": 1, "type": RecordType.REJECT, "reason": f"token {SECRET}"}
    path = tmp_path / "events.jsonl"
    with JournalWriter(path) as journal:
        journal.append([_bar(), _bar(source=SECRET), reject])
    lines = path.read_bytes().splitlines()
    assert lines[0] == dumps(_bar())
    assert SECRET.encode() not in path.read_bytes()
    assert lines[1] == dumps(_bar(source="***"))
    assert lines[2] == dumps({**reject, "reason": "token ***"})


def test_bar_lines_and_scrubbed_lines_keep_their_order(tmp_path: Path, scrubber: Scrubber) -> None:
    """Runs of bar lines are buffered as one piece: the records still come out in order."""
    reject = {"seq": 9, "ts": 1, "type": RecordType.REJECT, "reason": f"token {SECRET}"}
    records = [_bar(seq=7), reject, _bar(seq=10), _bar(seq=11), _bar(source=SECRET), _bar(seq=13)]
    path = tmp_path / "events.jsonl"
    with JournalWriter(path) as journal:
        journal.append(records)
        assert journal.pending == len(records)
    expected = [dumps(r).replace(SECRET.encode(), b"***") for r in records]
    assert path.read_bytes().splitlines() == expected
