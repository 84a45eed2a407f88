"""``recording.jsonl[.gz]``: a header line, then one line per input item, append-only.

The format is documented in ``docs/recording-format.md``. The writer buffers and writes only
when told (see ``AppendLog``). The reader streams; it never holds the file in memory. A last
line cut short — what a crash leaves — is tolerated and reported; any other bad line is an
error that names its line number.
"""

from __future__ import annotations

import gzip
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, cast

import attrs
import orjson

from .. import __version__
from ..codec import MalformedMessage, converter, dumps, structure
from ..inputs import Item, decode, encode
from .appendlog import AppendLog

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


def _open_read(path: Path) -> IO[bytes]:
    if path.suffix == ".gz":
        return cast(IO[bytes], gzip.open(path, "rb"))
    return path.open("rb")


class RecordingReader:
    """Iterate a recording's items: ``for item in RecordingReader(path)``.

    ``header`` is read on open. After iteration, ``truncated`` says whether the last line was
    cut short, and ``items`` how many were read.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._file = _open_read(path)
        self.truncated: str | None = None
        self.items = 0
        first = self._file.readline()
        try:
            data = orjson.loads(first)
        except orjson.JSONDecodeError:
            self._file.close()
            raise MalformedMessage(
                "not a recording: the first line is not JSON", f"{path}:1"
            ) from None
        if type(data) is not dict or data.get("format") != FORMAT:
            self._file.close()
            raise MalformedMessage(f"not a recording: no {FORMAT!r} header", f"{path}:1")
        if data.get("version") != VERSION:
            self._file.close()
            found = data.get("version")
            reason = f"recording format version {found!r}; this trio-paper reads {VERSION}"
            raise MalformedMessage(reason, f"{path}:1")
        self.header = structure(data, Header, f"{path}:1")

    def __enter__(self) -> RecordingReader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._file.close()

    def __iter__(self) -> Iterator[Item]:
        number = 1
        previous_seq = 0
        lines = iter(self._file)
        while True:
            try:
                line = next(lines)
            except StopIteration:
                return
            except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
                self.truncated = f"{self.path}: compressed stream ends early ({exc})"
                return
            number += 1
            where = f"{self.path}:{number}"
            try:
                data = orjson.loads(line)
            except orjson.JSONDecodeError:
                if not line.endswith(b"\n"):  # only the last line can lack its newline
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
