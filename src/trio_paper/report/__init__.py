"""What a run leaves for people: ``summary.json`` (metrics) and ``summary.html`` (the page).

Both come from one streaming pass over the journal, so a year of bars reports in flat memory.
``summary.json`` is a function of ``events.jsonl`` alone: the same journal gives the same bytes.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import orjson

from ..store.files import atomic_write
from ..store.rundir import RunDir
from .digest import Digest
from .page import render_page

__all__ = ["read_manifest", "write_reports"]


def read_manifest(path: Path) -> dict[str, Any]:
    """The run's manifest, or ``{}`` if it is missing or unreadable (the page says less)."""
    try:
        data = orjson.loads(path.read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return {}
    return data if isinstance(data, dict) else {}


def write_reports(run: RunDir, digest: Digest | None = None) -> None:
    """Write ``summary.json`` and ``summary.html`` from the run's journal (its ``digest``, if
    the caller made it) and manifest."""
    if digest is None:
        digest = Digest().read(run.events)
    summary = digest.metrics.summary()
    atomic_write(run.summary_json, orjson.dumps(summary, option=orjson.OPT_INDENT_2) + b"\n")
    page = render_page(summary, digest, read_manifest(run.manifest))
    atomic_write(run.summary_html, page.encode("utf-8"))
