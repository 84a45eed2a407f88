"""``trio-paper run``: everything around a session — lock, recovery, run folder, signals, the end.

Order at start: check every argument; take the lock on ``state/``; archive the state if
``--fresh``; recover the last run (checkpoint + recording tail) so the account is exactly where
it stopped; open the new run folder; then hand over to ``Session`` under ``trio.run``, with the
signal watcher beside it. At the end, outside the event loop: ``Run.finish`` (manifest, reports,
``runs/latest``).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import sys
from contextlib import AsyncExitStack, ExitStack
from pathlib import Path
from typing import Any, TypeVar

import attrs
import trio

from ..config import Config, evolve
from ..core import Core
from ..engine.strategies import Strategy
from ..errors import Exit, FatalIO, UsageError
from ..logs import log_exception
from ..runtime.durable import Durable
from ..runtime.feed import websocket_address
from ..runtime.session import Session, SessionPlan
from ..runtime.watchers import WatchPlan
from ..sim import FaultPlan, demo_recording, open_simulator
from ..store.journal import JournalWriter
from ..store.lock import StateLock
from ..store.recording import Header, RecordingReader, RecordingWriter
from ..store.rundir import ensure_home
from .accounts import account_store, mode_of
from .late_signals import hold_late_signals
from .lifecycle import Run
from .recover import recover
from .settings import config_of, home_of, strategy_of, urls_of, venue_of
from .watching import last_alerts, watch_plan

E = TypeVar("E", bound=BaseException)
log = logging.getLogger("trio_paper.run")
sim_log = logging.getLogger("trio_paper.sim")


@attrs.frozen
class RunPlan:
    """A ``run`` command, every argument checked."""

    home: Path
    config: Config
    strategy: Strategy[Any, Any]
    minutes: float
    sim_file: Path | None
    faults: FaultPlan
    fresh: bool
    watch: WatchPlan


def run_command(args: argparse.Namespace) -> int:
    with ExitStack() as stack:
        return _run(args, stack)


def _run(args: argparse.Namespace, stack: ExitStack) -> int:
    plan = _plan(args, stack)
    ensure_home(plan.home)
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise
    try:
        with StateLock(plan.home / "state"):
            return _run_locked(plan)
    finally:
        if plan.watch.server is not None:
            plan.watch.server.close()


def _plan(args: argparse.Namespace, stack: ExitStack) -> RunPlan:
    config, _ = config_of(args)
    config, strategy = strategy_of(args, config)
    if args.venue and args.venue != config.venue.name:
        config = evolve(config, venue={"name": args.venue, "ws_url": None, "rest_url": None})
        venue_of(config, f"--venue {args.venue}")
    venue: dict[str, Any] = {}
    if args.venue_url:
        venue["ws_url"] = args.venue_url
    if args.rest_url:
        venue["rest_url"] = args.rest_url
    if venue:
        config = evolve(config, venue=venue)
    try:
        websocket_address(urls_of(config)[0])
    except ValueError as exc:
        raise UsageError(f"venue URL: {exc}") from None
    sim_file = args.sim_file
    if sim_file is None and args.sim:
        sim_file = stack.enter_context(demo_recording(config.venue.name))
    if sim_file is not None:
        _check_sim_file(sim_file, config.venue.name)
    faults = FaultPlan()
    if args.sim_fault or args.sim_faults:
        if sim_file is None:
            raise UsageError("--sim-fault and --sim-faults need --sim")
        faults = FaultPlan.parse(args.sim_fault, "--sim-fault")
        if args.sim_faults:
            faults += FaultPlan.load(args.sim_faults)
    minutes = args.minutes or config.session.minutes
    watch = watch_plan(config, args.serve, args.serve_token)
    return RunPlan(home_of(args), config, strategy, minutes, sim_file, faults, args.fresh, watch)


def _check_sim_file(path: Path, venue: str) -> None:
    """The recording ``--sim`` serves must exist and be from the session's venue."""
    try:
        with RecordingReader(path) as reader:
            recorded = reader.header.venue
    except FileNotFoundError:
        raise UsageError(f"--sim-file {path}: no such recording") from None
    except (ValueError, OSError) as exc:
        raise UsageError(f"{path}: {exc}") from None
    if recorded != venue:
        raise UsageError(
            f"{path} is a {recorded} recording; this session trades on {venue} (--venue)"
        )


