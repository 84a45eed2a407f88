"""A recording read ahead by a second process: a real child over a real pipe gives exactly the
parts read in this process, stops with its reader, and says so when it fails."""

from __future__ import annotations

import itertools
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from tests.app.followerkit import alive
from trio_paper import venues
from trio_paper.inputs import Frame, Item, Tick
from trio_paper.store.readahead import (
    BATCH,
    Frames,
    Line,
    ReadAheadError,
    cpus,
    parts,
    read_ahead,
)
from trio_paper.store.recording import Header, RecordingReader, RecordingWriter

VENUE = "bitunix"
HEADER = Header(VENUE, "BTCUSDT", ["depth_book1"], "1min", "2025-05-08T00:00:00Z")


def _recording(path: Path, items: list[Item]) -> Path:
    with RecordingWriter(path, HEADER) as writer:
        for item in items:
            writer.write(item)
    return path


def _odd_items() -> list[Item]:
    """Frames in runs longer than a part, broken by every kind of line a part cannot hold."""
    items: list[Item] = [Frame(seq, 1_000 + seq, f'{{"n":{seq}}}') for seq in range(1, 3001)]
    items[9] = Tick(10, 1_010)
    items[99] = Frame(100, 1_100, "two\nlines")  # a newline in its text: a line of its own
    items[199] = Frame(200, 1_200, b"\x00binary")  # base64: a line of its own
    items[299] = Frame(300, 1_300, "ünïcödé €")
    items[2999] = Frame(3000, 4_000, '{"last":"\\u00e9"}')  # an escape in its text
    return items


def _children(pid: int) -> list[int]:
    task = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(child) for child in task.read_text().split()]


@pytest.mark.parametrize("suffix", [".jsonl", ".jsonl.gz"])
def test_the_second_process_gives_the_parts_read_here(tmp_path: Path, suffix: str) -> None:
    path = _recording(tmp_path / f"rec{suffix}", _odd_items())
    here = list(parts(path, VENUE))
    assert [type(part) for part in here[:3]] == [Frames, Line, Frames]
    assert max(len(part.raws) for part in here if isinstance(part, Frames)) == BATCH
    assert list(read_ahead(path, VENUE, head_start=False)) == here


def test_a_stream_cut_short_stops_at_the_same_line_with_the_same_reason(tmp_path: Path) -> None:
    whole = _recording(tmp_path / "whole.jsonl.gz", _odd_items()).read_bytes()
    cut = tmp_path / "cut.jsonl.gz"
    for end in (len(whole) // 3, len(whole) - 9):
        cut.write_bytes(whole[:end])
        here = list(parts(cut, VENUE))
        assert isinstance(here[-1], str)
        assert "compressed stream ends early" in here[-1]
        assert list(read_ahead(cut, VENUE, head_start=False)) == here


def test_a_last_line_without_its_newline_comes_as_it_is(tmp_path: Path) -> None:
    path = _recording(tmp_path / "rec.jsonl", _odd_items())
    path.write_bytes(path.read_bytes()[:-7])
    here = list(parts(path, VENUE))
    assert here[-1] == Line(path.read_bytes().rsplit(b"\n", 1)[1], False, path.stat().st_size)
    assert list(read_ahead(path, VENUE, head_start=False)) == here


def test_with_a_head_start_no_part_is_given_twice_or_left_out(day_recording: Path) -> None:
    assert list(read_ahead(day_recording, VENUE)) == list(parts(day_recording, VENUE))


def test_the_reader_gives_the_same_items_read_ahead_or_not(tmp_path: Path) -> None:
    path = _recording(tmp_path / "rec.jsonl.gz", _odd_items())
    with RecordingReader(path, ahead=False) as here, RecordingReader(path, ahead=True) as ahead:
        assert list(ahead) == list(here) == _odd_items()
        assert ahead.items == here.items == 3000
        assert ahead.fraction_read() == here.fraction_read() == 1.0


def test_a_big_recording_is_read_ahead_on_a_machine_with_two_cores(
    day_recording: Path, demo_recording: Path
) -> None:
    two_cores = cpus() > 1
    with RecordingReader(day_recording) as big, RecordingReader(demo_recording) as small:
        assert big.ahead == two_cores
        assert not small.ahead


def test_closing_the_reader_stops_the_second_process(day_recording: Path) -> None:
    before = set(_children(os.getpid()))
    with RecordingReader(day_recording, ahead=True) as reader:
        next(iter(reader))
        (child,) = set(_children(os.getpid())) - before
        assert alive(child)
    assert not alive(child)
    assert child not in _children(os.getpid())  # reaped, not left a zombie


def test_the_second_process_dies_with_a_killed_reader(day_recording: Path) -> None:
    """The reader killed with SIGKILL, the child, blocked on a full pipe, fails its next
    write and ends: no process is left reading a recording for nobody."""
    script = textwrap.dedent(f"""
        import os, sys, time
        from pathlib import Path
        from trio_paper.store.readahead import read_ahead
        parts = read_ahead(Path({str(day_recording)!r}), "bitunix", head_start=False)
        next(parts)
        task = Path(f"/proc/{{os.getpid()}}/task/{{os.getpid()}}/children")
        print(task.read_text().split()[0], flush=True)
        time.sleep(60)
    """)
    with subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE) as reader:
        try:
            assert reader.stdout is not None
            child = int(reader.stdout.readline())
            time.sleep(0.5)  # the child fills the pipe and waits on it
            assert alive(child)
            reader.send_signal(signal.SIGKILL)
            reader.wait(timeout=10)
            deadline = time.monotonic() + 10
            while alive(child) and time.monotonic() < deadline:
                time.sleep(0.05)
            assert not alive(child)
        finally:
            reader.kill()


def test_a_failing_second_process_is_an_error_that_says_why(tmp_path: Path) -> None:
    missing = tmp_path / "gone.jsonl.gz"
    with pytest.raises(ReadAheadError) as info:
        list(read_ahead(missing, VENUE, head_start=False))
    assert str(missing) in str(info.value)
    assert "the process reading it ahead failed: FileNotFoundError" in str(info.value)


def test_a_damaged_stream_read_ahead_stops_where_it_stops_here(tmp_path: Path) -> None:
    """A flipped byte: zlib's complaint ends the lines at the same place either way."""
    data = bytearray(_recording(tmp_path / "rec.jsonl.gz", _odd_items()).read_bytes())
    data[len(data) // 2] ^= 0xFF
    damaged = tmp_path / "damaged.jsonl.gz"
    damaged.write_bytes(bytes(data))
    here = list(parts(damaged, VENUE))
    assert isinstance(here[-1], str)
    assert list(read_ahead(damaged, VENUE, head_start=False)) == here


def test_frames_come_with_the_fields_their_venue_cuts(day_recording: Path) -> None:
    """What the core's fast path reads first (``Venue.split``) is done by the reader, here or in
    the second process alike."""
    split = venues.get(VENUE).split
    for ahead in (False, True):
        with RecordingReader(day_recording, ahead=ahead) as reader:
            frames = [item for item in itertools.islice(reader, 20_000) if isinstance(item, Frame)]
        assert len(frames) > 19_000
        assert all(frame.fields == split(frame.raw) for frame in frames)
        assert all(frame.fields for frame in frames)  # every push of the day is cut
