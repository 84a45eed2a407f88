"""Secrets against hostile user code and narrow terminals (issue 11, items 8, 9 and 10): a
strategy raising a ``BaseException`` subclass with a secret in it, a URL password in the live
panel, a secret a strategy keeps in its state."""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import trio
from rich.console import Console

from tests.engine.enginekit import Scripted, config
from tests.leaks import assert_no_secrets
from tests.test_no_secrets import ENV_SECRETS, PLANTED, plant, trio_paper
from trio_paper import scrub
from trio_paper.core import Core
from trio_paper.runtime.feed import FeedStatus
from trio_paper.runtime.panel import StatusBoard
from trio_paper.scrub import Scrubber
from trio_paper.store.checkpoint import checkpoint_of, encode
from trio_paper.store.journal import read_journal

HOSTILE = '''
"""A strategy whose errors are BaseExceptions carrying a secret."""
import os

from trio_paper.engine.strategies import Strategy


class Boom(BaseException):
    pass


class Hostile(Strategy):
    name = "hostile"

    def on_bar(self, bar, view):
        raise Boom(f"boom {os.environ['BITUNIX_API_SECRET']}")
'''


def test_a_strategy_raising_a_base_exception_is_contained_and_scrubbed(
    tmp_path: Path, demo_recording: Path
) -> None:
    """Before: the replay died (exit 1) and Python printed the traceback, secret and all,
    after the scrubbing terminal had been taken down."""
    home, env = plant(tmp_path)
    (tmp_path / "hostile_strategy.py").write_text(HOSTILE)
    result = trio_paper(
        "replay", "--home", str(home), "--file", str(demo_recording),
        "--strategy", "hostile_strategy:Hostile", env=env,
    )  # fmt: skip
    assert result.returncode == 7, result.stderr  # contained, disabled: the replay says so
    assert_no_secrets(home, [result.stdout, result.stderr], PLANTED)
    journal = read_journal(home / "runs/latest/events.jsonl")
    errors = [r for r in journal if r["type"] == "strategy"]
    assert errors[0]["error"] == "Boom: boom ***"
    assert errors[-1]["disabled"] is True


class Keeper(Scripted):
    """Keeps a secret in its state, as a careless strategy might."""

    name = "keeper"

    def snapshot(self) -> Any:
        return {"token": ENV_SECRETS["BITUNIX_API_SECRET"], "bars": 3}


def test_a_secret_in_the_strategy_state_is_masked_in_the_checkpoint() -> None:
    previous = scrub.install(Scrubber.from_environ(ENV_SECRETS))
    try:
        core = Core(config(), Keeper())
        data = encode(checkpoint_of("r", core))
    finally:
        scrub.install(previous)
    assert ENV_SECRETS["BITUNIX_API_SECRET"].encode() not in data
    assert b'"token":"***"' in data
    assert b'"bars":3' in data


async def test_the_live_panel_masks_a_url_password_before_rich_cuts_it() -> None:
    """Before: rich wrapped the feed's error mid-password and the stream's scrubber saw only
    fragments: ``ws://trader:QWERTYUIOPASDFGH…``."""
    password = "QWERTYUIOPASDFGHJKLZXCVBNM123456"
    error = f"cannot connect to ws://trader:{password}@127.0.0.1:9/public/: refused"
    status = FeedStatus(connected=False, last_error=error)
    board = StatusBoard(Core(config(), Scripted()), lambda: status, tty=True)
    out = io.StringIO()
    with trio.fail_after(5):
        await trio.sleep(0.5)  # the board's clock starts
        Console(file=out, width=60, force_terminal=False).print(board._table())
    shown = out.getvalue()
    assert "***" in shown
    assert password[:6] not in shown
