"""The report process: a second process digests a big replay's journal while it is written.

Real processes throughout: the follower is ``python -m trio_paper.app.report_process``, the
killed replay is a real ``trio-paper replay`` sent SIGKILL.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import ClassVar

import pytest

from tests.app.followerkit import alive, follower_of
from tests.app.sweepkit import cut_candles
from trio_paper.app import replay as replay_module
from trio_paper.app.replay import replay
from trio_paper.app.report_process import ReportProcess, _follow
from trio_paper.config import Config
from trio_paper.engine.strategies import load
from trio_paper.report import write_reports
from trio_paper.store import readahead
from trio_paper.store.journal import journal_records, read_journal
from trio_paper.store.rundir import RunDir

DEADLINE_S = 60


class Watched(ReportProcess):
    """The real report process, noting what ``finish`` answered."""

    answers: ClassVar[list[bool]] = []

    def finish(self) -> bool:
        answer = super().finish()
        Watched.answers.append(answer)
        return answer


@pytest.fixture
def watched(monkeypatch: pytest.MonkeyPatch) -> type[Watched]:
    monkeypatch.setattr(readahead, "SECOND_PROCESS_BYTES", 0)  # small inputs are followed too
    monkeypatch.setattr(replay_module, "ReportProcess", Watched)
    Watched.answers = []
    return Watched


def test_a_followed_replay_writes_the_bytes_a_pass_after_it_would(
    shared_data: Path, tmp_path: Path, watched: type[Watched]
) -> None:
    candles = cut_candles(shared_data, tmp_path / "candles.csv", 3_000)
    result = replay(candles, Config(), load("ema_cross", {}), tmp_path / "home")
    assert watched.answers == [True]  # the follower wrote the reports
    run = result.run
    followed = run.summary_json.read_bytes(), run.summary_html.read_bytes()
    run.summary_json.unlink()
    run.summary_html.unlink()
    write_reports(run)  # one pass over the finished journal, in this process
    assert (run.summary_json.read_bytes(), run.summary_html.read_bytes()) == followed
    assert b'"bars": 3000' in followed[0]


def test_a_follower_that_dies_leaves_the_reports_to_the_replay(
    shared_data: Path,
    tmp_path: Path,
    watched: type[Watched],
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Dying(Watched):
        def __init__(self, run: RunDir) -> None:
            super().__init__(run)
            self._process.send_signal(signal.SIGKILL)

    monkeypatch.setattr(replay_module, "ReportProcess", Dying)
    candles = cut_candles(shared_data, tmp_path / "candles.csv", 500)
    result = replay(candles, Config(), load("ema_cross", {}), tmp_path / "home")
    assert watched.answers == [False]
    assert result.run.summary_json.exists()
    assert result.run.summary_html.exists()
    assert "report process failed (exit -9" in caplog.text


def test_a_killed_big_candle_replay_leaves_no_report_and_resumes_to_the_same_bytes(
    shared_data: Path, tmp_path: Path
) -> None:
    """SIGKILL a followed candle replay mid-way: its follower sees stdin close without the word
    and exits without a report. The same command then resumes from the last checkpoint (runs of
    bars and all) and ends with the journal and summary of a replay never killed."""
    candles = cut_candles(shared_data, tmp_path / "candles.csv", 120_000)
    assert candles.stat().st_size >= readahead.SECOND_PROCESS_BYTES
    killed, whole = tmp_path / "killed", tmp_path / "whole"
    replaying = _replay(candles, killed)
    deadline = time.monotonic() + DEADLINE_S
    follower = None
    while follower is None or _size(killed, "events.jsonl") < 3_000_000:  # ~13,000 bars
        assert time.monotonic() < deadline, "the replay never got under way"
        assert replaying.poll() is None, "the replay ended before it could be killed"
        follower = follower or follower_of(killed)
        time.sleep(0.02)
    replaying.kill()
    replaying.wait(timeout=DEADLINE_S)
    while alive(follower):
        assert time.monotonic() < deadline, "the follower outlived its replay"
        time.sleep(0.02)
    assert not list(killed.glob("runs/*/summary.*"))
    assert list(killed.glob("runs/r/state/checkpoint*")), "killed before its first checkpoint"
    for home in (killed, whole):
        assert _replay(candles, home).wait(timeout=DEADLINE_S) == 0
    for name in ("events.jsonl", "summary.json"):
        assert (killed / "runs/r" / name).read_bytes() == (whole / "runs/r" / name).read_bytes()


def _replay(candles: Path, home: Path) -> subprocess.Popen[bytes]:
    command = [
        sys.executable, "-m", "trio_paper", "--home", str(home), "replay", "--file", str(candles),
        "--run-id", "r", "--checkpoint-every", "5000",
    ]  # fmt: skip
    return subprocess.Popen(
        command, cwd=home.parent, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )


def test_the_follower_reads_whole_lines_as_they_are_appended(tmp_path: Path) -> None:
    """Lines arrive in pieces, as a flush cuts them: each comes out whole, in order."""
    events = tmp_path / "events.jsonl"
    events.write_bytes(b"")
    lines = [b'{"seq":%d,"type":"bar","note":"%s"}\n' % (n, b"x" * n) for n in range(1, 200)]
    ended = threading.Event()

    def append() -> None:
        with events.open("ab") as handle:
            for line in lines:
                for piece in (line[:7], line[7:]):
                    handle.write(piece)
                    handle.flush()
                    time.sleep(0.0005)
            handle.write(b'{"seq":200')  # torn: a crash mid-line
        ended.set()

    writer = threading.Thread(target=append)
    writer.start()
    followed = list(journal_records(_follow(events, ended), events))
    writer.join(timeout=DEADLINE_S)
    assert followed == list(read_journal(events))
    assert [r["seq"] for r in followed] == list(range(1, 200))


def _size(home: Path, name: str) -> int:
    return sum(path.stat().st_size for path in home.glob(f"runs/*/{name}"))
