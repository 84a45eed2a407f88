"""``trio-paper run``: everything around a session — lock, recovery, run directory, the ending.

Order at start: take the lock on ``state/``; archive the state if ``--fresh``; recover the last
run (checkpoint + recording tail) so the account is exactly where it stopped; open the new run
directory; then hand over to ``Session`` under ``trio.run``. At the end, outside the event loop:
manifest, reports, ``runs/latest``.
"""

from __future__ import annotations

import argparse
import logging
import os
import sys
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import attrs
import orjson
import trio

from .. import __version__
from ..cli import config_of, home_of, strategy_of
from ..codec import converter
from ..config import Config, evolve
from ..core import Core
from ..engine.strategies import Strategy
from ..exits import Exit
from ..report import write_reports
from ..store.checkpoint import CheckpointError, CheckpointStore, now_iso
from ..store.journal import JournalWriter
from ..store.lock import LockHeld, StateLock
from ..store.recording import Header, RecordingWriter
from ..store.recovery import recover
from ..store.rundir import RunDir, ensure_home, new_run, point_latest
from ..venues import bitunix
from .alerts import (
    Alerter,
    AlertError,
    alert_urls,
    apprise_delivery,
    end_alert,
    fatal_alert,
    summary_line,
)
from .durable import Durable, FatalIO
from .faults import FaultError, FaultPlan
from .feed import websocket_address
from .session import Session, SessionPlan
from .simulator import open_simulator
from .watch_server import SERVE_TOKEN_ENV, ServeError, bind, parse_address
from .watchers import WatchPlan

log = logging.getLogger("trio_paper.run")
sim_log = logging.getLogger("trio_paper.sim")

# The shipped recordings: the source tree's recordings/, or $TRIO_PAPER_RECORDINGS where the
# package is installed without its source tree (the container image sets it).
RECORDINGS = Path(
    os.environ.get("TRIO_PAPER_RECORDINGS") or Path(__file__).resolve().parents[3] / "recordings"
)
DEMO_RECORDING = RECORDINGS / "bitunix-btcusdt-2025-05-08-demo.jsonl.gz"


def run_command(args: argparse.Namespace) -> int:
    config, _ = config_of(args)
    config, strategy = strategy_of(args, config)
    venue: dict[str, Any] = {}
    if args.venue_url:
        venue["ws_url"] = args.venue_url
    if args.rest_url:
        venue["rest_url"] = args.rest_url
    if venue:
        config = evolve(config, venue=venue)
    try:
        websocket_address(config.venue.ws_url)
    except ValueError as exc:
        print(f"trio-paper: venue URL: {exc}", file=sys.stderr)
        return Exit.USAGE
    minutes = args.minutes or config.session.minutes
    home = home_of(args)
    ensure_home(home)
    sim_file = args.sim_file or (DEMO_RECORDING if args.sim else None)
    if sim_file is not None and not sim_file.exists():
        print(f"trio-paper: {sim_file}: no such recording", file=sys.stderr)
        return Exit.USAGE
    faults = FaultPlan()
    if args.sim_fault or args.sim_faults:
        if sim_file is None:
            print("trio-paper: --sim-fault and --sim-faults need --sim", file=sys.stderr)
            return Exit.USAGE
        try:
            faults = FaultPlan.parse(args.sim_fault)
            if args.sim_faults:
                faults += FaultPlan.load(args.sim_faults)
        except FaultError as exc:
            print(f"trio-paper: {exc}", file=sys.stderr)
            return Exit.USAGE
    logging.getLogger("httpx").setLevel(logging.WARNING)  # one line per request is noise
    try:
        watch = _watch_plan(config, args.serve, args.serve_token)
    except (AlertError, ServeError) as exc:
        print(f"trio-paper: {exc}", file=sys.stderr)
        return Exit.USAGE
    lock = StateLock(home / "state")
    try:
        lock.acquire()
    except LockHeld as exc:
        print(f"trio-paper: {exc}", file=sys.stderr)
        return Exit.LOCKED
    try:
        return _run_locked(home, config, strategy, minutes, sim_file, faults, args.fresh, watch)
    finally:
        lock.release()
        if watch.server is not None:
            watch.server.close()


def _watch_plan(config: Config, serve: str | None, token: str | None) -> WatchPlan:
    """Alert channels from the environment; the server's socket, bound now (a port in use is
    a usage error before anything starts)."""
    urls = alert_urls(os.environ)
    alerter = Alerter(config.alerts, apprise_delivery(urls) if urls else None)
    address = serve or config.session.serve
    if address is None:
        return WatchPlan(alerter)
    token = token or os.environ.get(SERVE_TOKEN_ENV, "").strip() or None  # .env is loaded now
    return WatchPlan(alerter, bind(parse_address(address), token), token)


