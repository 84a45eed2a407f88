"""``state/`` and ``logs/`` are the owner's alone: directories 0700, files 0600."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from trio_paper.store.files import atomic_write
from trio_paper.store.rundir import ensure_home


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_ensure_home_makes_logs_and_state_private(tmp_path: Path) -> None:
    (tmp_path / "logs").mkdir(mode=0o755)  # left by an older version, or by hand
    ensure_home(tmp_path)
    assert mode(tmp_path / "logs") == 0o700
    assert mode(tmp_path / "state") == 0o700
    assert (tmp_path / "runs").is_dir()


def test_a_private_atomic_write_is_0600_even_over_a_stale_temp_file(tmp_path: Path) -> None:
    """A crash leaves ``.name.tmp-<pid>``; in a container the next start has the same pid."""
    stale = tmp_path / f".checkpoint.json.tmp-{os.getpid()}"
    stale.write_bytes(b"half a checkpoint")
    stale.chmod(0o644)
    old_umask = os.umask(0o022)
    try:
        atomic_write(tmp_path / "checkpoint.json", b"{}\n", mode=0o600)
    finally:
        os.umask(old_umask)
    assert mode(tmp_path / "checkpoint.json") == 0o600
    assert (tmp_path / "checkpoint.json").read_bytes() == b"{}\n"
    assert not stale.exists()
