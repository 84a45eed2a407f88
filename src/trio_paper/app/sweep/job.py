"""What a Dask worker runs for a sweep: one replay, read back as one row of results.

A job is a plain replay into ``<home>/sweeps/runs/<key>/`` — the same engine, journal and
``summary.json`` that ``trio-paper replay`` leaves — so a row can always be checked against
the run it came from. A job never raises for a bad combination: bad params, a strategy that
cannot be built, a replay that fails all come back as a row with its ``error``.
"""

from __future__ import annotations

import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import attrs
import orjson

from ...config import Config
from ...engine.strategies import StrategyError
from ...engine.strategies import load as load_strategy

METRICS = (
    "trades", "win_rate_pct", "net_pnl_usdt", "return_pct", "fees_usdt", "funding_usdt",
    "max_drawdown_pct", "sharpe", "sortino", "health",
)  # fmt: skip
"""The measured columns of a row, in the order the results list them."""

NA = "n/a"


@attrs.frozen
class Job:
    """One combination on one input. ``key`` is the cache key, and the run's id."""

    key: str
    input: str
    strategy: str
    params: dict[str, Any]
    config: Config
    home: str
    funding: str | None = None
    """A candle file's funding history (``replay --funding``), read by path like the input."""

    @property
    def run_path(self) -> Path:
        return Path(self.home) / "runs" / self.key


def run_job(job: Job) -> dict[str, Any]:
    """Replay ``job`` (or read back its finished run) and return its row's measured fields,
    ``run`` (the run's folder) and ``error`` (None, or why the row has no numbers)."""
    try:
        strategy = load_strategy(job.strategy, job.params)
    except StrategyError as exc:
        return failed(str(exc))
    except Exception as exc:  # the strategy's own constructor raised
        return failed(f"strategy {job.strategy}: {type(exc).__name__}: {exc}")
    # The one import of the replay (lazy: ``trio-paper --help`` stays quick). When it moves to
    # ``app.replay``, only this line changes.
    from ..replay import replay

    _quiet_notices()
    run = job.run_path
    if not _finished(run):  # an unfinished run of a killed sweep is resumed by replay()
        try:
            funding = Path(job.funding) if job.funding else None
            replay(
                Path(job.input), job.config, strategy, Path(job.home), run_id=job.key,
                funding=funding, helpers=False,  # the sweep keeps every CPU busy
            )  # fmt: skip
        except Exception as exc:
            return failed(f"replay: {type(exc).__name__}: {exc}", run)
    summary = orjson.loads((run / "summary.json").read_bytes())
    return {**row_of(summary), "run": str(run)}


def _quiet_notices() -> None:
    """In a worker nobody configured logging for: a strategy's notices would reach the
    worker's stderr unscrubbed through logging's last resort. The row carries the first one
    (and the run's journal all of them), so they go nowhere else."""
    logger = logging.getLogger("trio_paper")
    if not logger.handlers and not logging.getLogger().handlers:
        logger.addHandler(logging.NullHandler())


def failed(error: str, run: Path | None = None) -> dict[str, Any]:
    """The row of a job that has no numbers."""
    return {**dict.fromkeys(METRICS), "health": "failed", "run": str(run or ""), "error": error}


def row_of(summary: dict[str, Any]) -> dict[str, Any]:
    """The measured fields of a row, from a run's ``summary.json`` (exact decimal text)."""
    pnl, trades, curve = summary["pnl"], summary["trades"], summary["equity_curve"]
    ratios = summary["ratios"]
    errors = summary["strategy_errors"]
    return {
        "trades": trades["count"],
        "win_rate_pct": trades["win_rate_pct"] or NA,
        "net_pnl_usdt": pnl["net"],
        "return_pct": pnl["return_pct"],
        "fees_usdt": pnl["fees"],
        "funding_usdt": pnl["funding"],
        "max_drawdown_pct": curve["max_drawdown_pct"],
        "sharpe": ratios["sharpe"] or NA,
        "sortino": ratios["sortino"] or NA,
        "health": health_of(summary),
        "error": errors["first"] if errors["count"] else None,
    }


def health_of(summary: dict[str, Any]) -> str:
    """The run's own verdict (summary ``health``), with its reasons and any strategy errors."""
    notes = list(summary["health_reasons"])
    errors = summary["strategy_errors"]
    if errors["count"]:
        disabled = ", disabled" if errors["disabled"] else ""
        notes.append(f"{errors['count']} strategy error(s){disabled}")
    if not summary["complete"]:
        notes.append("incomplete")
    verdict = str(summary["health"])
    return verdict + (f": {'; '.join(notes)}" if notes else "")


def _finished(run: Path) -> bool:
    try:
        manifest = orjson.loads((run / "manifest.json").read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return False
    return "ended" in manifest and (run / "summary.json").exists()


def check_access(input_path: str, home: str) -> str | None:
    """On a worker: None if it can read ``input_path`` and write under ``home``, else why not."""
    try:
        with open(input_path, "rb") as handle:
            handle.read(1)
    except OSError as exc:
        return f"cannot read {input_path} ({exc.strerror or exc})"
    try:
        os.makedirs(home, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=home, prefix=".probe-"):
            pass
    except OSError as exc:
        return f"cannot write under {home} ({exc.strerror or exc})"
    return None
