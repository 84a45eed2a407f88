"""``python -m bench.launch ARGV...``: run ARGV (its stdout to /dev/null, its stderr inherited)
and print its wall time, CPU time, peak RSS and exit code as one JSON line.

A child's ``ru_maxrss`` counts the memory of the process it was spawned from, up to its
``exec``: Linux keeps the old image's high-water mark. Spawned from the benchmark's own
process, a 35 MB replay read as large as the benchmark was (84 MB). This launcher is a small
process of its own (~10 MB), so what ``wait4`` says of its child is the child's.
"""

from __future__ import annotations

import json
import os
import sys
import time


def main() -> int:
    argv = sys.argv[1:]
    started = time.perf_counter()
    pid = os.posix_spawn(
        argv[0], argv, os.environ,
        file_actions=[(os.POSIX_SPAWN_OPEN, 1, os.devnull, os.O_WRONLY, 0)],
    )  # fmt: skip
    _, status, usage = os.wait4(pid, 0)
    seconds = time.perf_counter() - started
    print(json.dumps({
        "seconds": seconds, "cpu_seconds": usage.ru_utime + usage.ru_stime,
        "peak_kb": usage.ru_maxrss, "exit": os.waitstatus_to_exitcode(status),
    }))  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
