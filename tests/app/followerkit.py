"""Finding the report process that follows a replay's journal (``app.report_process``)."""

from __future__ import annotations

import os
from pathlib import Path


def follower_of(under: Path) -> int | None:
    """The pid of the report process following a run directory that is ``under`` or lies below
    it (a home, or the run's own directory), if it has started."""
    for proc in Path("/proc").iterdir():
        try:
            command = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"trio_paper.app.report_process" in command:
            run = Path(os.fsdecode(command[-2]))
            if run == under or under in run.parents:
                return int(proc.name)
    return None


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][0]
    except OSError:
        return False
    return state != "Z"
