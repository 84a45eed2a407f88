"""Bars beside the journal: what a candle replay leaves out of ``events.jsonl`` comes back whole.

The reference is the journal every bar writes: the same inputs through a real ``Core`` into a
``JournalWriter`` that leaves nothing out. The replay's journal, read back with its candle copy,
must be that journal record for record, and its reports those of that journal byte for byte.
(Killed and resumed replays: tests/store/test_crash.py, whose candle case compares bytes.)
"""

from __future__ import annotations

import gzip
import shutil
from collections import deque
from datetime import UTC, datetime
from decimal import Decimal as D
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.app.sweepkit import cut_candles
from trio_paper.app.replay import CANDLE_RUN, _candle_inputs, replay
from trio_paper.cli import main
from trio_paper.codec import MalformedMessage
from trio_paper.config import Config
from trio_paper.core import Core
from trio_paper.engine.records import BAR, RecordType
from trio_paper.engine.strategies import load
from trio_paper.report import write_reports
from trio_paper.report.digest import TAIL, Digest, Tail
from trio_paper.store.bars_beside import BarRun, Chain, find_copy
from trio_paper.store.journal import JournalWriter, read_journal
from trio_paper.store.rundir import RunDir

CASES = {  # a strategy, and how the candle file is written
    "ema_cross": (("ema_cross", {}), "plain"),
    "pullback, CR LF": (("pullback", {}), "crlf"),  # the csv module reads it (_batches)
    "fast ema_cross, text times": (("ema_cross", {"fast": 2, "slow": 5}), "text times"),
}


def with_gap(source: Path, out: Path, start: int, rows: int, form: str) -> Path:
    """``source`` without ``rows`` data rows from the ``start``-th (a gap in the candles),
    written in ``form``."""
    lines = source.read_text().splitlines()
    lines = lines[: 1 + start] + lines[1 + start + rows :]
    if form == "text times":  # open_time as ISO text, as the shared 2022 file has it
        head, *rows_ = (line.split(",", 1) for line in lines)
        iso = [datetime.fromtimestamp(int(ms) / 1000, UTC).isoformat() for ms, _ in rows_]
        rests = [rest for _, rest in rows_]
        lines = [f"open_time,{head[1]}"] + [f"{t},{r}" for t, r in zip(iso, rests, strict=True)]
    out.write_bytes(("\r\n" if form == "crlf" else "\n").join([*lines, ""]).encode())
    return out


def full_journal(candles: Path, strategy: tuple[str, dict[str, Any]], out: Path) -> Path:
    """The journal of ``candles`` with every bar in it: the replay's core and inputs, written
    by a writer that leaves nothing out."""
    config = Config()
    core = Core(config, load(*strategy))
    with JournalWriter(out) as journal:
        for item in _candle_inputs(core, candles, 0, CANDLE_RUN):
            journal.append(core.on_item(item).records)
        journal.append(core.end(core.engine.t, "end of input").records)
    return out


Replayed = tuple[RunDir, Path, Path]


@pytest.fixture(params=sorted(CASES))
def replayed(request: pytest.FixtureRequest, shared_data: Path, tmp_path: Path) -> Replayed:
    """A candle replay's run, its candles (with a gap in them), and their full journal."""
    strategy, form = CASES[request.param]
    cut = cut_candles(shared_data, tmp_path / "cut.csv", 2_500)
    candles = with_gap(cut, tmp_path / "candles.csv", 1_200, 30, form)
    result = replay(candles, Config(), load(*strategy), tmp_path / "home", helpers=False)
    return result.run, candles, full_journal(candles, strategy, tmp_path / "full.jsonl")


