"""``trio-paper status``: what the paper account holds, from the last checkpoint in ``state/``.

Read-only: it never takes the lock and never writes. ``--check`` is a container health check:
healthy (exit 0) while a session holds the lock and its checkpoint is fresh.
"""

from __future__ import annotations

import argparse
import os
import sys
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson

from ..codec import converter, dumps
from ..config import Config
from ..core import Core, engine_settings
from ..engine.broker import Broker
from ..errors import Exit
from ..store.checkpoint import CURRENT, CheckpointError
from ..store.lock import holder
from .accounts import MODES, account_dir, account_store, mode_of
from .healthz import check, healthz_url
from .lifecycle import Run
from .settings import home_of

_SOURCES = {"live": "live prices, state/live/", "sim": "the simulator, state/sim/"}
STALE_FACTOR = 3
"""A running session checkpoints every ``checkpoint_interval_s``; this many missed: unhealthy."""


def account_status(home: Path, mode: str = "live") -> dict[str, Any]:
    """The ``mode`` account as plain data (what ``--json`` prints)."""
    state_dir = home / "state"
    pid = holder(state_dir) if state_dir.exists() else None
    report: dict[str, Any] = {
        "home": str(home), "mode": mode, "running": pid is not None, "pid": pid,
    }  # fmt: skip
    folder = account_dir(home, mode)
    try:
        checkpoint = account_store(home, mode).load() if state_dir.exists() else None
    except CheckpointError as exc:
        return {**report, "account": None, "problem": str(exc)}
    if checkpoint is None:
        other = "sim" if mode == "live" else "live"
        hint = "`trio-paper run --sim`" if mode == "sim" else "`trio-paper run`"
        if (account_dir(home, other) / CURRENT).exists():
            flag = " --sim" if other == "sim" else ""
            hint += f"; `trio-paper status{flag}` shows the {other} one"
        problem = f"no {mode} account in {folder} yet: {hint}"
        return {**report, "account": None, "problem": problem}
    try:
        run = Run.find(home, checkpoint.run_id)
    except ValueError:  # a damaged manifest: the account is in the checkpoint
        run = None
    config = run.manifest.run_config() if run is not None else Config()
    state = Core.restore_state(checkpoint.core)
    broker = Broker(engine_settings(config).broker, state.engine.broker, lambda *a, **k: None)
    account, position, risk = broker.state.account, broker.position, state.engine.risk
    saved = datetime.fromisoformat(checkpoint.saved_at)
    age = (datetime.now(UTC) - saved).total_seconds()
    return {
        **report,
        "run_id": checkpoint.run_id,
        "venue": {"name": config.venue.name, "symbol": config.venue.symbol,
                  "interval": config.venue.interval},
        "checkpoint": {"saved_at": checkpoint.saved_at, "age_s": round(age, 1),
                       "interval_s": config.session.checkpoint_interval_s},
        "account": {
            "cash": account.cash, "equity": broker.equity(), "realized": account.realized,
            "fees": account.fees, "funding": account.funding, "trades": broker.closed_trades(),
        },
        "position": {
            "qty": position.qty, "entry": position.entry if position.qty else None,
            "stop": position.stop, "target": position.target,
            "liquidation": broker.liquidation_price(), "unrealized": broker.unrealized(),
        },
        "orders": [converter.unstructure(order) for order in broker.state.orders],
        "risk": {
            "halted_until": risk.halted_until, "halt_reason": risk.halt_reason,
            "killed": risk.killed, "losses_in_a_row": risk.losses_in_a_row,
        },
    }  # fmt: skip


def status_command(args: argparse.Namespace) -> int:
    url = healthz_url()
    if args.check and url is not None:
        healthy, text = check(url, os.environ.get("TRIO_PAPER_SERVE_TOKEN") or None)
        print(text)
        return Exit.OK if healthy else Exit.ERROR
    home = home_of(args)
    status = account_status(home, mode_of(args.sim))
    if args.check:
        if not args.sim:  # the running session's account: whichever checkpointed last
            status = min(
                (account_status(home, mode) for mode in MODES),
                key=lambda s: s["checkpoint"]["age_s"] if s.get("checkpoint") else float("inf"),
            )
        healthy, why = _health(status)
        print(("healthy: " if healthy else "unhealthy: ") + why)
        return Exit.OK if healthy else Exit.ERROR
    if args.json:
        sys.stdout.write(
            orjson.dumps(orjson.loads(dumps(status)), option=orjson.OPT_INDENT_2).decode() + "\n"
        )
        return Exit.OK
    print(_text(status))
    return Exit.OK


def _health(status: dict[str, Any]) -> tuple[bool, str]:
    if not status["running"]:
        return False, "no session is running"
    checkpoint = status.get("checkpoint")
    if checkpoint is None:
        return False, status.get("problem", "no checkpoint")
    limit = max(STALE_FACTOR * checkpoint["interval_s"], 60.0)
    if checkpoint["age_s"] > limit:
        return False, f"last checkpoint {checkpoint['age_s']:.0f} s ago (limit {limit:.0f} s)"
    return True, f"pid {status['pid']}, last checkpoint {checkpoint['age_s']:.0f} s ago"


def _money(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def _text(status: dict[str, Any]) -> str:
    running = f"running (pid {status['pid']})" if status["running"] else "not running"
    if status.get("account") is None:
        return f"session: {running}\n{status['problem']}"
    a, p, r, c = status["account"], status["position"], status["risk"], status["checkpoint"]
    v = status["venue"]
    orders = status["orders"]
    side = "flat" if not p["qty"] else ("long" if p["qty"] > 0 else "short")
    lines = [
        f"account      {status['mode']} ({_SOURCES[status['mode']]})",
        f"session      {running}; last run {status['run_id']}",
        f"venue        {v['name']} {v['symbol']} {v['interval']}",
        f"checkpoint   {c['saved_at']} ({c['age_s']:.0f} s ago)",
        f"cash         {_money(a['cash'])} USDT",
        f"equity       {_money(a['equity'])} USDT",
        f"realized     {_money(a['realized'])}  fees {_money(a['fees'])}"
        f"  funding {_money(a['funding'])}  trades {a['trades']} closed"
        + (" + 1 open" if p["qty"] else ""),
        f"position     {side}" + (
            f" {abs(p['qty'])} @ {_money(p['entry'])}, stop {_money(p['stop'])},"
            f" target {_money(p['target'])}, liquidation {_money(p['liquidation'])},"
            f" unrealized {_money(p['unrealized'])}"
            if p["qty"] else ""
        ),
        f"orders       {len(status['orders'])} working"
        + "".join(f"\n  {o['id']} {o['side']} {o['kind']} {o['qty']} {o['tag']}" for o in orders),
        "risk         " + (
            "KILLED (kill switch)" if r["killed"]
            else f"halted: {r['halt_reason']}" if r["halted_until"] else "normal"
        ) + f"; losing trades in a row: {r['losses_in_a_row']}",
    ]  # fmt: skip
    return "\n".join(lines)
