"""Recordings on disk: the writer and the streaming reader, round trips plain and gzipped, the
one tolerated defect (a last line cut short) and every other one refused at its line."""

from __future__ import annotations

import gzip
import io
import random
import time
import zlib
from pathlib import Path

import orjson
import pytest

from trio_paper.codec import MalformedMessage
from trio_paper.inputs import (
    Backfill,
    FeedConnected,
    FeedDisconnected,
    FeedStale,
    Frame,
    Item,
    KillSwitch,
    SessionStart,
    StopRequested,
    Subscribed,
    Tick,
)
from trio_paper.store.recording import Header, RecordingReader, RecordingWriter, read_header
from trio_paper.venues.bitunix import rest as bitunix_rest
from trio_paper.venues.bitunix import ws as bitunix

HEADER = Header(
    venue="bitunix",
    symbol="BTCUSDT",
    channels=["market_kline_1min", "depth_book1"],
    interval="1min",
    created="2025-05-08T12:29:00Z",
    trio_paper="0.1.0",
)
HEADER_LINE = (
    b'{"venue":"bitunix","symbol":"BTCUSDT","channels":["market_kline_1min","depth_book1"],'
    b'"interval":"1min","created":"2025-05-08T12:29:00Z","trio_paper":"0.1.0","source":"live",'
    b'"format":"trio-paper-recording","version":1}\n'
)
KLINE = (
    '{"ch":"market_kline_1min","symbol":"BTCUSDT","ts":1746707340138,'
    '"data":{"o":"99400.1","c":"99400.1","h":"99400.1","l":"99400.1","b":"0.7144",'
    '"q":"71011.43144"}}'
)
ITEMS: list[Item] = [
    SessionStart(1, 1746707340010, "test"),
    FeedConnected(2, 1746707340010, "wss://fapi.bitunix.com/public/"),
    Subscribed(3, 1746707340010, ["market_kline_1min", "depth_book1"]),
    Backfill(4, 1746707340010, "warmup", 0, 60_000, body='{"code":0,"data":[],"msg":"ok"}'),
    Frame(5, 1746707340206, KLINE),
    Frame(6, 1746707340300, "ünïcödé €"),  # multi-byte UTF-8: cuts can fall inside a character
    Frame(7, 1746707340400, b"\x00\x01binary"),
    FeedStale(8, 1746707350400, 10_000),
    FeedDisconnected(9, 1746707350401, "stale"),
    Tick(10, 1746707351000),
    KillSwitch(11, 1746707351001, "kill file"),
    StopRequested(12, 1746707351002, "kill switch"),
]


def _write(path: Path, items: list[Item] = ITEMS) -> None:
    with RecordingWriter(path, HEADER) as writer:
        for item in items:
            writer.write(item)


def _read(path: Path) -> tuple[Header, list[Item], str | None]:
    with RecordingReader(path) as reader:
        items = list(reader)
        assert reader.items == len(items)
        return reader.header, items, reader.truncated


@pytest.mark.parametrize("name", ["rec.jsonl", "rec.jsonl.gz"])
def test_round_trip(tmp_path: Path, name: str) -> None:
    path = tmp_path / name
    _write(path)
    assert _read(path) == (HEADER, ITEMS, None)
    assert read_header(path) == HEADER
    if name.endswith(".gz"):
        assert gzip.decompress(path.read_bytes()).startswith(HEADER_LINE)
    else:
        assert path.read_bytes().startswith(HEADER_LINE)


def test_a_live_writer_appends_to_an_existing_recording(tmp_path: Path) -> None:
    """A restarted session reopens the recording (no header) and goes on with the next seq."""
    path = tmp_path / "rec.jsonl"
    _write(path, ITEMS[:5])
    with RecordingWriter(path) as writer:
        for item in ITEMS[5:]:
            writer.write(item)
    assert _read(path) == (HEADER, ITEMS, None)


def _line_ends(data: bytes) -> list[int]:
    """Offsets of each item line's newline."""
    ends = [i for i, byte in enumerate(data) if byte == ord("\n")]
    return ends[1:]  # the first is the header's


def test_a_last_line_cut_at_any_byte_is_tolerated_and_reported(tmp_path: Path) -> None:
    """What a crash leaves: the file cut at every byte offset after the header. The complete
    lines are read; a partial last line is skipped and reported; nothing raises."""
    whole = tmp_path / "whole.jsonl"
    _write(whole)
    data = whole.read_bytes()
    ends = _line_ends(data)
    cut_path = tmp_path / "cut.jsonl"
    for cut in range(len(HEADER_LINE), len(data) + 1):
        cut_path.write_bytes(data[:cut])
        _, items, truncated = _read(cut_path)
        complete = sum(1 for end in ends if end <= cut)  # a line missing only its \n counts
        assert items == ITEMS[:complete], cut
        at_boundary = cut == len(HEADER_LINE) or cut - 1 in ends or cut in ends
        if at_boundary:
            assert truncated is None, cut
        else:
            assert truncated is not None, cut
            assert f"cut.jsonl:{complete + 2}: last line cut short" in truncated