def test_the_journal_read_back_is_the_one_every_bar_writes(replayed: Replayed) -> None:
    run, candles, full = replayed
    kept, every = run.events.read_bytes().splitlines(), full.read_bytes().splitlines()
    assert len(kept) < len(every) / 2  # most bars repeat the one before
    lines = iter(every)
    assert all(line in lines for line in kept)  # the same lines, in order, some left out
    assert list(read_journal(run.events)) == list(read_journal(full))
    records = list(read_journal(run.events))
    assert [r["seq"] for r in records] == list(range(1, len(records) + 1))
    assert any(r["type"] == RecordType.FEED and r["event"] == "gap" for r in records)
    assert find_copy(run.path) == run.path / "candles.csv"
    assert (run.path / "candles.csv").read_bytes() == candles.read_bytes()


def test_the_reports_are_those_of_the_whole_journal(replayed: Replayed, tmp_path: Path) -> None:
    run, _, full = replayed
    whole = RunDir(tmp_path / "whole")
    shutil.copytree(run.path, whole.path)
    find_copy(whole.path).unlink()  # type: ignore[union-attr]
    shutil.copyfile(full, whole.events)
    write_reports(whole)
    assert run.summary_json.read_bytes() == whole.summary_json.read_bytes()
    assert run.summary_html.read_bytes() == whole.summary_html.read_bytes()


def bar(
    seq: int, equity: object = "100.00", position: object = "0", **fields: Any
) -> dict[str, Any]:
    record = {
        "seq": seq, "ts": 60_000 * (seq + 1), "type": BAR, "open_time": 60_000 * seq,
        "open": D(1), "high": D(1), "low": D(1), "close": D(1), "volume": D(1), "source": "csv",
        "equity": equity, "position": position,
    }  # fmt: skip
    return record | fields


def test_a_bar_is_left_out_only_when_it_repeats_the_one_before_it() -> None:
    chain = Chain()
    cash = D("100.00")
    left_out = [
        chain.continues(record)
        for record in [
            bar(1, cash),
            bar(2, cash),  # the same: left out
            bar(3, D("100.00")),  # another object, the same text: left out
            bar(4, D("100.0")),  # the same value, written otherwise: kept
            {"seq": 5, "ts": 300_000, "type": RecordType.FILL},
            bar(6, D("100.0")),  # after another record: kept
            bar(8, D("100.0")),  # a seq skipped: kept
            bar(9, D("100.0"), source="ws"),  # not from a candle file: kept
            bar(10, D("100.0")),  # after that: kept
            bar(11, D("100.0"), ts=60_000 * 12 + 1),  # at another offset from its open: kept
            bar(12, D("100.0")),  # back at the usual offset: kept
            bar(13, D("100.0")),  # the same as 12: left out
            bar(14, D("100.0"), D("0.0")),  # another position text: kept
            bar(15, D("100.0"), D("0.0")),  # left out
            bar(16, D("100.0"), D("0.0"), ts="960000"),  # a time that is not a number: kept
            bar(17, D("100.0"), D("0.0")),  # after that: kept
        ]
    ]
    assert left_out == [
        False, True, True, False, False, False, False, False, False, False, False, True, False,
        True, False, False,
    ]  # fmt: skip


def test_a_resumed_chain_carries_on_over_what_the_checkpoint_covers() -> None:
    chain = Chain()
    chain.resume(orjson_like(bar(40)), covered=55)  # 41 to 55 were left out before the stop
    assert chain.continues(bar(56))
    assert not Chain().continues(bar(56))
    other = Chain()
    other.resume({"seq": 40, "ts": 1, "type": "fill"}, covered=55)
    assert not other.continues(bar(56))


def orjson_like(record: dict[str, Any]) -> dict[str, Any]:
    """A record as ``read_journal`` gives it: numbers as text, the type as its name."""
    return {k: str(v) if isinstance(v, D) else v for k, v in record.items()} | {"type": "bar"}


