"""The README's commands set themselves up: `make run` and `make demo` install what a session
needs and nothing more (the dev tools took 80 s of a first run); `make test` adds the tools."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]


def planned(target: str) -> list[str]:
    """What ``make TARGET`` would run on a fresh machine (``-B``: nothing is up to date)."""
    env = {k: v for k, v in os.environ.items() if k not in ("MAKEFLAGS", "MFLAGS", "MAKELEVEL")}
    done = subprocess.run(  # under `make test`, a make of its own: not a sub-make's output
        ["make", "--no-print-directory", "-n", "-B", target], cwd=REPO, env=env,
        capture_output=True, text=True, timeout=30, check=True,
    )  # fmt: skip
    return done.stdout.splitlines()


@pytest.mark.parametrize("target", ["run", "demo"])
def test_a_session_installs_the_runtime_only(target: str) -> None:
    lines = planned(target)
    installs = [line for line in lines if "pip install" in line and "--upgrade pip" not in line]
    assert installs == [".venv/bin/pip install --quiet -e ."]
    assert lines[-1].startswith(".venv/bin/trio-paper run")


def test_the_tests_install_the_dev_tools_first() -> None:
    lines = planned("test")
    assert ".venv/bin/pip install --quiet -e '.[dev]'" in lines
    assert lines.index(".venv/bin/pip install --quiet -e '.[dev]'") < lines.index(
        ".venv/bin/pytest"
    )