def test_a_gzipped_recording_cut_short_is_tolerated_and_reported(tmp_path: Path) -> None:
    """A .gz cut anywhere: once the header is readable, the items up to the cut come back and
    the cut is reported; before that, the file is refused as not a recording."""
    whole = tmp_path / "whole.jsonl.gz"
    _write(whole)
    data = whole.read_bytes()
    cut_path = tmp_path / "cut.jsonl.gz"
    readable = 0
    refused: list[MalformedMessage] = []
    for cut in range(len(data)):
        cut_path.write_bytes(data[:cut])
        try:
            _, items, truncated = _read(cut_path)
        except MalformedMessage as exc:
            refused.append(exc)
            continue
        readable += 1
        assert items == ITEMS[: len(items)]
        assert truncated is not None
        assert "compressed stream ends early" in truncated
    assert readable > 0
    assert refused
    assert {(e.where, e.reason.startswith("not a recording")) for e in refused} == {
        (f"{cut_path}:1", True)
    }


def _line_by_line(path: Path) -> tuple[list[int], str | None] | str:
    """The seqs a gzipped recording gives read one ``readline`` at a time (how the reader read
    before it read blocks), and why it stopped early, if it did; ``"header"`` if even the
    header line cannot be read, ``"bad line"`` at a line that is not a frame's."""
    seqs: list[int] = []
    with gzip.open(path, "rb") as lines:
        try:
            orjson.loads(next(lines))
        except (EOFError, zlib.error, gzip.BadGzipFile, orjson.JSONDecodeError, StopIteration):
            return "header"
        try:
            for line in lines:
                if not line.endswith(b"\n"):
                    return seqs, "last line cut short"
                try:
                    seqs.append(orjson.loads(line)["seq"])
                except (orjson.JSONDecodeError, KeyError, TypeError):
                    return "bad line"
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            return seqs, f"compressed stream ends early ({exc})"
    return seqs, None


def _read_seqs(path: Path) -> tuple[list[int], str | None] | str:
    try:
        _, items, truncated = _read(path)
    except MalformedMessage as exc:
        return exc.reason
    return [item.seq for item in items], truncated


