"""Checkpoints whose checksum holds but whose content is wrong, and damaged manifests: a
``CheckpointError`` and the previous generation, never a KeyError (issue 11, item 13)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import orjson
import pytest

from trio_paper.app.recover import recover
from trio_paper.app.status import account_status
from trio_paper.codec import dumps
from trio_paper.config import Config
from trio_paper.core import Core
from trio_paper.engine.strategies import load
from trio_paper.store.checkpoint import (
    FORMAT,
    SCHEMA,
    CheckpointError,
    CheckpointStore,
    checkpoint_of,
    decode,
)
from trio_paper.store.files import private_dir
from trio_paper.store.rundir import new_run


def sealed(body: Any) -> bytes:
    """A checkpoint file around ``body`` with a header and checksum that match it."""
    data = dumps(body)
    header = {"format": FORMAT, "schema": SCHEMA, "sha256": hashlib.sha256(data).hexdigest(),
              "bytes": len(data)}  # fmt: skip
    return dumps(header) + b"\n" + data + b"\n"


def good_body() -> dict[str, Any]:
    return checkpoint_of("r", Core(Config(), load("ema_cross", {}))).body()


def variants() -> dict[str, Any]:
    body = good_body()
    return {
        "a list body": [body],
        "a missing field": {k: v for k, v in body.items() if k != "journal_seq"},
        "a string seq": {**body, "input_seq": "12"},
        "a list core": {**body, "core": []},
    }


@pytest.mark.parametrize("name", list(variants()))
def test_wrong_content_is_a_checkpoint_error(name: str, tmp_path: Path) -> None:
    """Before: KeyError or TypeError out of ``decode``, exit 1."""
    with pytest.raises(CheckpointError):
        decode(sealed(variants()[name]), tmp_path / "checkpoint.json")


@pytest.mark.parametrize("name", [*variants(), "a directory"])
def test_the_previous_generation_is_used(name: str, tmp_path: Path) -> None:
    store = CheckpointStore(private_dir(tmp_path / "state"))
    store.previous.write_bytes(sealed(good_body()))
    if name == "a directory":
        store.current.mkdir()
    else:
        store.current.write_bytes(sealed(variants()[name]))
    checkpoint = store.load()
    assert checkpoint is not None
    assert checkpoint.path == store.previous


@pytest.mark.parametrize("manifest", [b"{not json", b"[]", b'{"kind": 3}'])
def test_a_damaged_manifest_leaves_the_account_in_the_checkpoint(
    manifest: bytes, tmp_path: Path
) -> None:
    """Before: ``recover`` (every ``run``) and ``status`` died with ValueError or a cattrs
    error."""
    store = CheckpointStore(private_dir(tmp_path / "state"))
    run = new_run(tmp_path, "live", run_id="r")
    run.manifest.write_bytes(manifest)
    store.current.write_bytes(sealed(good_body()))
    recovery = recover(tmp_path, store)
    assert recovery is not None
    assert recovery.run_id == "r"
    assert recovery.replayed == 0
    status = account_status(tmp_path)
    assert status["run_id"] == "r"
    assert orjson.loads(dumps(status["account"]))["cash"] == "10000"
