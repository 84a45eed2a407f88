"""A sweep's files: the cache of finished jobs, and the results people read.

``<home>/sweeps/cache/<key>.json`` holds one finished job's row, under a key of everything that
decides the replay; ``<home>/sweeps/<id>/`` holds ``results.csv``, ``results.json`` (the same
rows, and what was swept) and ``summary.html``.
"""

from __future__ import annotations

import csv
import hashlib
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import orjson

from ... import __version__
from ...codec import converter
from ...config import Config
from ...store.files import atomic_write
from .job import METRICS


def file_sha256(path: Path) -> str:
    sha = hashlib.sha256()
    with path.open("rb") as handle:
        while chunk := handle.read(1 << 20):
            sha.update(chunk)
    return sha.hexdigest()


def digest_of(what: dict[str, Any]) -> str:
    """A SHA-256 of ``what`` (with the engine version), key order aside."""
    blob = orjson.dumps({**what, "engine": __version__}, option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(blob).hexdigest()


def cache_key(
    input_sha256: str, window: str, strategy: str, params: dict[str, Any], config: Config
) -> str:
    """The key of one job's result: what the input is, which part of it, and everything that
    decides the replay (the engine version and the whole config, params included)."""
    what = {
        "input": input_sha256, "window": window, "strategy": strategy, "params": params,
        "config": converter.unstructure(config),
    }  # fmt: skip
    return digest_of(what)[:32]


def read_cache(cache: Path, key: str) -> dict[str, Any] | None:
    """The row of a finished job, or None: never run, unreadable, or its run deleted since."""
    try:
        data = orjson.loads((cache / f"{key}.json").read_bytes())
    except (OSError, orjson.JSONDecodeError):
        return None
    if not isinstance(data, dict):
        return None
    run = data.get("run")
    if data.get("error") is None and not (run and (Path(run) / "summary.json").exists()):
        return None
    return data


def write_cache(cache: Path, key: str, outcome: dict[str, Any]) -> None:
    atomic_write(cache / f"{key}.json", orjson.dumps(outcome))


def columns(param_names: Sequence[str]) -> list[str]:
    return ["part", *param_names, *METRICS, "error", "run"]


def write_results(folder: Path, about: dict[str, Any], rows: list[dict[str, Any]]) -> None:
    """``results.csv``, ``results.json`` and ``summary.html``; ``about`` says what was swept
    (``params`` names the param columns)."""
    from ...report.sweep_page import render_sweep_page

    names = columns(about["params"])
    text = io.StringIO()
    writer = csv.DictWriter(text, names, lineterminator="\n")
    writer.writeheader()
    for row in rows:
        writer.writerow({k: "" if v is None else v for k, v in row.items()})
    atomic_write(folder / "results.csv", text.getvalue().encode("utf-8"))
    document = {**about, "columns": names, "rows": rows}
    atomic_write(folder / "results.json", orjson.dumps(document, option=orjson.OPT_INDENT_2))
    atomic_write(folder / "summary.html", render_sweep_page(about, rows).encode("utf-8"))