def test_blocks_give_the_lines_readline_gives_whatever_the_damage(tmp_path: Path) -> None:
    """Lines span the reader's blocks; a stream cut or corrupted anywhere gives up the same
    lines, and the same reason, as reading it line by line."""
    digits = random.Random(12)
    items: list[Item] = [
        Frame(seq, 1746707340000 + seq, f"{digits.getrandbits(64)}.{digits.getrandbits(20)}")
        for seq in range(1, 2001)
    ]
    whole = tmp_path / "whole.jsonl.gz"
    _write(whole, items)
    data = whole.read_bytes()
    assert len(gzip.decompress(data)) > 10 * io.DEFAULT_BUFFER_SIZE
    damaged = tmp_path / "damaged.jsonl.gz"
    cuts = [len(data) * k // 40 for k in range(1, 40)] + [len(data) - 8, len(data) - 1]
    compared = 0
    for cut in cuts:
        for version in (data[:cut], data[:cut] + bytes([data[cut] ^ 0xFF]) + data[cut + 1 :]):
            damaged.write_bytes(version)
            expected = _line_by_line(damaged)
            got = _read_seqs(damaged)
            if isinstance(expected, str):  # the reader refuses the file, at the same place
                assert isinstance(got, str), cut
                assert got.startswith("not a recording") == (expected == "header"), cut
                continue
            assert not isinstance(got, str), (cut, got)
            (seqs, reason), (expected_seqs, expected_reason) = got, expected
            assert seqs == expected_seqs, cut
            assert (reason is None) == (expected_reason is None), cut
            assert reason is None or expected_reason is None or expected_reason in reason, cut
            compared += 1
    assert compared > 40


def _replace_line(path: Path, number: int, line: bytes) -> None:
    lines = path.read_bytes().splitlines(keepends=True)
    lines[number - 1] = line
    path.write_bytes(b"".join(lines))


@pytest.mark.parametrize(
    ("number", "line", "where", "reason"),
    [
        (4, b"not json\n", ":4", "not JSON"),
        (4, b'{"seq":3,"t":1746707340010,"control":"subscribed"\n', ":4", "not JSON"),  # cut
        (4, b"[3]\n", ":4", "expected an object"),
        (4, b'{"seq":3,"t":1,"control":"subscribed","channels":"a"}\n', ":4.channels", "list"),
        (4, b'{"seq":3,"t":1,"control":"nap"}\n', ":4", "known control event: 'nap'"),
        (4, b'{"seq":4,"t":1,"control":"tick"}\n', ":4", "seq 4 follows 2"),
        (4, b'{"seq":2,"t":1,"control":"tick"}\n', ":4", "seq 2 follows 2"),
        (2, b'{"seq":0,"t":1,"control":"tick"}\n', ":2", "seq 0 follows 0"),
        (13, b'{"seq":12,"t":1,"control":"tick"} x\n', ":13", "not JSON"),  # last, with \n
    ],
)
def test_any_other_bad_line_is_an_error_naming_its_line(
    tmp_path: Path, number: int, line: bytes, where: str, reason: str
) -> None:
    path = tmp_path / "rec.jsonl"
    _write(path)
    _replace_line(path, number, line)
    with pytest.raises(MalformedMessage) as info, RecordingReader(path) as reader:
        list(reader)
    assert info.value.where == f"{path}{where}"
    assert reason in info.value.reason


@pytest.mark.parametrize(
    ("first", "where", "reason"),
    [
        (b"\n", ":1", "not a recording: the first line is not JSON"),
        (b"open_time_ms,open,high,low,close,volume\n", ":1", "the first line is not JSON"),
        (b"[1]\n", ":1", "not a recording: no 'trio-paper-recording' header"),
        (b'{"format":"other","version":1}\n', ":1", "no 'trio-paper-recording' header"),
        (
            b'{"format":"trio-paper-recording","version":2}\n',
            ":1",
            "recording format version 2; this trio-paper reads 1",
        ),
        (
            b'{"format":"trio-paper-recording","version":"1"}\n',
            ":1",
            "recording format version '1'; this trio-paper reads 1",
        ),
        (HEADER_LINE.replace(b'"venue":"bitunix",', b""), ":1.venue", "required key missing"),
        (HEADER_LINE.replace(b'"version":1', b'"version":1,"x":0'), ":1.x", "unknown key"),
    ],
)
def test_a_wrong_header_is_refused(tmp_path: Path, first: bytes, where: str, reason: str) -> None:
    path = tmp_path / "rec.jsonl"
    path.write_bytes(first + b'{"seq":1,"t":1,"control":"tick"}\n')
    with pytest.raises(MalformedMessage) as info:
        RecordingReader(path)
    assert info.value.where == f"{path}{where}"
    assert reason in info.value.reason


def test_an_empty_file_is_not_a_recording(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl"
    path.write_bytes(b"")
    with pytest.raises(MalformedMessage, match="not a recording"):
        RecordingReader(path)


def test_a_gz_name_on_a_plain_file_is_not_a_recording(tmp_path: Path) -> None:
    path = tmp_path / "rec.jsonl.gz"
    path.write_bytes(HEADER_LINE)
    with pytest.raises(MalformedMessage, match="not a recording: cannot decompress"):
        RecordingReader(path)


def test_the_reader_streams_without_reading_the_whole_file(day_recording: Path) -> None:
    """The first thousand items of the 10 MB day recording come from its first few percent,
    quickly; the file is only read to its end by reading all of it."""
    started = time.perf_counter()
    with RecordingReader(day_recording) as reader:
        for count, item in enumerate(reader, start=1):
            assert item.seq == count
            if count == 1000:
                break
        assert reader.fraction_read() < 0.05
    assert time.perf_counter() - started < 2.0


def test_fraction_read_reaches_one_at_the_end(demo_recording: Path) -> None:
    with RecordingReader(demo_recording) as reader:
        assert reader.fraction_read() < 1.0
        items = sum(1 for _ in reader)
        assert reader.fraction_read() == 1.0
    assert items == 3246


def test_the_example_in_the_format_doc_is_a_valid_recording(tmp_path: Path) -> None:
    """docs/recording-format.md's example reads back, and its frames and backfill decode."""
    doc = (Path(__file__).resolve().parents[2] / "docs" / "recording-format.md").read_text(
        encoding="utf-8"
    )
    example = doc.split("## A short example", 1)[1].split("```")[1].strip("\n")
    path = tmp_path / "example.jsonl"
    path.write_text(example + "\n", encoding="utf-8")
    header, items, truncated = _read(path)
    assert (header.source, truncated, len(items)) == ("live", None, 10)
    for item in items:
        if isinstance(item, Frame):
            assert bitunix.parse_frame(item.raw).events
        elif isinstance(item, Backfill):
            assert item.body is not None
            assert len(bitunix_rest.parse_klines(item.body, "BTCUSDT", 60_000)) == 1
