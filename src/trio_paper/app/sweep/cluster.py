"""Where a sweep's jobs run: an in-process Dask ``LocalCluster``, or a running cluster.

Dask stays on this side of the program: a sweep is a batch command with no Trio loop, and each
job runs a plain, synchronous replay in its worker process.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from .job import Job, check_access, failed, run_job

if TYPE_CHECKING:
    from distributed import Client

Done = Callable[[Job, dict[str, Any]], None]
CONNECT_TIMEOUT_S = 10


class ClusterError(Exception):
    """The cluster cannot be reached, or its workers cannot reach the data: the message says."""


@contextmanager
def open_client(
    workers: int | None, scheduler: str | None, verbose: bool = False
) -> Iterator[Client]:
    """A Dask client: on ``scheduler`` if given, else on a new local cluster of ``workers``
    processes (one thread each), closed — cluster and all — when the block ends."""
    try:
        import dask
        from distributed import Client, LocalCluster
    except ImportError as exc:
        raise ClusterError(
            f"a sweep runs on Dask, which cannot be imported ({exc}): reinstall trio-paper, "
            "which depends on dask and distributed"
        ) from None

    level = logging.INFO if verbose else logging.ERROR
    for name in ("distributed", "tornado", "bokeh"):
        logging.getLogger(name).setLevel(level)
    with dask.config.set({"logging.distributed": logging.getLevelName(level).lower()}):
        if scheduler is not None:
            try:
                client = Client(scheduler, timeout=CONNECT_TIMEOUT_S, set_as_default=False)  # type: ignore[no-untyped-call]
            except (OSError, TimeoutError) as exc:
                raise ClusterError(f"--scheduler {scheduler}: cannot connect ({exc})") from None
            with client:
                yield client
            return
        cluster = LocalCluster(
            n_workers=workers, threads_per_worker=1, processes=True, host="127.0.0.1",
            silence_logs=level,
            # No dashboard; its HTTP server (health, metrics) on loopback, on any free port:
            # the default, 8787, is often taken by another cluster on the machine.
            scheduler_kwargs={"dashboard": False, "dashboard_address": "127.0.0.1:0"},
        )  # type: ignore[no-untyped-call]  # fmt: skip
        with cluster, Client(cluster, set_as_default=False) as client:  # type: ignore[no-untyped-call]
            yield client


def check_workers(client: Client, input_path: str, home: str) -> None:
    """Ask every worker whether it can read the input and write the runs, before any job."""
    answers: dict[str, str | None] = client.run(check_access, input_path, home)
    if not answers:
        raise ClusterError("the cluster has no workers")
    for worker, problem in sorted(answers.items()):
        if problem is not None:
            raise ClusterError(
                f"worker {worker} {problem}: workers read the input and write the runs by "
                "path, so both must be at the same path on every worker (a shared filesystem)"
            )


def run_jobs(client: Client, jobs: list[Job], done: Done) -> None:
    """Run ``jobs`` on the cluster, calling ``done(job, row)`` as each finishes, in any order.
    A job lost with its worker is a row with its error, not a failed sweep."""
    from distributed import as_completed

    futures = client.map(run_job, jobs, key=[f"trio-paper-sweep-{job.key}" for job in jobs])
    by_key = {future.key: job for future, job in zip(futures, jobs, strict=True)}
    for future in as_completed(futures, loop=client.loop):  # type: ignore[no-untyped-call]
        job = by_key[future.key]
        if future.status == "finished":
            row = future.result()
        else:
            error = future.exception()
            row = failed(f"worker: {type(error).__name__}: {error}", job.run_path)
        future.release()
        done(job, row)
