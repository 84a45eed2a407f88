"""The installed ``trio-paper`` command: every ``--help`` says what the command does and shows an
example, and mistakes in ``recordings from-candles`` are one line and exit code 2."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from trio_paper import __version__

SCRIPT = Path(sys.executable).parent / "trio-paper"


def _run(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    command = [str(SCRIPT)] if SCRIPT.exists() else [sys.executable, "-m", "trio_paper"]
    env = {**os.environ, "COLUMNS": "80"}
    return subprocess.run(
        [*command, *args], capture_output=True, text=True, timeout=60, env=env, cwd=cwd,
        check=False,
    )  # fmt: skip


# command → words its description must contain, and the example it must show
HELP = {
    (): ("Paper-trade crypto perpetuals", "trio-paper run --minutes 10"),
    ("run",): ("Stream live market data", "trio-paper run --minutes 10 --sim"),
    ("replay",): ("Feed a recorded session", "trio-paper replay --file"),
    ("sim",): ("speaks the public protocol of the recording's venue", "trio-paper sim --port"),
    ("status",): ("from the last checkpoint", "trio-paper status --json"),
    ("reset",): ("lifts them in the saved account", "trio-paper reset --halt"),
    ("recordings",): ("Build recordings", "trio-paper recordings from-candles"),
    ("sweep",): ("once per combination of strategy params", "trio-paper sweep --file"),
    ("recordings", "from-candles"): (
        "from real 1-minute candles",
        "trio-paper recordings from-candles \\",
    ),
}


def test_the_console_script_is_installed() -> None:
    assert SCRIPT.exists(), f"{SCRIPT}: install the project (pip install -e '.[dev]')"


@pytest.mark.parametrize("command", sorted(HELP))
def test_help_explains_the_command_with_an_example(command: tuple[str, ...]) -> None:
    result = _run(*command, "--help")
    assert result.returncode == 0, result.stderr
    text = result.stdout
    description, example = HELP[command]
    assert text.startswith(f"usage: trio-paper {' '.join(command)}".rstrip() + " ")
    assert description in " ".join(text.split())  # wrapped lines joined again
    assert "example" in text
    assert example in text
    # Prose is wrapped to the terminal; indented example lines keep their layout.
    wide = [line for line in text.splitlines() if len(line) > 80 and not line.startswith(" ")]
    assert wide == []


def test_every_subcommand_is_in_the_table_above() -> None:
    result = _run("--help")
    listed = {
        match[1]
        for line in result.stdout.splitlines()
        if (match := re.match(r" {4}([a-z-]+)", line))
    }
    assert {command[0] for command in HELP if command} == listed


def test_python_dash_m_is_the_same_command() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "trio_paper", "--version"],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert (result.returncode, result.stdout) == (0, f"trio-paper {__version__}\n")


def test_a_missing_command_is_a_usage_error() -> None:
    result = _run()
    assert result.returncode == 2
    assert "required: COMMAND" in result.stderr


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--minutes", "0"], "argument --minutes: must be at least 1: '0'"),
        (["--minutes", "x"], "argument --minutes: not a whole number: 'x'"),
        (["--start", "2025-05-08T12:29:30Z"], "trio-paper: --start 2025-05-08T12:29:30Z is not on"),
        (["--start", "yesterday"], "trio-paper: Invalid isoformat string: 'yesterday'"),
        (["--start", "2025-05-08T12:29:00"], "has no timezone"),
        (["--candles", "nope.csv"], "trio-paper: nope.csv: no such file"),
        (["--start", "2024-01-01T00:00:00Z"], "has 0 of the 2 minutes from 2024-01-01T00:00:00Z"),
    ],
)
def test_from_candles_mistakes_are_one_line_and_exit_2(
    shared_data: Path, tmp_path: Path, args: list[str], message: str
) -> None:
    defaults = {
        "--candles": str(shared_data / "candles" / "binance_usdm_BTCUSDT_1m.csv.gz"),
        "--start": "2025-05-08T12:29:00Z",
        "--minutes": "2",
        "--out": str(tmp_path / "out.jsonl"),
    }
    defaults.update(zip(args[::2], args[1::2], strict=True))
    argv = [word for pair in defaults.items() for word in pair]
    result = _run("recordings", "from-candles", *argv, cwd=tmp_path)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert message in result.stderr.splitlines()[-1]  # after argparse's usage lines, if any
