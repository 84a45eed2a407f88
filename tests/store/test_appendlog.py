"""AppendLog: lines are buffered until flush, appended (or the file created), optionally gzipped,
and closing flushes what is left."""

from __future__ import annotations

import gzip
import zlib
from pathlib import Path

import pytest

from trio_paper.store.appendlog import AppendLog


def test_write_only_buffers_until_flush(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    log = AppendLog(path, create=True)
    log.write_line(b'{"a":1}')
    log.write_line(b'{"b":2}')
    assert log.pending == 2
    assert path.read_bytes() == b""  # nothing reaches the file before flush
    log.flush()
    assert log.pending == 0
    assert path.read_bytes() == b'{"a":1}\n{"b":2}\n'
    log.write_line(b"x")
    log.sync()
    assert path.read_bytes() == b'{"a":1}\n{"b":2}\nx\n'
    log.close()


def test_close_flushes_and_may_be_repeated(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    with AppendLog(path, create=True) as log:
        log.write_line(b"last")
    assert path.read_bytes() == b"last\n"
    log.close()  # a second close is harmless
    assert path.read_bytes() == b"last\n"


def test_create_truncates_and_append_keeps(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl"
    path.write_bytes(b"old\n")
    with AppendLog(path, create=False) as log:
        log.write_line(b"new")
    assert path.read_bytes() == b"old\nnew\n"
    with AppendLog(path, create=True) as log:
        log.write_line(b"fresh")
    assert path.read_bytes() == b"fresh\n"


def test_append_creates_a_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "new.jsonl"
    with AppendLog(path, create=False) as log:
        log.write_line(b"1")
    assert path.read_bytes() == b"1\n"


def test_gzip_round_trip_and_no_append(tmp_path: Path) -> None:
    path = tmp_path / "log.jsonl.gz"
    with AppendLog(path, create=True) as log:
        assert log.gz
        for n in range(1000):
            log.write_line(b'{"n":%d}' % n)
    expected = b"".join(b'{"n":%d}\n' % n for n in range(1000))
    assert gzip.decompress(path.read_bytes()) == expected
    with pytest.raises(ValueError, match="appending to a gzipped file is not supported"):
        AppendLog(path, create=False)


def test_a_gzip_flush_puts_the_lines_so_far_on_disk(tmp_path: Path) -> None:
    """Flushing a gzipped log makes everything written so far decompressible from the file,
    before the stream is finished."""
    path = tmp_path / "log.jsonl.gz"
    log = AppendLog(path, create=True)
    log.write_line(b"one")
    log.flush()
    partial = zlib.decompressobj(wbits=31).decompress(path.read_bytes())
    assert partial == b"one\n"
    log.close()


def test_gzip_bytes_do_not_depend_on_the_time(tmp_path: Path) -> None:
    """mtime is 0 in the gzip header, so the same lines give the same bytes on any day."""
    path = tmp_path / "log.jsonl.gz"
    with AppendLog(path, create=True) as log:
        log.write_line(b"x")
    assert path.read_bytes()[4:8] == b"\x00\x00\x00\x00"


def test_take_hands_the_lines_over_and_sync_taken_writes_them_while_writes_go_on(
    tmp_path: Path,
) -> None:
    path = tmp_path / "log.jsonl"
    with AppendLog(path, create=True) as log:
        log.write_line(b"1")
        log.write_line(b"2")
        taken = log.take()
        assert log.pending == 0
        log.write_line(b"3")  # buffered afresh: not part of what was taken
        log.sync_taken(taken)
        assert path.read_bytes() == b"1\n2\n"
        log.sync_taken(log.take())
        assert path.read_bytes() == b"1\n2\n3\n"
        log.sync_taken([])  # nothing taken: an fsync, no bytes
    assert path.read_bytes() == b"1\n2\n3\n"
