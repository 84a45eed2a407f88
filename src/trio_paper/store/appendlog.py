"""An append-only file of lines with an explicit flush and sync policy.

``write`` only buffers; ``flush`` hands the buffer to the OS; ``sync`` also fsyncs, and is
where a full disk or a failing device shows up. The caller decides when each happens: the
journal syncs before a fill counts as done, the recording before the records that depend on it.

A live session splits ``sync`` in two so that its event loop never waits for the disk: ``take``
hands the buffered lines over on the event loop (the buffer starts afresh, the next ``write``
goes on at once) and ``sync_taken`` writes and fsyncs them from the writer thread, touching no
buffer.
"""

from __future__ import annotations

import contextlib
import gzip
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any, Self, cast

from ..scrub import scrub_bytes
from .numeric_lines import NumericLine


class AppendLog:
    def __init__(self, path: Path, create: bool) -> None:
        """Open ``path`` for appending; ``create`` truncates it first. ``.gz`` compresses."""
        self.path = path
        self.gz = path.suffix == ".gz"
        if self.gz and not create:
            raise ValueError(f"{path}: appending to a gzipped file is not supported")
        self._raw: IO[bytes] = path.open("wb" if create else "ab")
        # No file name and no time in the gzip header: the same lines give the same bytes.
        self._out = (
            cast(IO[bytes], gzip.GzipFile(filename="", fileobj=self._raw, mode="wb", mtime=0))
            if self.gz
            else self._raw
        )
        self._buffer: list[bytes] = []
        self.pending = 0

    def write_line(self, line: bytes) -> None:
        """Buffer one line, scrubbed of secrets; ``line`` has no newline."""
        self._buffer.append(scrub_bytes(line))
        self._buffer.append(b"\n")
        self.pending += 1

    def write_numeric_lines(self, lines: list[NumericLine]) -> None:
        """Buffer lines of numbers and fixed words (``numeric_lines``): nothing to scrub. A
        run of them is one join and one encode, not one per line."""
        self._buffer.append(("\n".join(lines) + "\n").encode("ascii"))
        self.pending += len(lines)

    def flush(self) -> None:
        with self._naming():
            if self._buffer:
                self._out.write(b"".join(self._buffer))
                self._buffer.clear()  # kept when the write fails: ``close`` tries it, and says so
            self._out.flush()
        self.pending = 0

    def sync(self) -> None:
        self.flush()
        with self._naming():
            os.fsync(self._raw.fileno())

    @contextlib.contextmanager
    def _naming(self) -> Iterator[None]:
        """An ``OSError`` of a write or fsync names the file (a full disk says which)."""
        try:
            yield
        except OSError as exc:
            if exc.filename is None:
                exc.filename = str(self.path)
            raise

    def take(self) -> list[bytes]:
        """The lines buffered so far, handed over for ``sync_taken``; the buffer starts afresh."""
        taken, self._buffer = self._buffer, []
        self.pending = 0
        return taken

    def sync_taken(self, taken: list[bytes]) -> None:
        """Write lines handed over by ``take``, in order, and fsync them. Safe in another thread
        while ``write_line`` goes on: it touches only the file, never the buffer. Lines whose
        write fails are gone from the buffer: ``close`` does not write them again."""
        with self._naming():
            if taken:
                self._out.write(b"".join(taken))
            self._out.flush()
            os.fsync(self._raw.fileno())

    def close(self) -> None:
        if self._raw.closed:
            return
        try:
            self.flush()
        finally:
            if self._out is not self._raw:
                self._out.close()
            self._raw.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def truncate_torn_tail(path: Path) -> int:
    """Cut a last line left without its newline by a crash; return how many bytes went."""
    if not path.exists():
        return 0
    with path.open("rb+") as handle:
        size = handle.seek(0, os.SEEK_END)
        if size == 0:
            return 0
        keep = size
        step = 4096
        while keep > 0:
            start = max(0, keep - step)
            handle.seek(start)
            chunk = handle.read(keep - start)
            if keep == size and chunk.endswith(b"\n"):
                return 0
            newline = chunk.rfind(b"\n")
            if newline >= 0:
                keep = start + newline + 1
                break
            keep = start
        handle.truncate(keep)
        handle.flush()
        os.fsync(handle.fileno())
        return size - keep
