"""End to end: secrets planted everywhere a run can meet them reach no file and no terminal.

``trio-paper replay`` runs as a real process on the shipped demo recording, with secrets in the
environment, in ``<home>/.env``, in a URL in the config, in a strategy's log line and in the
exception the strategy raises. ``assert_no_secrets`` (tests/leaks.py) then scans runs/, logs/,
state/ and the captured output. The live-session test reuses ``plant`` and ``assert_no_secrets``.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import orjson

from tests.leaks import assert_no_secrets
from trio_paper import scrub
from trio_paper.app.replay import replay
from trio_paper.config import Config
from trio_paper.engine.strategies import load as load_strategy
from trio_paper.scrub import Scrubber
from trio_paper.store.journal import read_journal

ENV_SECRETS = {
    "BITUNIX_API_KEY": "planted-env-key-4f1c2b7d",
    "BITUNIX_API_SECRET": "planted-env-secret-9e0a8b6c",
}
DOTENV_NAME, DOTENV_SECRET = "DOTENV_SERVICE_TOKEN", "planted-dotenv-token-a1b2c3"
URL_PASSWORD, URL_QUERY = "planted-url-password-77", "planted-url-query-88"
LEAKY_URL = f"wss://bob:{URL_PASSWORD}@example.invalid/ws?apiKey={URL_QUERY}&symbol=BTCUSDT"
PLANTED = [*ENV_SECRETS.values(), DOTENV_SECRET, URL_PASSWORD, URL_QUERY]

STRATEGY = '''
"""A user strategy that leaks every secret it can."""
import logging
import os

from trio_paper.engine.strategies import Strategy

log = logging.getLogger("trio_paper.strategy.user")


class Leaky(Strategy):
    name = "leaky"

    def __init__(self, params):
        super().__init__(params)
        if os.environ.get("LEAKY_CRASH"):
            raise RuntimeError(f"cannot start with {os.environ['BITUNIX_API_SECRET']}")
        self.bars = 0

    def on_bar(self, bar, view):
        self.bars += 1
        if self.bars == 3:
            log.warning("connecting to %s with key %s", os.environ["LEAKY_URL"],
                        os.environ["BITUNIX_API_KEY"])
            log.info("dotenv says %s", os.environ["DOTENV_SERVICE_TOKEN"])
        if self.bars == 5:
            raise RuntimeError(
                f"boom {os.environ['BITUNIX_API_SECRET']} {os.environ['DOTENV_SERVICE_TOKEN']}"
            )
        return ()
'''


def plant(tmp_path: Path) -> tuple[Path, dict[str, str]]:
    """A home with a ``.env`` and a config holding a URL with credentials, a strategy module
    on ``PYTHONPATH``, and the environment for a ``trio-paper`` process."""
    home = tmp_path / "home"
    home.mkdir()
    (home / ".env").write_text(f"{DOTENV_NAME}={DOTENV_SECRET}\n")
    (home / "config.yaml").write_text(f"venue:\n  ws_url: '{LEAKY_URL}'\n")
    (tmp_path / "leaky_strategy.py").write_text(STRATEGY)
    env = {k: v for k, v in os.environ.items() if not k.startswith("TRIO_PAPER_")}
    env.pop(DOTENV_NAME, None)
    env.update(ENV_SECRETS, LEAKY_URL=LEAKY_URL)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(tmp_path), env.get("PYTHONPATH")]))
    return home, env


def trio_paper(*args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    script = shutil.which("trio-paper", path=str(Path(sys.executable).parent))
    command = [script] if script else [sys.executable, "-m", "trio_paper"]
    return subprocess.run(
        [*command, *args], env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_a_replay_leaks_nothing(tmp_path: Path, demo_recording: Path) -> None:
    home, env = plant(tmp_path)
    result = trio_paper(
        "replay", "--home", str(home), "--file", str(demo_recording),
        "--strategy", "leaky_strategy:Leaky", env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr

    assert assert_no_secrets(home, [result.stdout, result.stderr], PLANTED) >= 3
    # ... and the secrets were really there to leak: each place shows its mask.
    errors = [r for r in read_journal(home / "runs/latest/events.jsonl") if r["type"] == "strategy"]
    assert errors[0]["event"] == "error"
    assert errors[0]["error"] == "RuntimeError: boom *** ***"
    log = [orjson.loads(line) for line in (home / "logs/system.jsonl").read_bytes().splitlines()]
    messages = {r["message"] for r in log}
    assert "connecting to wss://***@example.invalid/ws?apiKey=***&symbol=BTCUSDT with key ***" in (
        messages
    )
    assert "dotenv says ***" in messages
    (notice,) = [r for r in log if r["component"] == "replay"]
    assert notice["message"] == "strategy leaky raised RuntimeError: boom *** ***"
    assert notice["traceback"].endswith("RuntimeError: boom *** ***")
    assert "leaky_strategy.py" in notice["traceback"]
    manifest = orjson.loads((home / "runs/latest/manifest.json").read_bytes())
    assert manifest["config"]["venue"]["ws_url"].startswith("wss://***@example.invalid/")
    assert manifest["config"]["venue"]["api_key"] == "***"
    assert "boom *** ***" in result.stderr  # stderr is not a terminal: the same JSON lines
    assert stat.S_IMODE((home / "logs").stat().st_mode) == 0o700
    assert stat.S_IMODE((home / "logs/system.jsonl").stat().st_mode) == 0o600


def test_a_crash_leaks_nothing(tmp_path: Path, demo_recording: Path) -> None:
    home, env = plant(tmp_path)
    env["LEAKY_CRASH"] = "1"
    result = trio_paper(
        "replay", "--home", str(home), "--file", str(demo_recording),
        "--strategy", "leaky_strategy:Leaky", env=env,
    )  # fmt: skip
    assert result.returncode == 2, result.stderr  # the user's strategy: one line, no traceback
    assert_no_secrets(home, [result.stdout, result.stderr], PLANTED)
    assert result.stderr == (
        "trio-paper: strategy leaky_strategy:Leaky: cannot start "
        "(RuntimeError: cannot start with ***)\n"
    )


def test_a_secret_in_config_yaml_stops_the_command(tmp_path: Path, demo_recording: Path) -> None:
    home, env = plant(tmp_path)
    (home / "config.yaml").write_text("venue:\n  api_secret: planted-in-yaml-5d6e\n")
    result = trio_paper("replay", "--home", str(home), "--file", str(demo_recording), env=env)
    assert result.returncode == 2
    assert result.stderr == (
        f"trio-paper: {home / 'config.yaml'}: venue.api_secret looks like a secret, and secrets "
        "never go in a config file; set the environment variable BITUNIX_API_SECRET instead, or "
        "put it in <home>/.env (see .env.example)\n"
    )
    assert not (home / "runs").exists()


def test_scrubbing_keeps_a_clean_journal_byte_identical(
    tmp_path: Path, demo_recording: Path
) -> None:
    """Secrets in the environment change nothing in a journal that does not contain them."""
    journals = []
    for name, scrubber in (("clean", Scrubber()), ("planted", Scrubber.from_environ(ENV_SECRETS))):
        previous = scrub.install(scrubber)
        try:
            strategy = load_strategy("ema_cross", {})
            result = replay(demo_recording, Config(), strategy, tmp_path / name, run_id="r")
        finally:
            scrub.install(previous)
        journals.append(result.run.events.read_bytes())
    assert journals[0] == journals[1]
    assert journals[0].count(b"\n") > 100


def test_a_live_session_leaks_nothing(tmp_path: Path) -> None:
    """A simulator session (its warm-up carries 200 minutes of input), then a session against an
    unreachable URL with credentials in it, which it logs at every retry."""
    home, env = plant(tmp_path)
    result = trio_paper(
        "run", "--home", str(home), "--sim", "--minutes", "0.3",
        "--strategy", "leaky_strategy:Leaky", env=env,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    unreachable = f"ws://bob:{URL_PASSWORD}@127.0.0.1:9/public/?apiKey={URL_QUERY}"
    offline = trio_paper(
        "run", "--home", str(home), "--minutes", "0.1", "--venue-url", unreachable,
        "--rest-url", f"http://bob:{URL_PASSWORD}@127.0.0.1:9", env=env,
    )  # fmt: skip
    assert offline.returncode == 0, offline.stderr
    outputs = [result.stdout, result.stderr, offline.stdout, offline.stderr]
    assert assert_no_secrets(home, outputs, PLANTED) >= 8
    assert "cannot reach ws://***@127.0.0.1:9/public/?apiKey=***" in offline.stderr
    errors = [r for r in read_journal(home / "runs/latest/events.jsonl") if r["type"] == "feed"]
    assert any("***" in str(r.get("reason", "")) for r in errors)
