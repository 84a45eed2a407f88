"""A plain install (a wheel, no source tree) runs the offline demo from any directory.

The wheel is built from this tree and installed into a folder of its own; the demo then runs
from an empty directory with that folder first on the path, so nothing can come from
``src/`` or ``recordings/``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from trio_paper import __version__

REPO = Path(__file__).resolve().parents[2]


def _pip(*args: str, cwd: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "--quiet", "--disable-pip-version-check", *args],
        cwd=cwd, check=True, capture_output=True, timeout=300,
    )  # fmt: skip


@pytest.mark.slow
def test_an_installed_wheel_runs_the_demo_from_any_directory(tmp_path: Path) -> None:
    wheels, site, elsewhere = tmp_path / "wheels", tmp_path / "site", tmp_path / "elsewhere"
    elsewhere.mkdir()
    _pip("wheel", "--no-deps", "--wheel-dir", str(wheels), str(REPO),
         cwd=tmp_path)  # fmt: skip
    [wheel] = wheels.glob("trio_paper-*.whl")
    assert wheel.name.startswith(f"trio_paper-{__version__}-")  # pyproject reads __version__
    _pip("install", "--no-deps", "--target", str(site), str(wheel), cwd=tmp_path)
    assert list(site.glob("trio_paper/sim/recordings/*-demo.jsonl.gz"))
    env = {**os.environ, "PYTHONPATH": str(site), "TRIO_PAPER_HOME": str(elsewhere)}
    env.pop("TRIO_PAPER_CONFIG", None)
    done = subprocess.run(
        [sys.executable, "-m", "trio_paper", "run", "--sim", "--minutes", "0.2"],
        cwd=elsewhere, env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    manifest = orjson.loads((elsewhere / "runs" / "latest" / "manifest.json").read_bytes())
    assert str(site) in manifest["sim_recording"]  # the packaged copy, not the source tree's


def test_a_bad_sim_file_leaves_no_folder_behind(tmp_path: Path) -> None:
    env = {**os.environ, "TRIO_PAPER_HOME": str(tmp_path)}
    done = subprocess.run(
        [sys.executable, "-m", "trio_paper", "run", "--sim", "--sim-file", "nope.jsonl.gz"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.strip() == "trio-paper: --sim-file nope.jsonl.gz: no such recording"
    assert sorted(p.name for p in tmp_path.iterdir()) == []
