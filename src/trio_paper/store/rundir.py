"""The directory a run leaves under ``<home>/runs/``, and the ``latest`` link to it.

::

    runs/<run-id>/  manifest.json  recording.jsonl  events.jsonl  summary.json  summary.html
    runs/latest -> <run-id>
"""

from __future__ import annotations

import os
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs

from ..codec import dumps
from ..scrub import scrub_bytes
from .files import atomic_write, private_dir


@attrs.frozen
class RunDir:
    path: Path

    @property
    def id(self) -> str:
        return self.path.name

    @property
    def manifest(self) -> Path:
        return self.path / "manifest.json"

    @property
    def recording(self) -> Path:
        return self.path / "recording.jsonl"

    @property
    def events(self) -> Path:
        return self.path / "events.jsonl"

    @property
    def summary_json(self) -> Path:
        return self.path / "summary.json"

    @property
    def summary_html(self) -> Path:
        return self.path / "summary.html"

    def write_manifest(self, manifest: dict[str, Any]) -> None:
        atomic_write(self.manifest, scrub_bytes(dumps(manifest)) + b"\n")


def runs_root(home: Path) -> Path:
    return home / "runs"


def new_run(
    home: Path, kind: str, now: datetime | None = None, run_id: str | None = None
) -> RunDir:
    """Create ``runs/<id>``: ``20261124-190512-replay`` (a suffix if that exists), or ``run_id``."""
    root = runs_root(home)
    root.mkdir(parents=True, exist_ok=True)
    if run_id is not None:
        path = root / run_id
        path.mkdir(exist_ok=True)  # a start killed before its manifest left it empty
        return RunDir(path)
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%d-%H%M%S")
    for attempt in range(1000):
        name = f"{stamp}-{kind}" + (f"-{attempt}" if attempt else "")
        try:
            (root / name).mkdir()
        except FileExistsError:
            continue
        return RunDir(root / name)
    raise FileExistsError(f"{root}: no free run id for {stamp}-{kind}")


def point_latest(run: RunDir) -> None:
    """Atomically make ``runs/latest`` point at ``run``."""
    root = run.path.parent
    temporary = root / f".latest-{os.getpid()}"
    temporary.unlink(missing_ok=True)
    temporary.symlink_to(run.path.name)
    temporary.replace(root / "latest")


def ensure_home(home: Path) -> None:
    """``runs/`` for people; ``logs/`` and ``state/`` private (0700)."""
    runs_root(home).mkdir(parents=True, exist_ok=True)
    private_dir(home / "logs")
    private_dir(home / "state")