def _run_locked(plan: RunPlan) -> int:
    home, config, strategy = plan.home, plan.config, plan.strategy
    hold_late_signals()  # recovery and the end; the session's own watcher restores it after
    mode = mode_of(plan.sim_file is not None)
    store = account_store(home, mode)
    if plan.fresh:
        archived = store.archive()
        if archived is not None:
            log.warning("--fresh: the previous account's state is archived in %s", archived)
    recovery = recover(home, store)
    if recovery is not None and recovery.venue not in (None, config.venue.name):
        raise UsageError(
            f"state/ holds an account trading on {recovery.venue} (run {recovery.run_id}), not "
            f"{config.venue.name}: run with --venue {recovery.venue}, or --fresh to archive it "
            "and start a new account"
        )
    resume = None
    if recovery is not None:
        resume = recovery.core
        if recovery.strategy and recovery.strategy != strategy.describe():
            log.warning("strategy changed since run %s: its state starts afresh", recovery.run_id)
            resume = {**resume, "engine": {**resume["engine"], "strategy": None}}
    ws_url, rest_url = urls_of(config)
    run = Run.create(
        home, mode, config, strategy, ws_url=ws_url, rest_url=rest_url,
        sim_recording=str(plan.sim_file) if plan.sim_file else None,
        resumed_from=recovery.run_id if recovery else None, minutes=plan.minutes,
    )  # fmt: skip
    core = Core(config, strategy)
    sockets = core.venue.sockets(ws_url, config.venue.symbol, config.venue.interval)
    channels = [channel for socket in sockets for channel in socket.channels]
    header = Header(
        config.venue.name, config.venue.symbol, channels, config.venue.interval,
        run.manifest.started, source=mode,
    )  # fmt: skip
    durable = Durable(
        RecordingWriter(run.dir.recording, header), JournalWriter(run.dir.events), store
    )
    session_plan = SessionPlan(
        config, run.id, plan.minutes, ws_url, rest_url, home / "state", resume,
        max(config.feed.warmup_bars, strategy.warmup_bars), status_tty=sys.stderr.isatty(),
        mode=mode, watch=plan.watch if plan.watch.active else None,
    )  # fmt: skip
    fatal_text: str | None = None
    try:
        code, reason = trio.run(_session, session_plan, core, durable, plan)
    except* FatalIO as group:
        fatal = _leaves(group)[0]
        print(f"trio-paper: fatal: {fatal}", file=sys.stderr)
        print(
            "Everything up to the last sync is safe; the next start recovers from it.",
            file=sys.stderr,
        )
        code, reason = Exit.FATAL_IO, f"fatal I/O: {fatal}"
        fatal_text = str(fatal)
    except* Exception as group:  # a bug: the run is still finished, and the user alerted
        if fatal_text is not None:  # what failed beside a fatal I/O error: that error says it
            log_exception("run", group, "failed beside the fatal I/O error")
        else:
            code, reason = Exit.ERROR, _crashed(group)
            fatal_text = f"{reason}; the next start recovers (logs/system.jsonl has the traceback)"
    finally:
        durable.close()
    run.finish(reason, int(code))
    last_alerts(plan.watch.alerter, run, reason, fatal_text)
    print("\n".join([f"run {run.id} ({reason})", *run.summary_lines()]))
    return code


def _crashed(group: BaseExceptionGroup[Exception]) -> str:
    """An unexpected error ended the session: log its traceback first (finishing the run could
    fail the same way), say so in one line, and give the run's exit reason. What was synced is
    safe, as after a ``kill -9``: the next start recovers from it."""
    error = _leaves(group)[0]
    reason = f"crashed: {type(error).__name__}: {error}"
    log_exception("run", group, f"the session {reason}")
    print(
        f"trio-paper: {reason} (a bug: logs/system.jsonl has the traceback). Everything up to "
        "the last sync is safe; the next start recovers from it.",
        file=sys.stderr,
    )
    return reason


def _leaves(group: BaseExceptionGroup[E]) -> list[E]:
    """The errors inside ``group``, however deeply nurseries nested them."""
    leaves: list[E] = []
    for exc in group.exceptions:
        leaves += _leaves(exc) if isinstance(exc, BaseExceptionGroup) else [exc]
    return leaves


async def _session(
    plan: SessionPlan, core: Core, durable: Durable, run: RunPlan
) -> tuple[Exit, str]:
    async with AsyncExitStack() as stack:
        if run.sim_file is not None:
            sim = await stack.enter_async_context(
                open_simulator(
                    run.sim_file, faults=run.faults, loop=True, align=True, log=sim_log.info
                )
            )
            plan = attrs.evolve(plan, ws_url=sim.ws_url, rest_url=sim.rest_url)
            log.info(
                "simulator serving %s at %s (faults: %s)", run.sim_file.name, sim.ws_url, run.faults
            )
        session = Session(plan, core, durable)
        async with trio.open_nursery() as nursery:
            nursery.start_soon(_signals, session)
            code = await session.run()
            nursery.cancel_scope.cancel()
        return code, session.end_reason or "unknown"


async def _signals(session: Session) -> None:
    """SIGINT, SIGTERM, SIGHUP: stop cleanly (a second one: exit now, the next start recovers);
    SIGUSR1: the kill switch."""
    names = {
        signal.SIGINT: "SIGINT", signal.SIGTERM: "SIGTERM", signal.SIGHUP: "SIGHUP",
        signal.SIGUSR1: "SIGUSR1",
    }  # fmt: skip
    with trio.open_signal_receiver(*names) as signals:
        async for signum in signals:
            name = names[signal.Signals(signum)]
            if signum == signal.SIGUSR1:
                await session.kill(f"signal {name}")
            elif session.stop_reason is None:
                session.request_stop(f"signal {name}")
            else:
                log.warning("second %s: exiting now; the next start recovers", name)
                logging.shutdown()
                os._exit(Exit.INTERRUPTED if signum == signal.SIGINT else 128 + signum)
