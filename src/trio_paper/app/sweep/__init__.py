"""``trio-paper sweep``: one replay per combination of strategy params, on Dask.

The grid runs on an in-process ``LocalCluster`` by default, or unchanged on a running cluster
(``--scheduler``). Each job is a plain replay (``sweep.job``), so a row equals what
``trio-paper replay`` gives with those params. Results are cached by a key of the input file's
hash, the strategy, its params, the engine version and the whole config: a rerun does no work,
and a sweep killed halfway picks up where it stopped. With ``--test-from``, every combination
runs on the data before that time and the best few are replayed on the data after it.

Files: ``<home>/sweeps/<id>/results.csv``, ``results.json`` and ``summary.html``; each job's
run in ``<home>/sweeps/runs/<key>/``; the cache in ``<home>/sweeps/cache/<key>.json``.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import ExitStack, contextmanager
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from pathlib import Path
from typing import TYPE_CHECKING, Any

import attrs

from ... import __version__
from ...codec import MalformedMessage, converter
from ...config import Config, evolve
from ...engine.strategies import StrategyError
from ...engine.strategies import load as load_strategy
from ...errors import Exit
from ...times import datetime_to_ms, ms_to_iso
from ..settings import config_of, home_of
from .files import cache_key, digest_of, file_sha256, read_cache, write_cache, write_results
from .grid import Axis, GridError, check_names, combinations, parse_param, plain
from .job import METRICS, NA, Job

if TYPE_CHECKING:
    from distributed import Client

Progress = Callable[[str, int, int], None]

RANKINGS = {  # metric → True if higher is better
    "net_pnl_usdt": True, "return_pct": True, "sharpe": True, "sortino": True, "win_rate_pct": True,
    "max_drawdown_pct": False,
}  # fmt: skip
IN_SAMPLE, OUT_OF_SAMPLE, WHOLE = "in-sample", "out-of-sample", "all"
_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,99}")


class SweepError(Exception):
    """A sweep that cannot start: one line for the user, exit code 2."""


@attrs.frozen
class SweepPlan:
    """What to sweep, checked: the grid, the data, where it runs and what ranks the best."""

    input: Path
    strategy: str
    axes: tuple[Axis, ...]
    config: Config
    home: Path
    test_from: int | None = None
    rank_by: str = "net_pnl_usdt"
    top: int = 3
    workers: int | None = None
    scheduler: str | None = None
    sweep_id: str | None = None
    verbose: bool = False
    funding: Path | None = None


@attrs.frozen
class SweepResult:
    folder: Path
    rows: list[dict[str, Any]]
    ran: int
    cached: int

    @property
    def failed(self) -> int:
        return sum(1 for row in self.rows if row["health"] == "failed")


def plan_sweep(
    input_path: Path,
    strategy: str,
    params: Sequence[str],
    config: Config,
    home: Path,
    **options: Any,
) -> SweepPlan:
    """Check the grid against the strategy before anything runs; ``SweepError`` says what is
    wrong. ``options`` are the other fields of ``SweepPlan``."""
    if not input_path.is_file():
        raise SweepError(f"{input_path}: no such file")
    try:
        axes = tuple(parse_param(text) for text in params)
        base = load_strategy(strategy, _base_params(config, strategy))
        check_names(axes, attrs.fields_dict(type(base).Params), strategy)
        combinations(list(axes))
    except (GridError, StrategyError) as exc:
        raise SweepError(str(exc)) from None
    plan = SweepPlan(
        input_path.resolve(), strategy, axes, _without_secrets(config), home, **options
    )
    if plan.funding is not None:
        if not plan.funding.is_file():
            raise SweepError(f"--funding {plan.funding}: no such file")
        if _is_recording(input_path):
            raise SweepError(f"{input_path} is a recording: --funding is for candle files")
        plan = attrs.evolve(plan, funding=plan.funding.resolve())
    if plan.rank_by not in RANKINGS:
        raise SweepError(f"--rank-by {plan.rank_by}: use one of {', '.join(RANKINGS)}")
    if plan.top < 1:
        raise SweepError("--top must be at least 1")
    if plan.sweep_id is not None and not _ID.fullmatch(plan.sweep_id):
        raise SweepError(f"--sweep-id {plan.sweep_id!r}: letters, digits, '.', '_', '-' only")
    return plan


def _without_secrets(config: Config) -> Config:
    """A replay needs no API key: none is sent to a worker, and none changes a cache key."""
    secret = {f.name: None for f in attrs.fields(type(config.venue)) if f.metadata.get("secret")}
    return evolve(config, venue=secret)


def _base_params(config: Config, strategy: str) -> dict[str, Any]:
    """The config's params apply to the config's own strategy only (as in ``replay``)."""
    return dict(config.strategy.params) if config.strategy.name == strategy else {}


# --- running ---------------------------------------------------------------------------------


def run_sweep(plan: SweepPlan, progress: Progress | None = None) -> SweepResult:
    """Run every combination not cached yet and write the results; see the module doc."""
    from .split import SplitError, split_candles, split_recording

    digest = file_sha256(plan.input)
    sweeps = plan.home / "sweeps"
    folder = sweeps / (plan.sweep_id or default_id(plan, digest))
    folder.mkdir(parents=True, exist_ok=True)
    combos = [{k: plain(v) for k, v in c.items()} for c in combinations(list(plan.axes))]
    with _Runner(plan, sweeps, progress) as runner:
        if plan.test_from is None:
            rows = runner.rows(WHOLE, plan.input, digest, combos)
        else:
            split = split_recording if _is_recording(plan.input) else split_candles
            try:
                before, after = split(plan.input, plan.test_from, folder / "inputs")
            except SplitError as exc:
                raise SweepError(str(exc)) from None
            rows = runner.rows(IN_SAMPLE, before, digest, combos)
            best = [_params_of(plan, row) for row in ranked(rows, plan.rank_by)[: plan.top]]
            rows += runner.rows(OUT_OF_SAMPLE, after, digest, best)
    write_results(folder, _about(folder, plan), rows)
    return SweepResult(folder, rows, runner.ran, runner.cached)


class _Runner:
    """Jobs from the cache where it has them; the rest on a Dask client opened on first need
    (so a fully cached sweep starts no cluster at all)."""

    def __init__(self, plan: SweepPlan, sweeps: Path, progress: Progress | None) -> None:
        self.plan, self.sweeps, self.progress = plan, sweeps, progress
        self.cache = sweeps / "cache"
        self.ran = self.cached = 0
        self._stack = ExitStack()
        self._client: Client | None = None

    def __enter__(self) -> _Runner:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self._stack.close()

    def rows(
        self, part: str, path: Path, digest: str, combos: list[dict[str, Any]]
    ) -> list[dict[str, Any]]:
        window = part if self.plan.test_from is None else f"{part}:{self.plan.test_from}"
        if self.plan.funding is not None:  # another funding file is another result
            window += f";funding:{file_sha256(self.plan.funding)}"
        jobs = [self._job(path, digest, window, combo) for combo in combos]
        outcomes: dict[str, dict[str, Any]] = {}
        for job in jobs:
            cached = read_cache(self.cache, job.key)
            if cached is not None:
                outcomes[job.key] = cached
        self.cached += len(outcomes)
        pending = [job for job in jobs if job.key not in outcomes]
        total, label = len(jobs), part if part != WHOLE else "jobs"
        if self.progress:
            self.progress(label, len(outcomes), total)

        def done(job: Job, outcome: dict[str, Any]) -> None:
            outcomes[job.key] = outcome
            self.ran += 1
            if not str(outcome.get("error") or "").startswith(("worker:", "replay:")):
                write_cache(self.cache, job.key, outcome)
            if self.progress:
                self.progress(label, len(outcomes), total)

        if pending:
            from .cluster import run_jobs

            run_jobs(self._open(), pending, done)
        return [
            {"part": part, **combo, **_measured(outcomes[job.key])}
            for combo, job in zip(combos, jobs, strict=True)
        ]

    def _job(self, path: Path, digest: str, window: str, combo: dict[str, Any]) -> Job:
        plan = self.plan
        params = {**_base_params(plan.config, plan.strategy), **combo}
        config = evolve(plan.config, strategy={"name": plan.strategy, "params": params})
        key = cache_key(digest, window, plan.strategy, params, config)
        funding = str(plan.funding) if plan.funding is not None else None
        return Job(key, str(path), plan.strategy, params, config, str(self.sweeps), funding)

    def _open(self) -> Client:
        if self._client is None:
            from .cluster import ClusterError, check_workers, open_client

            plan = self.plan
            try:
                client = self._stack.enter_context(
                    open_client(plan.workers, plan.scheduler, plan.verbose)
                )
                check_workers(client, str(plan.input), str(self.sweeps))
            except ClusterError as exc:
                raise SweepError(str(exc)) from None
            self.cache.mkdir(parents=True, exist_ok=True)
            self._client = client
        return self._client


def _measured(outcome: dict[str, Any]) -> dict[str, Any]:
    return {
        **{name: outcome.get(name) for name in METRICS},
        "error": outcome.get("error"),
        "run": outcome.get("run"),
    }


def _params_of(plan: SweepPlan, row: dict[str, Any]) -> dict[str, Any]:
    return {axis.name: row[axis.name] for axis in plan.axes}


def ranked(rows: list[dict[str, Any]], metric: str) -> list[dict[str, Any]]:
    """Rows that have ``metric``, best first (grid order breaks ties)."""
    scored = [(value, i, row) for i, row in enumerate(rows) if (value := _number(row, metric))]
    higher = RANKINGS[metric]
    scored.sort(key=lambda s: (-s[0] if higher else s[0], s[1]))
    return [row for _, _, row in scored]


def _number(row: dict[str, Any], metric: str) -> Decimal | None:
    value = row.get(metric)
    if row.get("health") == "failed" or value in (None, NA):
        return None
    try:
        return Decimal(str(value))
    except InvalidOperation:
        return None


def default_id(plan: SweepPlan, input_sha256: str) -> str:
    """The same sweep asked for again gets the same folder: a name from what it sweeps."""
    what = {
        "input": input_sha256, "strategy": plan.strategy,
        "axes": [[a.name, [str(v) for v in a.values]] for a in plan.axes],
        "test_from": plan.test_from, "rank_by": plan.rank_by, "top": plan.top,
        "config": converter.unstructure(plan.config),
    }  # fmt: skip
    name = re.sub(r"[^A-Za-z0-9_-]+", "_", plan.strategy)[:40]
    return f"{name}-{digest_of(what)[:10]}"


def _is_recording(path: Path) -> bool:
    from ..replay import is_recording

    return is_recording(path)


def _about(folder: Path, plan: SweepPlan) -> dict[str, Any]:
    """What was swept, as ``results.json`` and the page state it."""
    return {
        "sweep_id": folder.name, "input": str(plan.input), "strategy": plan.strategy,
        "params": [axis.name for axis in plan.axes],
        "test_from": ms_to_iso(plan.test_from) if plan.test_from else None,
        "rank_by": plan.rank_by, "top": plan.top, "trio_paper": __version__,
    }  # fmt: skip


# --- the command -----------------------------------------------------------------------------

EXAMPLES = """\
examples:
  trio-paper sweep --file candles.csv.gz --strategy ema_cross \\
      --param fast=5,9,13 --param slow=21,34,55
  trio-paper sweep --file candles.csv.gz --workers 2 \\
      --param stop_pct=0.3..1.0:0.1
  trio-paper sweep --file candles.csv.gz --param fast=5,9 --param slow=21,34 \\
      --test-from 2025-06-01 --rank-by sharpe --top 2
  trio-paper sweep --file /shared/candles.csv.gz --param fast=5,9 \\
      --scheduler tcp://10.0.0.5:8786 --home /shared/paper

