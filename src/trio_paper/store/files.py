"""Durable file operations: atomic replace with fsync, and private directories."""

from __future__ import annotations

import os
from pathlib import Path


def fsync_dir(path: Path) -> None:
    """Make a rename or a new file in ``path`` durable."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_synced(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Create ``path`` with ``data`` and fsync it (not its directory)."""
    # A file a crash left (the same pid: 1 in a container) would keep its old mode.
    path.unlink(missing_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
    except OSError as exc:
        if exc.filename is None:  # a write or fsync on the descriptor: say which file
            exc.filename = str(path)
        raise


def atomic_write(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Write ``data`` to a temp file beside ``path``, fsync it, rename it over ``path``, fsync
    the directory. A crash leaves the old file or the new one, never a mix."""
    temporary = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        write_synced(temporary, data, mode)
        os.replace(temporary, path)
    except BaseException:
        temporary.unlink(missing_ok=True)
        raise
    fsync_dir(path.parent)


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) readable by the owner only."""
    path.mkdir(parents=True, exist_ok=True)
    path.chmod(0o700)
    return path