def _run_locked(
    home: Path,
    config: Config,
    strategy: Strategy[Any, Any],
    minutes: float,
    sim_file: Path | None,
    faults: FaultPlan,
    fresh: bool,
    watch: WatchPlan,
) -> int:
    store = CheckpointStore(home / "state")
    if fresh:
        archived = store.archive()
        if archived is not None:
            log.warning("--fresh: the previous account's state is archived in %s", archived)
    try:
        recovery = recover(home, store)
    except CheckpointError as exc:
        print(f"trio-paper: {exc}", file=sys.stderr)
        return Exit.BAD_STATE
    resume = None
    if recovery is not None:
        resume = recovery.core
        if recovery.strategy and recovery.strategy != strategy.describe():
            log.warning("strategy changed since run %s: its state starts afresh", recovery.run_id)
            resume = {**resume, "engine": {**resume["engine"], "strategy": None}}
    mode = "sim" if sim_file is not None else "live"
    run = new_run(home, mode)
    manifest: dict[str, Any] = {
        "trio_paper": __version__, "kind": mode, "run_id": run.id, "venue": config.venue.name,
        "symbol": config.venue.symbol, "ws_url": config.venue.ws_url,
        "rest_url": config.venue.rest_url, "sim_recording": str(sim_file) if sim_file else None,
        "strategy": strategy.describe(), "config": converter.unstructure(config),
        "resumed_from": recovery.run_id if recovery else None, "minutes": minutes,
        "started": now_iso(),
    }  # fmt: skip
    run.write_manifest(manifest)
    point_latest(run)
    channels = [bitunix.kline_channel(config.venue.interval), *bitunix.MARKET_CHANNELS]
    header = Header(
        config.venue.name, config.venue.symbol, channels, config.venue.interval, now_iso(),
        source=mode,
    )  # fmt: skip
    durable = Durable(RecordingWriter(run.recording, header), JournalWriter(run.events), store)
    core = Core(config, strategy)
    plan = SessionPlan(
        config, run.id, minutes, config.venue.ws_url, config.venue.rest_url, home / "state",
        resume, max(config.feed.warmup_bars, strategy.warmup_bars),
        status_tty=sys.stderr.isatty(), watch=watch if watch.active else None,
    )  # fmt: skip
    fatal_text: str | None = None
    try:
        code, reason = trio.run(_session, plan, core, durable, sim_file, faults)
    except* FatalIO as group:
        fatal = _leaves(group)[0]
        print(f"trio-paper: fatal: {fatal}", file=sys.stderr)
        print(
            "Everything up to the last sync is safe; the next start recovers from it.",
            file=sys.stderr,
        )
        code, reason = Exit.FATAL_IO, f"fatal I/O: {fatal}"
        fatal_text = str(fatal)
    finally:
        durable.close()
    try:
        manifest.update(ended=now_iso(), exit_reason=reason, exit_code=int(code))
        run.write_manifest(manifest)
        write_reports(run)
    except OSError as exc:
        print(f"trio-paper: cannot finish {run.path}: {exc}", file=sys.stderr)
        return Exit.FATAL_IO
    _last_alerts(watch.alerter, run, reason, fatal_text, manifest)
    print(_farewell(run), file=sys.stderr)
    return code


def _last_alerts(
    alerter: Alerter, run: RunDir, reason: str, fatal: str | None, manifest: dict[str, Any]
) -> None:
    """Send the fatal and session-end alerts; list in the manifest what could not be sent."""
    try:
        line = summary_line(orjson.loads(run.summary_json.read_bytes()))
    except (OSError, ValueError, KeyError, TypeError):
        line = f"see {run.summary_html}"
    last = ([fatal_alert(fatal)] if fatal else []) + [end_alert(reason, line)]
    unsent = alerter.finish(last)
    if alerter.suppressed:
        log.warning("alerts over their rate limit, not sent: %s", dict(alerter.suppressed))
    if not unsent:
        return
    manifest["alerts_unsent"] = [
        {"event": alert.event, "title": alert.title, "error": error} for alert, error in unsent
    ]
    for alert, error in unsent:
        print(f"trio-paper: alert not sent: {alert.title} ({error})", file=sys.stderr)
    try:
        run.write_manifest(manifest)
    except OSError as exc:
        log.error("cannot list the unsent alerts in the manifest: %s", exc)


def _leaves(group: BaseExceptionGroup[FatalIO]) -> list[FatalIO]:
    """The ``FatalIO`` errors inside ``group``, however deeply nurseries nested them."""
    leaves: list[FatalIO] = []
    for exc in group.exceptions:
        leaves += _leaves(exc) if isinstance(exc, BaseExceptionGroup) else [exc]
    return leaves


async def _session(
    plan: SessionPlan, core: Core, durable: Durable, sim_file: Path | None, faults: FaultPlan
) -> tuple[Exit, str]:
    async with AsyncExitStack() as stack:
        if sim_file is not None:
            sim = await stack.enter_async_context(
                open_simulator(sim_file, faults=faults, loop=True, align=True, log=sim_log.info)
            )
            plan = attrs.evolve(plan, ws_url=sim.ws_url, rest_url=sim.rest_url)
            log.info("simulator serving %s at %s (faults: %s)", sim_file.name, sim.ws_url, faults)
        session = Session(plan, core, durable)
        code = await session.run()
        return code, session.end_reason or "unknown"


def _farewell(run: RunDir) -> str:
    return f"run {run.id} done: {run.summary_html}"