def test_a_journal_without_its_candle_copy_says_what_it_lacks(
    shared_data: Path, tmp_path: Path
) -> None:
    candles = cut_candles(shared_data, tmp_path / "candles.csv", 600)
    run = replay(candles, Config(), load("ema_cross", {}), tmp_path / "home").run
    find_copy(run.path).unlink()  # type: ignore[union-attr]
    with pytest.raises(MalformedMessage, match=r"leaves out \d+ bars, and the run has no candle"):
        list(read_journal(run.events))
    error = Digest().read(run.events).metrics.journal_error
    assert "no candle copy" in str(error)


def test_a_candle_copy_cut_short_is_named(shared_data: Path, tmp_path: Path) -> None:
    candles = cut_candles(shared_data, tmp_path / "candles.csv", 600)
    run = replay(candles, Config(), load("ema_cross", {}), tmp_path / "home").run
    copy = find_copy(run.path)
    assert copy is not None
    copy.write_text("".join(copy.read_text().splitlines(keepends=True)[:300]))
    with pytest.raises(MalformedMessage, match=r"but candles\.csv has \d+ after open_time"):
        list(read_journal(run.events))


def test_a_gzipped_candle_file_is_kept_gzipped(shared_data: Path, tmp_path: Path) -> None:
    plain = cut_candles(shared_data, tmp_path / "cut.csv", 600)
    candles = tmp_path / "candles.csv.gz"
    candles.write_bytes(gzip.compress(plain.read_bytes()))
    run = replay(candles, Config(), load("ema_cross", {}), tmp_path / "home").run
    assert find_copy(run.path) == run.path / "candles.csv.gz"
    assert find_copy(run.path).read_bytes() == candles.read_bytes()  # type: ignore[union-attr]
    full = full_journal(candles, ("ema_cross", {}), tmp_path / "full.jsonl")
    assert list(read_journal(run.events)) == list(read_journal(full))


def test_a_resumed_replay_of_a_changed_candle_file_is_refused(
    shared_data: Path, tmp_path: Path
) -> None:
    candles = cut_candles(shared_data, tmp_path / "candles.csv", 600)
    home = tmp_path / "home"
    run = replay(candles, Config(), load("ema_cross", {}), home, run_id="r").run
    journal = run.events.read_bytes()
    (run.path / "manifest.json").write_bytes(  # as if killed before it ended
        run.manifest.read_bytes().replace(b'"ended":', b'"ended_":', 1)
    )
    cut_candles(shared_data, candles, 600, skip=1)
    with pytest.raises(MalformedMessage, match="changed since the run began"):
        replay(candles, Config(), load("ema_cross", {}), home, run_id="r")
    assert run.events.read_bytes() == journal


@given(st.lists(st.integers(0, 130), max_size=12))
def test_the_reports_journal_tail_is_the_last_records_read_back(sizes: list[int]) -> None:
    """0 is one record; n > 0 a run of n bars the journal left out."""
    tail, every, seq = Tail(), deque[dict[str, Any]](maxlen=TAIL), 1
    for n in sizes:
        if n:
            times = [60_000 * (seq + i) for i in range(n)]
            item: Any = BarRun(seq, 60_000, times, [["1.50"] * n] * 5, "10", "0")
            every.extend(item.records())
        else:
            item = {"seq": seq, "ts": 60_000 * seq, "type": "fill"}
            every.append(item)
        tail.append(item)
        seq += max(n, 1)
    assert list(tail) == list(every)


def test_the_replay_says_how_many_bars_it_kept_beside_the_journal(
    shared_data: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    candles = cut_candles(shared_data, tmp_path / "candles.csv", 600)
    assert main(["--home", str(tmp_path), "replay", "--file", str(candles), "--run-id", "r"]) == 0
    first = capsys.readouterr().out.splitlines()[0]
    events = tmp_path / "runs" / "r" / "events.jsonl"
    records = len(list(read_journal(events)))
    lines = len(events.read_bytes().splitlines())
    assert f"→ {records:,} journal records in " in first
    assert first.endswith(f"; {records - lines:,} of them bars kept beside the journal")
