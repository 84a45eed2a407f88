"""Finding the report process that follows a replay's journal (``app.report_process``)."""

from __future__ import annotations

from pathlib import Path


def follower_of(home: Path) -> int | None:
    """The pid of the report process following a run under ``home``, if it has started."""
    for proc in Path("/proc").iterdir():
        try:
            command = (proc / "cmdline").read_bytes().split(b"\0")
        except OSError:
            continue
        if b"trio_paper.app.report_process" in command and str(home).encode() in command[-2]:
            return int(proc.name)
    return None


def alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(") ")[-1][0]
    except OSError:
        return False
    return state != "Z"
