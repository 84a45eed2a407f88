"""The ``trio-paper`` command line. Each command's ``--help`` says what it does, with examples."""

from __future__ import annotations

import argparse
import importlib
import math
import os
import sys
import textwrap
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import NoReturn

from . import __version__, logs
from .app.settings import config_of, home_of
from .app.sweep import add_sweep_parser
from .errors import Exit, TrioPaperError, exit_code_of, exit_codes_text
from .scrub import Scrubber, install, scrubbing_terminal
from .secrets import alert_urls, load_dotenv, secret_parts, secret_values
from .times import INTERVAL_MS

DESCRIPTION = """\
Paper-trade crypto perpetuals on live exchange data, unattended, and replay any session
bit for bit. Market data comes from Bitunix's public WebSocket (no API key needed); orders are
filled by a simulated broker; every session leaves runs/<id>/ with a recording, a journal
(events.jsonl) and a summary page (summary.html).
"""

EPILOG = """\
examples:
  trio-paper run --minutes 10              paper-trade live BTCUSDT for ten minutes
  trio-paper run --minutes 10 --sim        the same, offline, against the built-in simulator
  trio-paper replay --file runs/latest/recording.jsonl
  trio-paper replay --file candles.csv.gz --strategy pullback
  trio-paper status                        what the paper account holds now

Files live under --home (default: $TRIO_PAPER_HOME, else the current directory): runs/, logs/,
state/. Settings come from --config (default: <home>/config.yaml if present, else built-ins).

exit codes (every command):
"""


class _Formatter(argparse.RawDescriptionHelpFormatter):
    """Descriptions and examples keep their layout; a prose line (one not indented) that is
    wider than the terminal is wrapped rather than left for the terminal to cut mid-word."""

    def _fill_text(self, text: str, width: int, indent: str) -> str:
        return "\n".join(
            textwrap.fill(line, width, initial_indent=indent, subsequent_indent=indent)
            if len(line) > width and not line.startswith(" ")
            else indent + line
            for line in text.splitlines()
        )


def _formatter(prog: str) -> argparse.HelpFormatter:
    return _Formatter(prog, max_help_position=32)


def _common() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False, allow_abbrev=False)
    group = common.add_argument_group("where")
    group.add_argument(
        "--home", type=Path, default=argparse.SUPPRESS, metavar="DIR",
        help="root of runs/, logs/ and state/ (env TRIO_PAPER_HOME; default: current directory)",
    )  # fmt: skip
    group.add_argument(
        "--config", type=Path, default=argparse.SUPPRESS, metavar="FILE",
        help="settings file (env TRIO_PAPER_CONFIG; default: <home>/config.yaml if present)",
    )  # fmt: skip
    return common


def _strategy_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--strategy", metavar="NAME",
        help="ema_cross, pullback, or package.module:Class (default: the config's strategy.name)",
    )  # fmt: skip