A --param is NAME=V1,V2,... or NAME=LOW..HIGH:STEP (inclusive); numbers stay exact.

Results: <home>/sweeps/<id>/results.csv, results.json and summary.html. Finished jobs \
are cached: the same sweep again does no work, and a killed sweep resumes where it stopped.

With --scheduler, every worker reads --file and writes <home>/sweeps/ by the same path \
(a shared filesystem); that is checked before any job is sent.

exit codes: 0 done (a failed job is a row with its error); 2 bad arguments or input
"""


def add_sweep_parser(
    commands: Any, parents: list[argparse.ArgumentParser], formatter_class: Any
) -> argparse.ArgumentParser:
    """Add ``sweep`` to the CLI's subcommands; the caller sets its handler."""
    sweep: argparse.ArgumentParser = commands.add_parser(
        "sweep", parents=parents, formatter_class=formatter_class, allow_abbrev=False,
        help="replay a grid of strategy params on Dask, locally or on a cluster",
        description="Replay a candle file or recording once per combination of strategy "
        "params, in parallel on Dask (a local cluster by default), and write one row per "
        "combination: trades, win rate, net PnL, fees, funding, max drawdown, Sharpe, health "
        "and the run's folder, plus a page with a sortable table and heatmaps.",
        epilog=EXAMPLES,
    )  # fmt: skip
    sweep.add_argument(
        "--file", type=Path, required=True, metavar="FILE",
        help="candles (.csv[.gz]) or a recording (.jsonl[.gz])",
    )  # fmt: skip
    sweep.add_argument(
        "--strategy", metavar="NAME", help="the strategy to sweep (default: the config's)"
    )
    sweep.add_argument(
        "--funding", type=Path, metavar="FILE",
        help="candle files: a funding history charged in every job, as `replay --funding` does",
    )  # fmt: skip
    sweep.add_argument(
        "--param", action="append", default=[], metavar="NAME=VALUES",
        help="a param and its values: fast=5,9,13 or stop_pct=0.3..1.0:0.1 (repeatable)",
    )  # fmt: skip
    sweep.add_argument(
        "--test-from", metavar="DATE",
        help="run the grid on the data before DATE (UTC), then the best --top after it",
    )  # fmt: skip
    sweep.add_argument(
        "--rank-by", default="net_pnl_usdt", choices=list(RANKINGS), metavar="METRIC",
        help=f"what picks the best for --test-from: {', '.join(RANKINGS)} (default net_pnl_usdt)",
    )  # fmt: skip
    sweep.add_argument(
        "--top", type=int, default=3, metavar="N", help="how many go out of sample (default 3)"
    )
    where = sweep.add_mutually_exclusive_group()
    where.add_argument(
        "--workers", type=int, metavar="N",
        help="worker processes of the local cluster (default: one per core)",
    )  # fmt: skip
    where.add_argument(
        "--scheduler", metavar="ADDR", help="a running Dask scheduler, e.g. tcp://host:8786"
    )
    sweep.add_argument(
        "--sweep-id", metavar="ID", help="name of the sweep's folder (default: from its inputs)"
    )
    sweep.add_argument("-v", "--verbose", action="store_true", help="show Dask's own logs")
    return sweep


