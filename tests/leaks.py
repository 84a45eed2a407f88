"""``assert_no_secrets``: no planted secret in any file a run leaves nor in what it printed."""

from __future__ import annotations

import gzip
from collections.abc import Iterable, Iterator
from pathlib import Path

SCANNED = ("runs", "logs", "state")


def files_under(home: Path) -> Iterator[Path]:
    """Every regular file under ``home``'s runs/, logs/ and state/ (links not followed)."""
    for name in SCANNED:
        root = home / name
        if root.is_dir():
            yield from (p for p in root.rglob("*") if p.is_file() and not p.is_symlink())


def _contents(path: Path) -> bytes:
    data = path.read_bytes()
    return gzip.decompress(data) if path.suffix == ".gz" else data


def assert_no_secrets(home: Path, outputs: Iterable[str | bytes], planted: Iterable[str]) -> int:
    """Fail naming each place a ``planted`` value occurs: a file under ``home``'s runs/, logs/,
    state/ (gzip read through), or one of ``outputs`` (captured stdout, stderr). Returns how many
    files were scanned, so a caller can check it was not zero."""
    secrets = [s.encode() for s in planted]
    assert secrets, "nothing planted"
    assert all(secrets), "an empty planted value matches everywhere"
    found = []
    scanned = 0
    for path in files_under(home):
        scanned += 1
        data = _contents(path)
        found += [f"{path.relative_to(home)}: {s.decode()}" for s in secrets if s in data]
    for index, output in enumerate(outputs):
        data = output.encode() if isinstance(output, str) else output
        found += [f"output #{index}: {s.decode()}" for s in secrets if s in data]
    assert not found, "secrets leaked:\n" + "\n".join(found)
    return scanned
