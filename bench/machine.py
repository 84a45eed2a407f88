"""What the benchmark ran on: CPU, cores, memory, Python, package versions, source state."""

from __future__ import annotations

import os
import platform
import subprocess
from datetime import UTC, datetime
from importlib import metadata
from pathlib import Path

PACKAGES = ("trio-paper", "trio", "trio-websocket", "wsproto", "attrs", "cattrs", "orjson", "httpx")


def describe(repo: Path) -> list[tuple[str, str]]:
    """``(what, value)`` rows for the top of results.md."""
    cpu = _first_value(Path("/proc/cpuinfo"), "model name") or platform.processor() or "?"
    mem_kb = _first_value(Path("/proc/meminfo"), "MemTotal") or "0 kB"
    versions = ", ".join(f"{name} {_version(name)}" for name in PACKAGES)
    return [
        ("date", datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")),
        ("CPU", f"{cpu}, {os.cpu_count()} cores"),
        ("RAM", f"{int(mem_kb.split()[0]) / 1024 / 1024:.1f} GiB"),
        ("OS", f"{platform.system()} {platform.release()}"),
        ("Python", f"{platform.python_implementation()} {platform.python_version()}"),
        ("packages", versions),
        ("source", git_state(repo)),
        ("load average", load_average()),
    ]


def load_average() -> str:
    """The 1, 5 and 15-minute load averages: other work on the machine skews timings."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def git_state(repo: Path) -> str:
    """``<commit> (+ uncommitted changes)`` of ``repo``, or ``unknown``."""
    try:
        head = _git(repo, "rev-parse", "--short", "HEAD")
        dirty = _git(repo, "status", "--porcelain", "--untracked-files=no", "--", "src")
    except (OSError, subprocess.CalledProcessError):
        return "unknown"
    return f"{head}" + (" + uncommitted changes in src/" if dirty else "")


def _git(repo: Path, *args: str) -> str:
    done = subprocess.run(
        ["git", "-C", str(repo), *args], capture_output=True, text=True, check=True
    )
    return done.stdout.strip()


def _version(name: str) -> str:
    try:
        return metadata.version(name)
    except metadata.PackageNotFoundError:
        return "?"


def _first_value(path: Path, key: str) -> str | None:
    try:
        lines = path.read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        name, _, value = line.partition(":")
        if name.strip() == key:
            return value.strip()
    return None
