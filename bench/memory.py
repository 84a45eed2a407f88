"""Memory as Linux reports it in ``/proc/<pid>/status``.

``VmHWM`` is the peak resident set of the process so far. Every measurement runs in a fresh
process and reads its own, so no figure inherits the size of the process that started it (as
``ru_maxrss`` of a forked child does).
"""

from __future__ import annotations

from pathlib import Path


def status_kb(field: str, pid: int | str = "self") -> int:
    """``field`` (``VmRSS``, ``VmHWM``...) of process ``pid``, in kB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name == field:
            return int(value.split()[0])
    raise KeyError(f"/proc/{pid}/status has no {field}")
