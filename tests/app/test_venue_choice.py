"""Choosing a venue: ``venue.name`` in config, ``--venue`` on the commands, a recording's header.

Through the real command line, in-process; a wrong choice is one clear line and exit code 2,
before anything starts.
"""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tests.conftest import DEMO_RECORDING, DEMOS
from trio_paper.cli import main

BINANCE_DEMO = DEMOS / "binance_usdm-btcusdt-2025-05-08-demo.jsonl.gz"


def usage_error(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with pytest.raises(SystemExit) as exited:
        main(argv)
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


def test_a_recording_replays_on_the_venue_it_was_recorded_from(tmp_path: Path) -> None:
    """The config says bitunix (the default); the recording's header says binance_usdm."""
    assert main(["--home", str(tmp_path), "replay", "--file", str(BINANCE_DEMO)]) == 0
    run = (tmp_path / "runs" / "latest").resolve()
    start = orjson.loads((run / "events.jsonl").read_bytes().splitlines()[0])
    assert start["venue"] == "binance_usdm"
    assert orjson.loads((run / "summary.json").read_bytes())["venue"] == "binance_usdm"
    assert orjson.loads((run / "manifest.json").read_bytes())["venue"] == "binance_usdm"


def test_an_unknown_venue_in_config_names_the_file_and_the_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "config.yaml").write_text("venue:\n  name: kraken\n")
    err = usage_error(["--home", str(tmp_path), "status"], capsys)
    assert "config.yaml: venue.name: unknown venue 'kraken'" in err
    assert "binance_usdm, bitunix" in err


def test_binance_in_config_is_a_venue_like_any_other(tmp_path: Path) -> None:
    (tmp_path / "config.yaml").write_text("venue:\n  name: binance_usdm\n  interval: 5min\n")
    assert main(["--home", str(tmp_path), "status", "--json"]) == 0


def test_sim_serves_only_a_recording_of_the_sessions_venue(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["--home", str(tmp_path), "run", "--venue", "binance_usdm", "--sim-file"]
    err = usage_error([*argv, str(DEMO_RECORDING), "--minutes", "0.1"], capsys)
    assert "is a bitunix recording; this session trades on binance_usdm" in err
    err = usage_error(["sim", "--file", str(BINANCE_DEMO), "--venue", "bitunix"], capsys)
    assert "is a binance_usdm recording, not bitunix" in err


def test_venue_is_never_an_abbreviation_of_venue_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    err = usage_error(["--home", str(tmp_path), "run", "--venue-u", "ws://x", "--sim"], capsys)
    assert "unrecognized arguments: --venue-u" in err
    err = usage_error(["--home", str(tmp_path), "run", "--venue", "kraken"], capsys)
    assert "invalid choice: 'kraken'" in err
