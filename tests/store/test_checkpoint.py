"""Checkpoints: two generations, a checksum, a schema version, and no silent fresh start."""

from __future__ import annotations

from pathlib import Path

import orjson
import pytest

from tests.store.checkpointkit import account
from trio_paper.store.checkpoint import Checkpoint, CheckpointError, CheckpointStore, decode, encode


def cash(checkpoint: Checkpoint) -> str:
    value: str = checkpoint.core["engine"]["broker"]["account"]["cash"]
    return value


def checkpoint(n: int) -> Checkpoint:
    return Checkpoint(f"run-{n}", n * 10, n * 3, f"2026-11-24T00:00:0{n}.000Z", account(f"{n}00.5"))


def test_a_saved_checkpoint_loads_back_and_keeps_the_previous_generation(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    assert store.load() is None, "no files: a brand-new account"
    store.save(checkpoint(1))
    store.save(checkpoint(2))
    loaded = store.load()
    assert loaded is not None
    assert cash(loaded) == "200.5"
    assert (loaded.run_id, loaded.input_seq, loaded.journal_seq) == ("run-2", 20, 6)
    previous = decode(store.previous.read_bytes(), store.previous)
    assert previous.run_id == "run-1"
    assert oct(store.current.stat().st_mode & 0o777) == "0o600"
    assert not list(tmp_path.glob(".*tmp*")), "no temp file left behind"


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        (lambda data: data[:-10] + b"0000000000", "checksum mismatch"),
        (lambda data: data.replace(b'"schema":1', b'"schema":9', 1), "schema 9"),
        (lambda data: b"garbage\n" + data, "not a checkpoint"),
        (lambda data: data[: len(data) // 2], "checksum mismatch"),
        (lambda data: b"", "not a checkpoint"),
    ],
)
def test_a_damaged_checkpoint_is_reported_and_the_previous_one_used(
    tmp_path: Path, damage: object, message: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = CheckpointStore(tmp_path)
    store.save(checkpoint(1))
    store.save(checkpoint(2))
    store.current.write_bytes(damage(store.current.read_bytes()))  # type: ignore[operator]
    loaded = store.load()
    assert loaded is not None
    assert loaded.run_id == "run-1"
    assert message in caplog.text


def test_both_generations_damaged_is_an_error_not_a_fresh_account(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    store.save(checkpoint(1))
    store.save(checkpoint(2))
    for path in (store.current, store.previous):
        path.write_bytes(path.read_bytes().replace(b"run-", b"RUN-"))
    with pytest.raises(CheckpointError, match=r"no usable checkpoint.*--fresh"):
        store.load()


def test_an_account_state_the_core_refuses_falls_back_to_the_previous_generation(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The checksum holds (a bug or a hand wrote it so) but the state inside cannot be restored:
    before, the start stopped with exit 2 and the good previous generation was never tried."""
    store = CheckpointStore(tmp_path)
    store.save(checkpoint(1))
    good = checkpoint(2)
    broken = account("200.5")
    broken["engine"]["broker"]["account"]["cash"] = "not a number"
    store.save(Checkpoint(good.run_id, 20, 6, good.saved_at, broken))
    loaded = store.load()
    assert loaded is not None
    assert (loaded.run_id, cash(loaded)) == ("run-1", "100.5")
    assert f"{store.current}: the account state is unusable" in caplog.text
    assert "$checkpoint.engine.broker.account.cash" in caplog.text
    store.save(Checkpoint(good.run_id, 20, 6, good.saved_at, broken))  # both generations now
    with pytest.raises(CheckpointError, match=r"no usable checkpoint.*unusable.*--fresh"):
        store.load()


def test_a_flipped_bit_in_the_body_is_caught(tmp_path: Path) -> None:
    data = bytearray(encode(checkpoint(3)))
    body_start = data.index(b"\n") + 1
    data[body_start + 5] ^= 0x01
    with pytest.raises(CheckpointError, match="checksum"):
        decode(bytes(data), tmp_path / "x")


def test_archive_moves_the_state_away_and_never_deletes(tmp_path: Path) -> None:
    store = CheckpointStore(tmp_path)
    store.save(checkpoint(1))
    store.save(checkpoint(2))
    archived = store.archive()
    assert archived is not None
    assert store.load() is None
    kept = sorted(p.name for p in archived.iterdir())
    assert kept == ["checkpoint.json", "checkpoint.prev.json"]
    header = orjson.loads((archived / "checkpoint.json").read_bytes().splitlines()[0])
    assert header["format"] == "trio-paper-checkpoint"
