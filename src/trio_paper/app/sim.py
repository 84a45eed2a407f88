"""``trio-paper sim``: serve a recording as the venue's exchange on loopback until Ctrl-C."""

from __future__ import annotations

import argparse
import signal
import time

import trio

from ..errors import UsageError
from ..sim import FaultPlan, Tape, load_tape, open_simulator


def sim_command(args: argparse.Namespace) -> int:
    """Print both URLs, serve until Ctrl-C or SIGTERM, return 0."""
    plan = FaultPlan.parse(args.fault)
    if args.faults is not None:
        plan += FaultPlan.load(args.faults)
    for flag, port in (("--port", args.port), ("--rest-port", args.rest_port)):
        if not 0 <= port <= 65535:
            raise UsageError(f"{flag} must be 0-65535, not {port}")
    if not args.file.is_file():
        raise UsageError(f"{args.file}: no such file")
    try:
        tape = load_tape(args.file)
    except ValueError as exc:  # MalformedMessage is one
        raise UsageError(f"{args.file}: {exc}") from None
    if args.venue is not None and args.venue != tape.header.venue:
        raise UsageError(f"{args.file} is a {tape.header.venue} recording, not {args.venue}")
    try:
        trio.run(_serve, args, tape, plan)
    except OSError as exc:
        raise UsageError(f"cannot serve: {exc}") from None
    return 0


async def _serve(args: argparse.Namespace, tape: Tape, plan: FaultPlan) -> None:
    def log(text: str) -> None:
        print(f"{time.strftime('%H:%M:%S')} {text}", flush=True)

    async with open_simulator(
        tape, port=args.port, rest_port=args.rest_port, speed=args.speed, faults=plan, log=log
    ) as sim:
        minutes = tape.length_ms // 60_000
        print(
            f"serving {args.file.name}: {len(tape):,} pushes, {minutes} min a lap, looping,"
            f" at {args.speed:g}x, aligned to the wall clock\n"
            f"venue:     {tape.header.venue}\n"
            f"faults:    {plan}\n"
            f"websocket: {sim.ws_url}{_routes_note(tape)}\n"
            f"rest:      {sim.rest_url}\n"
            "Ctrl-C to stop",
            flush=True,
        )
        with trio.open_signal_receiver(signal.SIGINT, signal.SIGTERM) as signals:
            async for signum in signals:
                print(f"stopping ({signal.Signals(signum).name})", flush=True)
                return


def _routes_note(tape: Tape) -> str:
    """Binance's URL is a base: a session adds ``/market/stream?...`` and ``/public/stream?...``."""
    if tape.dialect.ws_path:
        return ""
    return " (a base: sessions add /market/stream?streams=... and /public/stream?streams=...)"
