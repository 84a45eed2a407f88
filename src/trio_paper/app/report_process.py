"""A long replay's report, digested by a second process while the replay still runs.

A year of 1-minute candles is half a million journal records: digesting them after the replay
kept the user waiting on one core while the other idled. ``ReportProcess`` starts
``python -m trio_paper.app.report_process RUN_DIR`` beside the replay. It follows
``events.jsonl`` as the replay appends to it, a complete line at a time, through the same parse
as ``read_journal``, and once told the run is finished (journal synced, manifest saved) writes
``summary.json`` and ``summary.html`` from its digest: the bytes a pass after the run would
write. If it fails or does not answer, the replay writes the reports itself — same bytes, a
longer wait. Killed with the replay (its stdin closes without the word), it writes nothing: the
next start writes an unfinished run's reports.
"""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator
from io import BytesIO
from pathlib import Path
from types import TracebackType

from ..report import write_reports
from ..report.digest import Digest
from ..store.bars_beside import with_bar_runs
from ..store.journal import journal_records
from ..store.readahead import worth_a_second_process
from ..store.rundir import RunDir

FINISHED = b"finished\n"
WRITTEN = b"written\n"
POLL_S = 0.005
"""How long the follower waits for the replay to append more."""
READ_BYTES = 1 << 20
WAIT_S = 300.0
"""How long the replay waits for the follower to catch up and write, before writing itself."""


def worth_it(input_path: Path) -> bool:
    """Whether a replay of ``input_path`` gains from a report process: a big input, and a
    second CPU to run it on."""
    try:
        size = input_path.stat().st_size
    except OSError:
        return False
    return worth_a_second_process(size)


class ReportProcess:
    """The follower of one run's journal; ``finish`` has it write the reports."""

    def __init__(self, run: RunDir) -> None:
        self._process = subprocess.Popen(
            [sys.executable, "-m", "trio_paper.app.report_process", str(run.path)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        self.error: str | None = None
        """Why the follower did not write the reports, once ``finish`` says it did not."""

    def finish(self) -> bool:
        """Tell the follower the run is finished; True once it has written both reports."""
        try:
            out, err = self._process.communicate(FINISHED, timeout=WAIT_S)
        except subprocess.TimeoutExpired:
            self.close()
            self.error = f"no answer in {WAIT_S:.0f} s"
            return False
        if self._process.returncode == 0 and out == WRITTEN:
            return True
        last = err.decode("utf-8", "replace").strip().splitlines()[-1:] or ["no output"]
        self.error = f"exit {self._process.returncode}: {last[0]}"
        return False

    def close(self) -> None:
        """Stop the follower (if it still runs) without letting it write anything."""
        if self._process.poll() is None:
            self._process.kill()
        self._process.communicate()

    def __enter__(self) -> ReportProcess:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()


def _follow(path: Path, ended: threading.Event) -> Iterator[bytes]:
    """The lines of the journal at ``path`` as they are appended, until ``ended`` and no more
    come; a last line without its newline (torn) comes last, as a file's would."""
    with path.open("rb") as handle:
        pending = b""
        while True:
            done = ended.is_set()  # before the read: all the replay wrote is in the file then
            chunk = handle.read(READ_BYTES)
            if chunk:
                block = pending + chunk
                cut = block.rfind(b"\n") + 1
                pending = block[cut:]
                yield from BytesIO(block[:cut])
            elif done:
                if pending:
                    yield pending
                return
            else:
                ended.wait(POLL_S)


def main() -> int:
    run = RunDir(Path(sys.argv[1]))
    ended = threading.Event()
    word: list[bytes] = []

    def listen() -> None:
        word.append(sys.stdin.buffer.readline())
        ended.set()

    threading.Thread(target=listen, daemon=True).start()
    records = journal_records(_follow(run.events, ended), run.events)
    digest = Digest().read(run.events, with_bar_runs(records, run.events))
    ended.wait()  # a journal error ends the digest early: the run may still be going
    if word != [FINISHED]:
        print("the replay ended without finishing the run: no reports", file=sys.stderr)
        return 1
    write_reports(run, digest)
    sys.stdout.buffer.write(WRITTEN)
    return 0


if __name__ == "__main__":
    sys.exit(main())
