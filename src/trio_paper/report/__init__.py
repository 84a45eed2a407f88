"""What a run leaves for people: ``summary.json`` and ``summary.html``."""

from __future__ import annotations

from ..store.rundir import RunDir


def write_reports(run: RunDir) -> None:
    """Write ``summary.json`` and ``summary.html`` from the run's journal and manifest."""
    # Placeholder until report/summary.py and report/html.py land.
    run.summary_json.write_text("{}\n")
