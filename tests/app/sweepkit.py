"""For the sweep tests: candle slices cut from the shared data, a strategy that raises, and a
real ``dask scheduler`` with one ``dask worker`` as subprocesses on loopback."""

from __future__ import annotations

import gzip
import itertools
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import attrs
import orjson
from distributed import Client

from trio_paper.engine.intents import Intent
from trio_paper.engine.strategies.base import View
from trio_paper.engine.strategies.ema_cross import EmaCross
from trio_paper.engine.strategies.ema_cross import Params as EmaParams
from trio_paper.model import Bar

KIT_DIR = Path(__file__).resolve().parent
DASK = Path(sys.executable).parent / "dask"
START_TIMEOUT_S = 30


def cut_candles(shared_data: Path, out: Path, rows: int, skip: int = 0) -> Path:
    """``rows`` one-minute candles of the shared Binance file (after ``skip``), as a CSV."""
    source = shared_data / "candles" / "binance_usdm_BTCUSDT_1m.csv.gz"
    with gzip.open(source, "rt", encoding="utf-8") as handle:
        header = next(handle)
        body = itertools.islice(handle, skip, skip + rows)
        out.write_text(header + "".join(body), encoding="utf-8")
    return out


@attrs.frozen
class RaisingParams(EmaParams):
    raise_after: int | None = None
    """Raise from ``on_bar`` once this many bars have been seen; none never raises."""


class RaisingEmaCross(EmaCross):
    """``ema_cross`` that can be told to fail: a strategy bug, as a user's would be."""

    name = "raising_ema_cross"
    Params = RaisingParams

    def on_bar(self, bar: Bar, view: View) -> Sequence[Intent]:
        limit = getattr(self.params, "raise_after", None)
        if limit is not None and self.state.bars >= limit:
            raise RuntimeError(f"planted failure after {limit} bars")
        return super().on_bar(bar, view)


@contextmanager
def dask_cluster(folder: Path) -> Iterator[str]:
    """``dask scheduler`` and one ``dask worker`` (one process, one thread) on 127.0.0.1;
    yields the scheduler's address once the worker has joined."""
    address_file = folder / "scheduler.json"
    log = (folder / "dask.log").open("wb")
    started: list[subprocess.Popen[bytes]] = []
    try:
        scheduler = [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0"]
        scheduler += ["--no-dashboard", "--dashboard-address", "127.0.0.1:0"]
        scheduler += ["--scheduler-file", str(address_file)]
        started.append(subprocess.Popen(scheduler, stdout=log, stderr=log))
        deadline = time.monotonic() + START_TIMEOUT_S
        while not address_file.exists() or not address_file.stat().st_size:
            assert time.monotonic() < deadline, "the dask scheduler did not start"
            assert started[0].poll() is None, (folder / "dask.log").read_text()
            time.sleep(0.05)
        address: str = orjson.loads(address_file.read_bytes())["address"]
        worker = [str(DASK), "worker", address, "--host", "127.0.0.1", "--nworkers", "1"]
        worker += ["--nthreads", "1", "--no-dashboard", "--local-directory", str(folder)]
        started.append(subprocess.Popen(worker, stdout=log, stderr=log))
        with Client(address, timeout=START_TIMEOUT_S, set_as_default=False) as client:  # type: ignore[no-untyped-call]
            client.wait_for_workers(1, timeout=START_TIMEOUT_S)
        yield address
    finally:
        for process in reversed(started):
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(timeout=5)
        log.close()
