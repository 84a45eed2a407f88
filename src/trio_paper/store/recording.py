"""``recording.jsonl[.gz]``: a header line, then one line per input item, append-only.

The format is documented in ``docs/recording-format.md``. The writer buffers and writes only
when told (see ``AppendLog``). The reader streams; it never holds the file in memory. A last
line cut short — what a crash leaves — is tolerated and reported; any other bad line is an
error that names its line number.
"""

from __future__ import annotations

import gzip
import itertools
import zlib
from collections.abc import Generator, Iterator
from pathlib import Path
from typing import IO

import attrs
import orjson

from .. import __version__
from ..batch import builder
from ..codec import MalformedMessage, converter, dumps, structure
from ..inputs import Frame, Item, decode, encode
from .appendlog import AppendLog
from .readahead import Frames, Part, open_recording, parts, read_ahead, worth_a_second_process

FORMAT = "trio-paper-recording"
VERSION = 1


@attrs.frozen
class Header:
    """What a recording holds. ``source`` says where its frames came from."""

    venue: str
    symbol: str
    channels: list[str]
    interval: str
    created: str
    trio_paper: str = __version__
    source: str = "live"
    format: str = FORMAT
    version: int = VERSION


class RecordingReader:
    """Iterate a recording's items: ``for item in RecordingReader(path)``.

    ``header`` is read on open. After iteration, ``truncated`` says whether the last line was
    cut short, and ``items`` how many were read.

    A recording ``worth_a_second_process`` (a mebibyte, a second core) is read ahead by one
    (``readahead``); ``ahead`` says so either way.
    """

    def __init__(self, path: Path, ahead: bool | None = None) -> None:
        self.path = path
        self._size = path.stat().st_size
        self.ahead = worth_a_second_process(self._size) if ahead is None else ahead
        self.truncated: str | None = None
        self.items = 0
        self._at = 0
        self._parts: Generator[Part, None, None] | None = None
        raw, lines = open_recording(path)
        with raw, lines:
            self.header = self._read_header(lines)

    def _read_header(self, lines: IO[bytes]) -> Header:
        where = f"{self.path}:1"
        try:
            data = orjson.loads(lines.readline())
        except orjson.JSONDecodeError:
            raise MalformedMessage("not a recording: the first line is not JSON", where) from None
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            raise MalformedMessage(f"not a recording: cannot decompress ({exc})", where) from None
        if type(data) is not dict or data.get("format") != FORMAT:
            raise MalformedMessage(f"not a recording: no {FORMAT!r} header", where)
        if data.get("version") != VERSION:
            found = data.get("version")
            reason = f"recording format version {found!r}; this trio-paper reads {VERSION}"
            raise MalformedMessage(reason, where)
        return structure(data, Header, where)

    def __enter__(self) -> RecordingReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Stop reading (and the process reading ahead, if there is one)."""
        if self._parts is not None:
            self._parts.close()

    def fraction_read(self) -> float:
        """How far through the file (compressed bytes for a .gz): for progress bars."""
        return self._at / self._size if self._size else 1.0

    def __iter__(self) -> Iterator[Item]:
        number = 1
        previous_seq = 0
        prefix = f"{self.path}:"  # formatting the path once, not once a line
        venue = self.header.venue
        self._parts = source = (
            read_ahead(self.path, venue) if self.ahead else parts(self.path, venue)
        )
        for part in source:
            if isinstance(part, Frames):  # nearly every line, with nothing left to check
                first, times, raws, fields, self._at = part
                n = len(raws)
                number += n
                previous_seq = first + n - 1
                self.items += n
                yield from _frames_of_columns(
                    range(first, first + n), times, raws, itertools.repeat(None, n), fields, n=n
                )
                continue
            if isinstance(part, str):  # the stream ends early
                self.truncated = part
                return
            line, ended, self._at = part
            number += 1
            where = f"{prefix}{number}"
            try:
                data = orjson.loads(line)
            except orjson.JSONDecodeError:
                if not ended:  # only the last line can lack its newline
                    self.truncated = f"{where}: last line cut short ({len(line)} bytes), ignored"
                    return
                raise MalformedMessage("not JSON", where) from None
            if type(data) is not dict:
                raise MalformedMessage("expected an object", where)
            item = decode(data, where)
            if item.seq != previous_seq + 1:
                raise MalformedMessage(f"seq {item.seq} follows {previous_seq}", where)
            previous_seq = item.seq
            self.items += 1
            yield item


_frames_of_columns = builder(Frame)
"""``_frames_of_columns(seqs, times, raws, parsed, fields, n=n)``: a part's frames (``batch``)."""


def read_header(path: Path) -> Header:
    with RecordingReader(path) as reader:
        return reader.header


class RecordingWriter(AppendLog):
    """Appends items to a recording. See ``AppendLog`` for the flush and sync policy.

    A gzipped recording is written in one go (``recordings from-candles``); a live session
    writes plain lines, which survive a crash line by line.
    """

    def __init__(self, path: Path, header: Header | None = None) -> None:
        """Create ``path`` with ``header``, or append to it when ``header`` is None."""
        super().__init__(path, create=header is not None)
        if header is not None:
            self.write_line(dumps(converter.unstructure(header)))

    def write(self, item: Item) -> None:
        self.write_line(encode(item))
