"""A run's life: opened with its manifest, finished with its reports — one way for every command.

``Run.create`` makes ``runs/<id>/`` and writes the manifest (what was run, with what config);
``Run.finish`` records how it ended, writes ``summary.json`` and ``summary.html`` and points
``runs/latest`` at it. ``run``, ``replay`` and recovery all end a run through ``finish``.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import attrs
import orjson

from .. import __version__
from ..codec import MalformedMessage, config_converter, converter, structure
from ..config import Config
from ..engine.strategies import Strategy
from ..engine.strategies import load as load_strategy
from ..report import write_reports
from ..report.terminal import summary_lines
from ..store.checkpoint import now_iso
from ..store.rundir import RunDir, new_run, point_latest, runs_root
from .report_process import ReportProcess

log = logging.getLogger("trio_paper.run")


@attrs.define
class Manifest:
    """``manifest.json``: what a run is. Optional fields are left out of the file when unset."""

    kind: str
    """``live``, ``sim`` or ``replay``."""
    run_id: str
    venue: str
    symbol: str
    strategy: dict[str, Any]
    config: dict[str, Any]
    started: str = attrs.Factory(now_iso)
    trio_paper: str = __version__
    ws_url: str | None = None
    rest_url: str | None = None
    sim_recording: str | None = None
    resumed_from: str | None = None
    minutes: float | None = None
    input: str | None = None
    input_kind: str | None = None
    funding: str | None = None
    mark: str | None = None
    resumes: int | None = None
    ended: str | None = None
    exit_reason: str | None = None
    exit_code: int | None = None
    items: int | None = None
    truncated: str | None = None
    alerts_unsent: list[dict[str, str]] | None = None

    def to_dict(self) -> dict[str, Any]:
        data: dict[str, Any] = converter.unstructure(self)
        return {key: value for key, value in data.items() if value is not None}

    @classmethod
    def from_dict(cls, data: dict[str, Any], where: str) -> Manifest:
        known = {f.name for f in attrs.fields(cls)}
        return structure({k: v for k, v in data.items() if k in known}, cls, where)

    def run_config(self) -> Config:
        return structure(self.config, Config, "manifest.config", using=config_converter)

    def run_strategy(self) -> Strategy[Any, Any]:
        return load_strategy(self.strategy["name"], self.strategy["params"])


@attrs.define
class Run:
    """One folder under ``runs/`` and its manifest."""

    dir: RunDir
    manifest: Manifest

    @classmethod
    def create(
        cls,
        home: Path,
        kind: str,
        config: Config,
        strategy: Strategy[Any, Any],
        run_id: str | None = None,
        **fields: Any,
    ) -> Run:
        """A new ``runs/<id>/`` with its manifest written."""
        folder = new_run(home, kind, run_id=run_id)
        manifest = Manifest(
            kind, folder.id, config.venue.name, config.venue.symbol, strategy.describe(),
            converter.unstructure(config), **fields,
        )  # fmt: skip
        run = cls(folder, manifest)
        run.save()
        return run

    @classmethod
    def open(cls, path: Path) -> Run:
        """An existing run (``ValueError`` if its manifest is unreadable)."""
        folder = RunDir(path)
        try:
            data = orjson.loads(folder.manifest.read_bytes())
        except orjson.JSONDecodeError as exc:
            raise ValueError(f"{folder.manifest}: not JSON ({exc})") from None
        if not isinstance(data, dict):
            raise ValueError(f"{folder.manifest}: not a manifest")
        try:
            return cls(folder, Manifest.from_dict(data, str(folder.manifest)))
        except MalformedMessage as exc:
            raise ValueError(f"{folder.manifest}: not a manifest ({exc})") from None

    @classmethod
    def find(cls, home: Path, run_id: str) -> Run | None:
        """The run called ``run_id`` under ``home``, if its manifest exists."""
        path = runs_root(home) / run_id
        return cls.open(path) if (path / "manifest.json").exists() else None

    @property
    def id(self) -> str:
        return self.dir.id

    @property
    def reported(self) -> bool:
        """Whether both reports are written: a run can end (``session_end``, the manifest's
        ``ended``) and die before them; whoever opens it next writes them."""
        return self.dir.summary_json.exists() and self.dir.summary_html.exists()

    def save(self) -> None:
        self.dir.write_manifest(self.manifest.to_dict())

    def summary_lines(self) -> list[str]:
        """What the terminal shows of the finished run (``report.terminal``)."""
        summary = orjson.loads(self.dir.summary_json.read_bytes())
        return summary_lines(summary, self.dir.summary_html)

    def finish(
        self,
        reason: str,
        code: int | None = None,
        reports: ReportProcess | None = None,
        **fields: Any,
    ) -> None:
        """Record how the run ended, write its reports (by ``reports``, the process that
        followed the journal, if there is one and it can), and make it ``runs/latest``."""
        self.manifest = attrs.evolve(
            self.manifest, ended=now_iso(), exit_reason=reason, exit_code=code, **fields
        )
        self.save()
        if reports is None or not reports.finish():
            if reports is not None:
                log.warning(
                    "the report process failed (%s): writing the reports here", reports.error
                )
            write_reports(self.dir)
        point_latest(self.dir)
