"""A recording's lines, read into parts: in this process, or ahead of it by a second one.

Reading a recording is decompressing it, splitting it into lines and parsing each line's JSON:
a third of a raw-frame replay's time when it is done between the inputs. ``parts`` does that
work and hands over what the reader needs, with nothing left to parse for a frame:

- a ``Frames`` part: consecutive frame lines, as columns (the first seq, the receive times,
  the raw texts, and the fields the venue's fast path reads, cut from each text by
  ``Venue.split``, or empty where it cuts none);
- a ``Line``: any other line, as its bytes, for ``RecordingReader`` to decode and judge (a
  control event, a binary frame, a frame out of sequence, a line that is not JSON), and
  whether it ended with a newline (only the last can lack one);
- a ``str``: why the lines stop early (a compressed stream cut short or damaged). A clean end
  is just the end.

``read_ahead`` runs ``parts`` in a second process (``python -m trio_paper.store.readahead``)
and reads them back from its pipe, so the decompression and the JSON run on another core while
this one runs the core. It gives exactly the parts ``parts`` gives: the same reads of the file
in the same order, so a damaged stream stops at the same line. The child dies with its reader:
it is killed when the reader closes, and a write to the pipe of a reader that was killed fails.

The second process's start (the interpreter, this module, the venues: about 0.1 s) is covered
by a head start: ``read_ahead`` reads the first parts here until the child's are ready.
"""

from __future__ import annotations

import contextlib
import fcntl
import gzip
import io
import os
import select
import sys
import zlib
from collections.abc import Callable, Generator, Iterator
from pathlib import Path
from typing import IO, NamedTuple, cast

import orjson

from .. import venues


class Frames(NamedTuple):
    """Frame lines ``first``, ``first + 1``, …: their receive times, texts and fields."""

    first: int
    times: list[int]
    raws: list[str]
    fields: list[str]
    at: int
    """How far into the file (compressed bytes for a .gz) the parts so far were read."""


class Line(NamedTuple):
    """A line to decode one by one, without its newline."""

    text: bytes
    ended: bool
    at: int


Part = Frames | Line | str
Split = Callable[[str], str | None]
"""A venue's ``split``."""
BATCH = 2048
"""Frames a part holds at most."""


