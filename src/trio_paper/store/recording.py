"""``recording.jsonl[.gz]``: a header line, then one line per input item, append-only.

The format is documented in ``docs/recording-format.md``. The writer buffers and writes only
when told (see ``AppendLog``). The reader streams; it never holds the file in memory. A last
line cut short — what a crash leaves — is tolerated and reported; any other bad line is an
error that names its line number.
"""

from __future__ import annotations

import gzip
import io
import itertools
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import IO, cast

import attrs
import orjson

from .. import __version__
from ..batch import builder
from ..codec import MalformedMessage, converter, dumps, structure
from ..inputs import Frame, Item, decode, encode
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


class RecordingReader:
    """Iterate a recording's items: ``for item in RecordingReader(path)``.

    ``header`` is read on open. After iteration, ``truncated`` says whether the last line was
    cut short, and ``items`` how many were read.
    """

    def __init__(self, path: Path) -> None:
        self.path = path
        self._size = path.stat().st_size
        self._raw = path.open("rb")
        self._file: IO[bytes] = (
            cast(IO[bytes], gzip.GzipFile(fileobj=self._raw, mode="rb"))
            if path.suffix == ".gz"
            else self._raw
        )
        self.truncated: str | None = None
        self.items = 0
        try:
            self.header = self._read_header()
        except BaseException:
            self.close()
            raise

    def _read_header(self) -> Header:
        where = f"{self.path}:1"
        try:
            data = orjson.loads(self._file.readline())
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
        self._file.close()
        self._raw.close()

    def fraction_read(self) -> float:
        """How far through the file (compressed bytes for a .gz): for progress bars."""
        return self._raw.tell() / self._size if self._size else 1.0

    def __iter__(self) -> Iterator[Item]:
        number = 1
        previous_seq = 0
        prefix = f"{self.path}:"  # formatting the path once, not once a line
        loads = orjson.loads
        # A block's frames, nearly every line, wait here as columns and are built together.
        seqs: list[int] = []
        times: list[int] = []
        raws: list[str] = []
        for lines, ended in self._blocks():
            for line in lines:
                number += 1
                try:
                    data = loads(line)
                except orjson.JSONDecodeError:
                    yield from self._frames(seqs, times, raws)
                    where = f"{prefix}{number}"
                    if not ended:  # only the last line can lack its newline
                        self.truncated = (
                            f"{where}: last line cut short ({len(line)} bytes), ignored"
                        )
                        return
                    raise MalformedMessage("not JSON", where) from None
                # A frame: what ``decode`` makes of it, without its calls.
                if type(data) is dict and len(data) == 3:
                    seq, t, raw = data.get("seq"), data.get("t"), data.get("frame")
                    if (
                        type(raw) is str and type(seq) is int and type(t) is int
                        and seq == previous_seq + 1
                    ):  # fmt: skip
                        previous_seq = seq
                        seqs.append(seq)
                        times.append(t)
                        raws.append(raw)
                        continue
                yield from self._frames(seqs, times, raws)
                where = f"{prefix}{number}"
                if type(data) is not dict:
                    raise MalformedMessage("expected an object", where)
                item = decode(data, where)
                if item.seq != previous_seq + 1:
                    raise MalformedMessage(f"seq {item.seq} follows {previous_seq}", where)
                previous_seq = item.seq
                self.items += 1
                yield item
            yield from self._frames(seqs, times, raws)

    def _frames(self, seqs: list[int], times: list[int], raws: list[str]) -> list[Frame]:
        """The frames waiting as columns, built (the columns are emptied)."""
        n = len(seqs)
        if not n:
            return []
        frames = _frames_of_columns(seqs, times, raws, itertools.repeat(None, n), n=n)
        self.items += n
        seqs.clear()
        times.clear()
        raws.clear()
        return frames

    def _blocks(self) -> Iterator[tuple[list[bytes], bool]]:
        """The lines after the header, a block at a time, without their newlines, and whether
        they had one (only the last line can lack it: it comes alone). A compressed stream
        that ends early ends the lines where its data does, with ``truncated`` set.

        Read in blocks of the buffer's own size and split here: a ``readline`` a line costs as
        much as parsing it. ``read1`` makes one read of the decompressor a block, as
        ``readline`` did, so a stream cut short gives up the same lines; a block's last,
        incomplete line waits for the next.
        """
        read = self._file.read1  # type: ignore[attr-defined]
        rest = b""
        while True:
            try:
                block = read(io.DEFAULT_BUFFER_SIZE)
            except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
                self.truncated = f"{self.path}: compressed stream ends early ({exc})"
                return
            if not block:
                break
            lines = block.split(b"\n")
            if rest:
                lines[0] = rest + lines[0]
            rest = lines.pop()
            yield lines, True
        if rest:
            yield [rest], False


_frames_of_columns = builder(Frame)
"""``_frames_of_columns(seqs, times, raws, parsed, n=n)``: a block's frames (``batch``)."""


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