def build_parser() -> argparse.ArgumentParser:
    common = _common()
    parser = argparse.ArgumentParser(
        prog="trio-paper", description=DESCRIPTION, epilog=EPILOG + exit_codes_text(),
        allow_abbrev=False,
        formatter_class=_formatter,
        parents=[common],
    )  # fmt: skip
    parser.add_argument("--version", action="version", version=f"trio-paper {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)

    run = commands.add_parser(
        "run", parents=[common], formatter_class=_formatter, allow_abbrev=False,
        help="paper-trade live market data for a while",
        description="Stream live market data, trade it with the strategy against the paper "
        "broker, and stop at the deadline (or on Ctrl-C / SIGTERM), leaving runs/latest/ with "
        "the recording, the journal and the summary. The paper account lives on in state/ "
        "across runs. Network trouble is survived: stale feeds are dropped and redialled, "
        "missed bars backfilled, and nothing fills on old prices.",
        epilog="examples:\n  trio-paper run --minutes 10\n  trio-paper run --minutes 10 --sim\n"
        "  trio-paper run --minutes 60 --strategy pullback --home ~/paper\n\n"
        f"exit codes:\n{exit_codes_text()}",
    )  # fmt: skip
    run.add_argument(
        "--minutes", type=_minutes, help="how long to run (default: config session.minutes)"
    )
    run.add_argument(
        "--sim",
        action="store_true",
        help="trade the built-in exchange simulator on the shipped demo recording (offline)",
    )
    run.add_argument(
        "--sim-file",
        type=Path,
        metavar="FILE",
        help="the recording --sim serves (default: the shipped demo)",
    )
    run.add_argument(
        "--sim-fault", action="append", default=[], metavar="SPEC",
        help="with --sim: inject a fault, e.g. drop@60, stall@120:30 or every@60 (a fault every"
        " minute, cycling through all kinds); repeatable; see docs/simulator.md",
    )  # fmt: skip
    run.add_argument(
        "--sim-faults", type=Path, metavar="FILE", help="with --sim: a fault schedule (YAML)"
    )
    _venue_option(run, "the exchange to trade (default: config venue.name)")
    run.add_argument(
        "--venue-url", metavar="URL",
        help="WebSocket base (default: config venue.ws_url, else the venue's own)",
    )  # fmt: skip
    run.add_argument(
        "--rest-url", metavar="URL", help="REST base for backfill (default: config venue.rest_url)"
    )
    run.add_argument(
        "--serve", metavar="HOST:PORT",
        help="serve a live page, /healthz and /metrics, e.g. 127.0.0.1:8080 (default: config "
        "session.serve; off). Beyond loopback, requests need the token",
    )  # fmt: skip
    run.add_argument(
        "--serve-token", metavar="TOKEN",
        help="the token requests to --serve must carry (default: env TRIO_PAPER_SERVE_TOKEN, "
        "which keeps it out of the process list); required off loopback",
    )  # fmt: skip
    run.add_argument(
        "--fresh",
        action="store_true",
        help="start a new paper account; the old state is archived, never deleted",
    )
    _strategy_option(run)
    run.set_defaults(handler=_command("run", "run_command"))

    replay = commands.add_parser(
        "replay", parents=[common], formatter_class=_formatter, allow_abbrev=False,
        help="run a recording or a candle file through the same engine",
        description="Feed a recorded session through the same decoder and engine, as fast as "
        "the machine allows, into a new run directory: a recording replays byte for byte. A "
        "CSV of OHLCV candles (open_time_ms or open_time, open, high, low, close, volume) is a "
        "bars-only backtest; its run keeps a copy of the file, and its journal leaves out the "
        "bars that repeat the one before (read back from the copy: docs/events.md).",
        epilog="examples:\n  trio-paper replay --file runs/latest/recording.jsonl\n"
        "  trio-paper replay --strategy pullback \\\n"
        "      --file recordings/bitunix-btcusdt-2025-05-08-day.jsonl.gz\n"
        "  trio-paper replay --file candles.csv.gz --speed 60\n"
        "  trio-paper replay --file candles.csv.gz --funding funding_rate_8h.csv",
    )  # fmt: skip
    replay.add_argument(
        "--file",
        type=Path,
        required=True,
        metavar="FILE",
        help="a recording (.jsonl[.gz]) or candles (.csv[.gz])",
    )
    replay.add_argument(
        "--speed", type=_speed, default=None, metavar="max|X",
        help="max (default): as fast as the machine allows; or X times real time",
    )  # fmt: skip
    replay.add_argument(
        "--run-id", metavar="ID", help="name of the run directory (default: a time stamp)"
    )
    replay.add_argument(
        "--interval", choices=list(INTERVAL_MS), metavar="NAME",
        help="candle files: the bars' interval, when it is not config venue.interval (a file "
        "whose spacing differs from it is refused)",
    )  # fmt: skip
    replay.add_argument(
        "--checkpoint-every", type=int, metavar="N",
        help="checkpoint every N inputs, so a killed replay resumes (with --run-id)",
    )  # fmt: skip
    replay.add_argument(
        "--funding", type=Path, metavar="FILE",
        help="candle files: funding history (open_time_ms + rate in open, or funding_time_ms,rate)",
    )  # fmt: skip
    replay.add_argument(
        "--mark", type=Path, metavar="FILE",
        help="with --funding: mark prices at the settlements (default: the candles' close)",
    )  # fmt: skip
    _strategy_option(replay)
    replay.set_defaults(handler=_command("replay", "replay_command"))

    add_sweep_parser(commands, [common], _formatter).set_defaults(
        handler=_command("sweep", "sweep_command")
    )

    sim = commands.add_parser(
        "sim", parents=[common], formatter_class=_formatter, allow_abbrev=False,
        help="serve a recording as its exchange (Bitunix or Binance USD-M) on loopback",
        description="A WebSocket server that speaks the public protocol of the recording's venue "
        "(Bitunix: connect frame, JSON ping/pong, subscribe without ack, idle drop, rate limit; "
        "Binance USD-M: streams routed by URL path, protocol pings, the 24 h close) and its REST "
        "kline endpoint, serving a recording in real time. Faults on demand, for testing.",
        epilog="examples:\n"
        "  trio-paper sim --port 8765 --rest-port 8766 \\\n"
        "      --file src/trio_paper/sim/recordings/bitunix-btcusdt-2025-05-08-demo.jsonl.gz\n"
        "  trio-paper run --minutes 5 --venue-url ws://127.0.0.1:8765/public/ \\\n"
        "      --rest-url http://127.0.0.1:8766\n"
        "  trio-paper sim --port 8765 --rest-port 8766 \\\n"
        "      --file src/trio_paper/sim/recordings/binance_usdm-btcusdt-2025-05-08-demo.jsonl.gz\n"
        "  trio-paper run --venue binance_usdm --minutes 5 --venue-url ws://127.0.0.1:8765 \\\n"
        "      --rest-url http://127.0.0.1:8766",
    )  # fmt: skip
    sim.add_argument(
        "--file", type=Path, required=True, metavar="FILE", help="the recording to serve"
    )
    _venue_option(sim, "the venue the recording must be from (default: whatever its header says)")
    sim.add_argument(
        "--port", type=int, default=0, help="WebSocket port (0 = any free one; the URL is printed)"
    )
    sim.add_argument("--rest-port", type=int, default=0, help="REST port (0 = any free one)")
    sim.add_argument(
        "--speed", type=_positive_float, default=1.0, help="playback speed (default 1 = real time)"
    )
    sim.add_argument(
        "--fault",
        action="append",
        default=[],
        metavar="SPEC",
        help="inject a fault, e.g. drop@60 or stall@120:30 (see docs/simulator.md); repeatable",
    )
    sim.add_argument(
        "--faults", type=Path, metavar="FILE", help="a fault schedule (YAML; see docs/simulator.md)"
    )
    sim.set_defaults(handler=_command("sim", "sim_command"))

    status = commands.add_parser(
        "status", parents=[common], formatter_class=_formatter, allow_abbrev=False,
        help="what the paper account holds now",
        description="Cash, equity, position, working orders and risk state from the last "
        "checkpoint of the live account (state/live/; --sim: the simulator's, state/sim/), its "
        "age, and whether a session is running. The two accounts never mix: a demo never moves "
        "the live account.",
        epilog="examples:\n  trio-paper status\n  trio-paper status --json\n"
        "  trio-paper status --check    exit 0 if a session is running and checkpointing, else 1",
    )  # fmt: skip
    status.add_argument("--json", action="store_true", help="print JSON for scripts")
    status.add_argument(
        "--sim", action="store_true", help="the simulator's account (state/sim/), not the live one"
    )
    status.add_argument(
        "--check", action="store_true", help="health check: exit 0 if healthy, 1 if not"
    )
    status.set_defaults(handler=_command("status", "status_command"))

    reset = commands.add_parser(
        "reset", parents=[common], formatter_class=_formatter, allow_abbrev=False,
        help="lift a risk halt or the kill switch by hand",
        description="The circuit breaker and the daily loss limit halt entries until the next "
        "UTC day; the kill switch stops trading for good. This lifts them in the saved account "
        "(no session may be running); the next session starts from there.",
        epilog="examples:\n  trio-paper reset --halt\n"
        "  rm state/KILL && trio-paper reset --kill",
    )  # fmt: skip
    reset.add_argument("--halt", action="store_true", help="lift a breaker or daily-limit halt")
    reset.add_argument("--kill", action="store_true", help="turn the kill switch off")
    reset.add_argument(
        "--sim", action="store_true", help="the simulator's account (state/sim/), not the live one"
    )
    reset.set_defaults(handler=_command("reset", "reset_command"))

    recordings = commands.add_parser(
        "recordings", parents=[common], formatter_class=_formatter, allow_abbrev=False,
        help="build recordings", description="Build recordings for replay and the simulator.",
        epilog="example:\n  trio-paper recordings from-candles --help\n"
        "  trio-paper recordings from-candles --candles candles_1m.csv.gz \\\n"
        "      --start 2025-05-08T12:29:00Z --minutes 12 --out demo.jsonl.gz",
    )  # fmt: skip
    rec_commands = recordings.add_subparsers(
        dest="recordings_command", metavar="COMMAND", required=True
    )
    fc = rec_commands.add_parser(
        "from-candles", parents=[common], formatter_class=_formatter, allow_abbrev=False,
        help="a recording in a venue's frame format from real 1-minute candles",
        description="Synthesize a recording in a venue's frame format (--venue) from real "
        "1-minute candles: a kline push every 500 ms walking open → extremes → close, quotes "
        "around it, mark-price frames with the real funding rate, and a warm-up backfill of the "
        "candles before the start. Deterministic: the same arguments give the same bytes.",
        epilog="example:\n  trio-paper recordings from-candles \\\n"
        "      --candles ../shared/data/candles/binance_usdm_BTCUSDT_1m.csv.gz \\\n"
        "      --funding ../shared/data/candles/binance_usdm_BTCUSDT_funding_rate_8h.csv \\\n"
        "      --start 2025-05-08T00:00:00Z --minutes 1440 --out recordings/day.jsonl.gz",
    )  # fmt: skip
    fc.add_argument(
        "--candles",
        type=Path,
        required=True,
        metavar="FILE",
        help="1-minute OHLCV candles (CSV or CSV.gz)",
    )
    fc.add_argument(
        "--start",
        required=True,
        metavar="TIME",
        help="first minute, ISO-8601 UTC (2025-05-08T00:00:00Z)",
    )
    fc.add_argument("--minutes", type=_positive_int, required=True, help="how many minutes")
    fc.add_argument(
        "--warmup",
        type=int,
        default=200,
        help="candles before --start sent as the warm-up backfill (default 200)",
    )
    fc.add_argument(
        "--funding",
        type=Path,
        metavar="FILE",
        help="funding rates CSV (settlement time, rate as a fraction)",
    )
    _venue_option(fc, "whose frame format to write (default bitunix)", "bitunix")
    fc.add_argument("--symbol", default="BTCUSDT", help="symbol in the frames (default BTCUSDT)")
    fc.add_argument(
        "--seed",
        type=int,
        default=0,
        help="seed for the synthesized quotes and timings (default 0)",
    )
    fc.add_argument(
        "--out", type=Path, required=True, metavar="FILE", help="output .jsonl or .jsonl.gz"
    )
    fc.set_defaults(handler=_command("recordings", "from_candles_command"))
    return parser


def _venue_option(parser: argparse.ArgumentParser, text: str, default: str | None = None) -> None:
    from .venues import names

    parser.add_argument(
        "--venue", choices=names(), default=default, metavar="NAME",
        help=f"{text}; one of {', '.join(names())}",
    )  # fmt: skip


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a whole number: {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1: {text!r}")
    return value


def _speed(text: str) -> float | None:
    """``max`` → None (no pacing), else a positive factor."""
    return None if text == "max" else _positive_float(text)


def _positive_float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or not value > 0:
        raise argparse.ArgumentTypeError(f"must be a number > 0: {text!r}")
    return value


MAX_MINUTES = 366 * 24 * 60
"""A session longer than a year is a typo (and a deadline trio cannot represent well)."""


def _minutes(text: str) -> float:
    value = _positive_float(text)
    if value > MAX_MINUTES:
        raise argparse.ArgumentTypeError(f"at most {MAX_MINUTES} (a year): {text!r}")
    return value


# --- commands: each in its own module of app/, imported only when it runs ----------------


def _command(module: str, function: str) -> Callable[[argparse.Namespace], int]:
    def handler(args: argparse.Namespace) -> int:
        command: Callable[[argparse.Namespace], int] = getattr(
            importlib.import_module(f"trio_paper.app.{module}"), function
        )
        return command(args)

    return handler


def _fail(code: Exit, message: str) -> NoReturn:
    print(f"trio-paper: {message}", file=sys.stderr)
    raise SystemExit(int(code))


def _prepare(args: argparse.Namespace) -> None:
    """Before any command: secrets from ``<home>/.env``, a scrubber that knows every secret,
    and logging to ``<home>/logs/``."""
    home = home_of(args)
    load_dotenv(home / ".env")
    config, _ = config_of(args)
    extra = [*secret_parts(alert_urls(os.environ)), getattr(args, "serve_token", None) or ""]
    install(Scrubber.from_environ(os.environ, secret_values(config) + [v for v in extra if v]))
    logs.setup(home, config.logging)


def main(argv: Sequence[str] | None = None) -> int:
    with scrubbing_terminal():  # whatever is printed, by us or by a library, is scrubbed
        parser = build_parser()
        args = parser.parse_args(argv)
        handler: Callable[[argparse.Namespace], int] = args.handler
        try:
            _prepare(args)
            return handler(args)
        except (TrioPaperError, OSError) as exc:
            _fail(exit_code_of(exc), str(exc))
        except KeyboardInterrupt:
            _fail(Exit.INTERRUPTED, "interrupted")
        except SystemExit:
            raise
        except BaseException as exc:  # any other: logged scrubbed, never a raw traceback
            logs.log_exception("cli", exc)
            raise SystemExit(int(exit_code_of(exc))) from None
        finally:
            _shutdown_logs()


def _shutdown_logs() -> None:
    """Close the logs; a failure is one scrubbed line (inside the scrubbing terminal), not a
    traceback printed after it."""
    try:
        logs.shutdown()
    except Exception as exc:
        print(f"trio-paper: cannot close the logs: {type(exc).__name__}: {exc}", file=sys.stderr)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