def parse_time(text: str) -> int:
    """``2025-06-01`` or ``2025-06-01T12:00:00Z`` → ms; a time without a zone is UTC."""
    try:
        parsed = datetime.fromisoformat(text.strip())
    except ValueError:
        raise SweepError(f"--test-from {text!r}: not a date (2025-06-01 or ISO-8601)") from None
    return datetime_to_ms(parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC))


def sweep_command(args: argparse.Namespace) -> int:
    """The ``sweep`` command; user errors are one line on stderr and exit code 2."""
    home, (config, _) = home_of(args), config_of(args)
    try:
        if args.workers is not None and args.workers < 1:
            raise SweepError("--workers must be at least 1")
        plan = plan_sweep(
            args.file, args.strategy or config.strategy.name, args.param, config, home,
            test_from=parse_time(args.test_from) if args.test_from else None,
            rank_by=args.rank_by, top=args.top, workers=args.workers, scheduler=args.scheduler,
            sweep_id=args.sweep_id, verbose=args.verbose, funding=args.funding,
        )  # fmt: skip
        with _progress() as progress:
            result = run_sweep(plan, progress)
    except (SweepError, MalformedMessage) as exc:
        print(f"trio-paper: {exc}", file=sys.stderr)
        return Exit.USAGE
    print(
        f"{len(result.rows)} rows: {result.ran} run, {result.cached} from the cache, "
        f"{result.failed} failed\n{result.folder / 'results.csv'}\n"
        f"{result.folder / 'summary.html'}"
    )
    return Exit.OK


@contextmanager
def _progress() -> Iterator[Progress]:
    """A rich bar on a terminal (as ``replay`` draws), else a line per finished job."""
    from ..progress import progress_bar

    with progress_bar("sweeping") as update:

        def report(label: str, done: int, total: int) -> None:
            if update is not None:
                update(done / total if total else 1.0)
            else:
                print(f"sweep {label}: {done}/{total} done", file=sys.stderr, flush=True)

        yield report


__all__ = [
    "SweepError", "SweepPlan", "SweepResult", "add_sweep_parser", "cache_key", "plan_sweep",
    "run_sweep", "sweep_command",
]  # fmt: skip
