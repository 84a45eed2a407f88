"""The live and the simulator's accounts never mix: a demo does not move the live account."""

from __future__ import annotations

import shutil
from pathlib import Path

import orjson

from tests.runtime.sessionkit import make_home, run


def _status(home: Path, *flags: str) -> dict[str, object]:
    done = run(home, "status", "--json", *flags, timeout=30)
    assert done.code == 0, done.stderr
    status: dict[str, object] = orjson.loads(done.stdout)
    return status


def test_a_sim_session_leaves_the_live_account_alone(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    done = run(home, "run", "--sim", "--minutes", "0.1", timeout=120)
    assert done.code == 0, done.stderr
    assert (home / "state" / "sim" / "checkpoint.json").exists()
    assert not (home / "state" / "live").exists()
    sim = _status(home, "--sim")
    assert sim["mode"] == "sim"
    assert sim["account"] is not None
    live = _status(home)
    assert live["account"] is None
    assert "no live account" in str(live["problem"])
    assert "`trio-paper status --sim` shows the sim one" in str(live["problem"])
    text = run(home, "status", "--sim", timeout=30).stdout
    assert text.startswith("account      sim (the simulator, state/sim/)")


def test_an_account_from_before_the_split_moves_to_its_mode(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    assert run(home, "run", "--sim", "--minutes", "0.1", timeout=120).code == 0
    for name in ("checkpoint.json", "checkpoint.prev.json"):  # the layout of 6401a91
        source = home / "state" / "sim" / name
        if source.exists():
            shutil.move(source, home / "state" / name)
    shutil.rmtree(home / "state" / "sim")
    before = (home / "state" / "checkpoint.json").read_bytes()
    assert _status(home, "--sim")["account"] is not None  # its run was a sim run
    assert (home / "state" / "sim" / "checkpoint.json").read_bytes() == before
    assert not (home / "state" / "checkpoint.json").exists()
