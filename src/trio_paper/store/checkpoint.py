"""Checkpoints of the paper account in ``state/``: versioned, checksummed, two generations.

A checkpoint file is two lines: a header ``{"format", "schema", "sha256", "bytes"}`` and the body,
the JSON of everything the core holds plus where in the run's recording and journal it stands.
Saving writes a temp file, fsyncs it, renames it over ``checkpoint.json`` (the old one moved to
``checkpoint.prev.json`` first) and fsyncs the directory. Loading takes the newest good one; a
bad checksum, an unknown schema or an account state the core cannot restore is reported and the
previous generation used — never a silent fresh start.
"""

from __future__ import annotations

import hashlib
import logging
import os
import shutil
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import attrs
import orjson

from ..codec import MalformedMessage, dumps
from ..core import Core
from ..errors import BadState
from ..scrub import scrub_bytes
from .files import fsync_dir, private_dir, write_synced

FORMAT = "trio-paper-checkpoint"
SCHEMA = 1
CURRENT = "checkpoint.json"
PREVIOUS = "checkpoint.prev.json"

log = logging.getLogger("trio_paper.checkpoint")


class CheckpointError(BadState):
    """No usable checkpoint although some exist: the message says what is wrong with each."""


@attrs.frozen
class Checkpoint:
    run_id: str
    input_seq: int
    journal_seq: int
    saved_at: str
    core: dict[str, Any]
    path: Path | None = None

    def body(self) -> dict[str, Any]:
        return {
            "run_id": self.run_id, "input_seq": self.input_seq, "journal_seq": self.journal_seq,
            "saved_at": self.saved_at, "core": self.core,
        }  # fmt: skip


def encode(checkpoint: Checkpoint) -> bytes:
    body = dumps(checkpoint.body())
    header = {
        "format": FORMAT, "schema": SCHEMA, "sha256": hashlib.sha256(body).hexdigest(),
        "bytes": len(body),
    }  # fmt: skip
    return dumps(header) + b"\n" + body + b"\n"


def decode(data: bytes, path: Path) -> Checkpoint:
    """Parse and verify one checkpoint file's bytes; any defect raises ``CheckpointError``."""
    head, _, rest = data.partition(b"\n")
    try:
        header = orjson.loads(head)
    except orjson.JSONDecodeError:
        raise CheckpointError(f"{path}: not a checkpoint (unreadable header)") from None
    if type(header) is not dict or header.get("format") != FORMAT:
        raise CheckpointError(f"{path}: not a checkpoint")
    if header.get("schema") != SCHEMA:
        raise CheckpointError(
            f"{path}: checkpoint schema {header.get('schema')!r}; this trio-paper reads {SCHEMA}"
        )
    body = rest.removesuffix(b"\n")
    if len(body) != header.get("bytes") or hashlib.sha256(body).hexdigest() != header.get("sha256"):
        raise CheckpointError(f"{path}: checksum mismatch (the file is damaged)")
    fields = _fields(body, path)
    return Checkpoint(
        fields["run_id"], fields["input_seq"], fields["journal_seq"], fields["saved_at"],
        fields["core"], path,
    )  # fmt: skip


_FIELDS = {"run_id": str, "input_seq": int, "journal_seq": int, "saved_at": str, "core": dict}


def _fields(body: bytes, path: Path) -> dict[str, Any]:
    """The body's fields, each of its type: a checksum proves the bytes are what was written,
    not that a person (or a bug) wrote the right thing. (What is inside ``core`` is the core's
    to judge: ``Core.restore_state`` refuses it with a ``MalformedMessage`` naming the key.)"""
    try:
        fields = orjson.loads(body)
    except orjson.JSONDecodeError:
        raise CheckpointError(f"{path}: the body is not JSON") from None
    if type(fields) is not dict:
        raise CheckpointError(f"{path}: the body is not an object")
    for key, kind in _FIELDS.items():
        if type(fields.get(key)) is not kind:
            raise CheckpointError(f"{path}: {key} is missing or not {kind.__name__}")
    return fields


def _usable(checkpoint: Checkpoint) -> None:
    """Refuse a checkpoint whose account state the core cannot restore. Its checksum holds, so
    a bug (or a hand) wrote it so: the previous generation is then the account's best state,
    and recovery re-runs the recorded inputs since."""
    try:
        Core.restore_state(checkpoint.core)
    except MalformedMessage as exc:
        raise CheckpointError(f"{checkpoint.path}: the account state is unusable: {exc}") from None


class CheckpointStore:
    """The checkpoints of one home's ``state/`` directory. ``save`` runs in a worker thread."""

    def __init__(self, state_dir: Path) -> None:
        self.dir = state_dir

    @property
    def current(self) -> Path:
        return self.dir / CURRENT

    @property
    def previous(self) -> Path:
        return self.dir / PREVIOUS

    def save(self, checkpoint: Checkpoint) -> None:
        """Durably replace the current checkpoint, keeping the one before it.

        The new one is written and fsync'd beside them first, so a failure (a full disk) leaves
        both generations as they were.
        """
        temporary = self.dir / f".{CURRENT}.tmp-{os.getpid()}"
        try:
            write_synced(temporary, encode(checkpoint), mode=0o600)
            if self.current.exists():
                os.replace(self.current, self.previous)
            os.replace(temporary, self.current)
        finally:
            temporary.unlink(missing_ok=True)
        fsync_dir(self.dir)

    def load(self) -> Checkpoint | None:
        """The newest good checkpoint; None when there is none at all (a fresh account)."""
        problems = []
        for path in (self.current, self.previous):
            try:
                data = path.read_bytes()
            except FileNotFoundError:
                continue
            except OSError as exc:  # a directory where the file should be, no permission
                problems.append(f"{path}: cannot read ({exc.strerror or exc})")
                log.error("%s; trying the previous generation", problems[-1])
                continue
            try:
                checkpoint = decode(data, path)
                _usable(checkpoint)
            except CheckpointError as exc:
                problems.append(str(exc))
                log.error("%s; trying the previous generation", exc)
                continue
            if problems:
                log.warning("recovering from the previous checkpoint %s", path)
            return checkpoint
        if problems:
            raise CheckpointError(
                "no usable checkpoint: "
                + "; ".join(problems)
                + ". Refusing to start a fresh account silently: use --fresh to archive the "
                "state and start over."
            )
        return None

    def archive(self) -> Path | None:
        """Move every checkpoint into ``state/archive/<time>/`` (``--fresh``); never delete."""
        files = [p for p in (self.current, self.previous) if p.exists()]
        if not files:
            return None
        stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
        target = private_dir(self.dir / "archive" / stamp)
        for path in files:
            shutil.move(path, target / path.name)
        fsync_dir(self.dir)
        return target


def checkpoint_of(run_id: str, core: Core) -> Checkpoint:
    """The core's state now, as a checkpoint of run ``run_id``."""
    snapshot = core.snapshot()
    engine = snapshot["engine"]
    if engine.get("strategy") is not None:  # user data: a secret kept there is masked on disk
        engine["strategy"] = orjson.loads(scrub_bytes(dumps(engine["strategy"])))
    return Checkpoint(run_id, core.state.last_seq, core.engine.state.seq, now_iso(), snapshot)


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