def open_recording(path: Path) -> tuple[IO[bytes], IO[bytes]]:
    """The file, and its lines' stream (the same file, or its decompressor for a .gz)."""
    raw = path.open("rb")
    if path.suffix != ".gz":
        return raw, raw
    return raw, cast(IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb"))


def parts(path: Path, venue: str) -> Generator[Part, None, None]:
    """The parts of the lines after the header line of a recording from ``venue``, in order.

    The stream is read a block at a time — ``read1`` of the buffer's own size, one read of the
    decompressor, as ``readline`` reads — and split here, so a stream cut short or damaged
    gives up the same lines as reading it line by line would.
    """
    raw, file = open_recording(path)
    with raw, file:
        try:
            file.readline()  # the header: the reader has read and checked it
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            yield f"{path}: compressed stream ends early ({exc})"
            return
        yield from _parts(path, file, raw.tell, _split_of(venue))


def _split_of(venue: str) -> Split:
    """The venue's ``split``; for a venue this trio-paper does not know, one that cuts nothing
    (such a recording is still read: replaying it is what refuses it)."""
    known = venues.find(venue)
    return known.split if known is not None else lambda raw: None


def _parts(path: Path, file: IO[bytes], tell: Callable[[], int], split: Split) -> Iterator[Part]:
    read = file.read1  # type: ignore[attr-defined]
    loads, JSONDecodeError = orjson.loads, orjson.JSONDecodeError
    previous = 0  # the seq of the line before, as far as this can tell
    times: list[int] = []
    raws: list[str] = []
    fields: list[str] = []
    first = 0
    rest = b""
    while True:
        try:
            block = read(io.DEFAULT_BUFFER_SIZE)
        except (EOFError, zlib.error, gzip.BadGzipFile) as exc:
            if raws:
                yield Frames(first, times, raws, fields, tell())
            yield f"{path}: compressed stream ends early ({exc})"
            return
        if not block:
            break
        lines = block.split(b"\n")
        if rest:
            lines[0] = rest + lines[0]
        rest = lines.pop()
        for line in lines:
            try:
                data = loads(line)
            except JSONDecodeError:
                data = None
            # A frame in sequence: what ``inputs.decode`` makes of it, without its calls. A
            # text with a newline in it would break the part's text apart: it goes alone.
            if type(data) is dict and len(data) == 3:
                seq, t, text = data.get("seq"), data.get("t"), data.get("frame")
                if (
                    type(text) is str and type(seq) is int and type(t) is int
                    and seq == previous + 1 and "\n" not in text
                ):  # fmt: skip
                    if not raws:
                        first = seq
                    previous = seq
                    times.append(t)
                    raws.append(text)
                    fields.append(split(text) or "")
                    if len(raws) == BATCH:
                        yield Frames(first, times, raws, fields, tell())
                        times, raws, fields = [], [], []
                    continue
            if raws:
                yield Frames(first, times, raws, fields, tell())
                times, raws, fields = [], [], []
            if type(data) is dict and type(data.get("seq")) is int:
                previous = data["seq"]
            yield Line(line, True, tell())
    if raws:
        yield Frames(first, times, raws, fields, tell())
    if rest:
        yield Line(rest, False, tell())


# --- the second process ------------------------------------------------------------------------
# Each part is a header line, ``<kind> <numbers>``, and then as many bytes as it names:
#   F first at n_times n_raws n_fields — the times in decimal joined by ",", the texts joined
#     by "\n", then their fields joined by "\n"
#   L ended at n               — the line
#   S n                        — why the lines stop early
#   E                          — the clean end: anything else ending the pipe is a failure


def _serve(path: Path, venue: str, out: IO[bytes]) -> None:
    write = out.write
    for part in parts(path, venue):
        if type(part) is Frames:
            times = b",".join(b"%d" % t for t in part.times)
            texts = "\n".join(part.raws).encode()
            fields = "\n".join(part.fields).encode()
            sizes = (len(times), len(texts), len(fields))
            write(b"F %d %d %d %d %d\n" % (part.first, part.at, *sizes))
            write(times)
            write(texts)
            write(fields)
        elif type(part) is Line:
            write(b"L %d %d %d\n" % (part.ended, part.at, len(part.text)))
            write(part.text)
        else:
            reason = str(part).encode()
            write(b"S %d\n" % len(reason))
            write(reason)
    write(b"E\n")
    out.flush()


class ReadAheadError(OSError):
    """The second process failed: what it said, and how it ended."""


def read_ahead(path: Path, venue: str, head_start: bool = True) -> Generator[Part, None, None]:
    """``parts(path, venue)``, read by a second process; it is stopped when this generator
    closes.

    With ``head_start``, the parts are read here until the second process has its first part
    ready, and as many of its parts are then passed over.
    """
    import subprocess  # noqa: PLC0415 - here: the second process imports this module, not it

    child = subprocess.Popen(
        [sys.executable, "-m", "trio_paper.store.readahead", os.fspath(path), venue],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        start_new_session=True,  # a Ctrl-C in the terminal is for this process to handle
    )  # fmt: skip
    out, err = cast(IO[bytes], child.stdout), cast(IO[bytes], child.stderr)
    _widen(out)
    readline, read = out.readline, out.read
    try:
        here = 0
        if head_start:
            with contextlib.closing(parts(path, venue)) as local:
                for part in local:
                    yield part
                    if isinstance(part, str):
                        return  # the lines stop early, here: the child's can only agree
                    here += 1
                    if select.select([out], [], [], 0)[0]:  # the child has a part ready
                        break
                else:
                    return  # all read here
        while head := readline():
            kind, *numbers = head.split()
            if here and kind in b"FL":  # a part read here already
                here -= 1
                read(sum(map(int, numbers[2:] if kind == b"F" else numbers[2:3])))
            elif kind == b"F":
                first, at, n_times, n_texts, n_fields = map(int, numbers)
                times = list(map(int, read(n_times).split(b",")))
                texts = read(n_texts).decode().split("\n")
                fields = read(n_fields).decode().split("\n")
                yield Frames(first, times, texts, fields, at)
            elif kind == b"L":
                ended, at, n = map(int, numbers)
                yield Line(read(n), bool(ended), at)
            elif kind == b"S":
                yield read(int(numbers[0])).decode()
            elif kind == b"E" and not out.read(1):
                return
            else:
                break
        child.wait()
        said = err.read().decode(errors="replace").strip().splitlines()
        reason = said[-1] if said else f"it ended with exit status {child.returncode}"
        raise ReadAheadError(f"{path}: the process reading it ahead failed: {reason}")
    finally:
        child.kill()
        child.wait()
        out.close()
        err.close()


def _widen(pipe: IO[bytes]) -> None:
    """A pipe of a mebibyte (Linux; 64 KiB is the default): fewer, larger reads."""
    resize = getattr(fcntl, "F_SETPIPE_SZ", None)  # Linux only
    with contextlib.suppress(OSError):  # a lower limit for this user: the default will do
        if resize is not None:
            fcntl.fcntl(pipe.fileno(), resize, 1 << 20)


SECOND_PROCESS_BYTES = 1 << 20
"""Inputs smaller than this are read (and reported) in this process: starting another Python
(0.1-0.2 s) is not worth it."""


def worth_a_second_process(size: int) -> bool:
    """Whether work on an input of ``size`` bytes gains from a second process (reading a
    recording ahead, following a replay's journal): a big input, and a second CPU."""
    return size >= SECOND_PROCESS_BYTES and cpus() >= 2


def cpus() -> int:
    """The CPUs this process may run on (all of them where the OS cannot say: macOS)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def _main() -> None:
    try:
        _serve(Path(sys.argv[1]), sys.argv[2], sys.stdout.buffer)
    except BrokenPipeError:  # the reader is gone: nothing left to do
        os._exit(0)


if __name__ == "__main__":
    _main()
