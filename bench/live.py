"""The live path, measured: the simulator and a session in two processes over loopback.

The simulator (``bench.live_sim``) logs when it hands each push to its socket; the session
(``bench.live_session``) logs when each frame's records are in the journal buffer and when the
commit that made them durable returned. Both name a frame by ``hash(text)`` under
``PYTHONHASHSEED=0`` and stamp ``perf_counter_ns`` (CLOCK_MONOTONIC, machine-wide), so a frame's
latency is a subtraction. Two processes, as in production (the exchange is elsewhere): the
simulator's own work neither delays the session nor counts as its latency.
"""

from __future__ import annotations

import bisect
import math
import os
import signal
import subprocess
import sys
import tempfile
from array import array
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import attrs
import orjson

FRAMES_PER_RECORDED_SECOND = 388_800 / 86_400
"""The day recording's pace: 4.5 frames per second of recorded time; speed = rate / this."""
SLOW_MS = 1.0


@attrs.frozen
class Latency:
    rate: float  # frames/s asked for
    achieved: float  # frames/s the simulator sent in the window
    frames: int  # frames sent in the window and handled
    missing: int  # frames sent in the window but never handled
    buffered_ms: tuple[float, float, float]  # p50, p99, max
    durable_ms: tuple[float, float, float]
    cpu: float  # the session process's CPU time over the window, as a share of one core
    commit_ms: tuple[float, float, float]  # the group commits started in the window
    slow: int  # frames whose ``buffered`` latency is over SLOW_MS
    slow_behind_commit: int  # ...of which a group commit ended while they waited


@attrs.frozen
class LiveMemory:
    rate: float  # frames/s asked for
    frames: int
    seconds: float
    samples: list[tuple[float, int, int]]  # (s since start, frames handled, VmRSS kB)
    vm_hwm_kb: int


def percentiles(values: Sequence[int]) -> tuple[float, float, float]:
    """p50, p99 (nearest rank) and max of ``values`` (ns), in ms."""
    ordered = sorted(values)
    n = len(ordered)

    def rank(q: float) -> float:
        return ordered[max(0, math.ceil(q * n) - 1)] / 1e6

    return rank(0.50), rank(0.99), ordered[-1] / 1e6


def _env(src: Path | None) -> dict[str, str]:
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    if src is not None:
        env["PYTHONPATH"] = str(src)
    return env


def _run_pair(
    recording: Path, speed: float, once: bool, session_args: list[str], src: Path | None
) -> tuple[dict[str, Any], array[int], array[int]]:
    """Start a session, then the simulator, wait for the session to finish; return its JSON
    line, its stamps (hash, buffered, durable triples) and the simulator's (hash, sent) pairs."""
    with tempfile.TemporaryDirectory(prefix="bench-live-") as tmp:
        work = Path(tmp)
        stamps_file, sends_file = work / "stamps.bin", work / "sends.bin"
        session = subprocess.Popen(
            [sys.executable, "-m", "bench.live_session", "--home", str(work / "home"),
             "--out", str(stamps_file), *session_args],
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True, env=_env(src),
        )  # fmt: skip
        assert session.stdin is not None
        assert session.stdout is not None
        sim: subprocess.Popen[str] | None = None
        try:
            if session.stdout.readline().strip() != "ready":
                raise RuntimeError("the benchmark session did not start")
            sim = subprocess.Popen(
                [sys.executable, "-m", "bench.live_sim", str(recording), "--speed", str(speed),
                 "--sends", str(sends_file), *(["--once"] if once else [])],
                stdout=subprocess.PIPE, text=True, env=_env(src),
            )  # fmt: skip
            assert sim.stdout is not None
            session.stdin.write(sim.stdout.readline())
            session.stdin.flush()
            out, _ = session.communicate(timeout=600)
            if session.returncode != 0:
                raise RuntimeError(f"the benchmark session failed ({session.returncode})")
        finally:
            if session.poll() is None:
                session.kill()
            if sim is not None:
                sim.send_signal(signal.SIGTERM)
                sim.wait(timeout=60)
        result = orjson.loads(out.strip().splitlines()[-1])
        stamps, sends = array("q"), array("q")
        stamps.frombytes(stamps_file.read_bytes())
        sends.frombytes(sends_file.read_bytes())
    return result, stamps, sends


def measure_latency(
    recording: Path, rate: float, warmup: float, seconds: float, src: Path | None = None
) -> Latency:
    speed = rate / FRAMES_PER_RECORDED_SECOND
    result, stamps, sends = _run_pair(
        recording, speed, False, ["--warmup", str(warmup), "--measure", str(seconds)], src
    )
    if result["bad_frames"]:  # refused frames never reach the engine: not the live path
        raise RuntimeError(f"the benchmark session refused {result['bad_frames']} frames")
    start, end = int(result["start_ns"]), int(result["end_ns"])
    sent = {sends[i]: sends[i + 1] for i in range(0, len(sends), 2)}
    in_window = {h for h, t in sent.items() if start <= t < end}
    commits = result["commits"]
    commit_ends = sorted(commits[1::2])
    buffered, durable = [], []
    slow = slow_behind_commit = 0
    for i in range(0, len(stamps), 3):
        key = stamps[i]
        if key in in_window:
            latency = stamps[i + 1] - sent[key]
            buffered.append(latency)
            durable.append(stamps[i + 2] - sent[key])
            if latency > SLOW_MS * 1e6:
                slow += 1
                slow_behind_commit += _waited_for_commit(commit_ends, sent[key], stamps[i + 1])
    handled = len(buffered)
    window_s = (end - start) / 1e9
    spans = [b - a for a, b in zip(commits[::2], commits[1::2], strict=True) if start <= a < end]
    return Latency(
        rate, len(in_window) / window_s, handled, len(in_window) - handled,
        percentiles(buffered), percentiles(durable),
        (result["cpu_end"] - result["cpu_start"]) / window_s, percentiles(spans), slow,
        slow_behind_commit,
    )  # fmt: skip


def _waited_for_commit(commit_ends: list[int], sent: int, buffered: int) -> bool:
    """Whether a group commit ended between a frame's send and its handling: the engine task
    waits for the commit's fsync thread, and frames arriving meanwhile wait with it."""
    after = bisect.bisect_left(commit_ends, sent)
    return after < len(commit_ends) and commit_ends[after] <= buffered


def measure_memory(recording: Path, rate: float, src: Path | None = None) -> LiveMemory:
    speed = rate / FRAMES_PER_RECORDED_SECOND
    result, _, _ = _run_pair(recording, speed, True, ["--until-idle"], src)
    samples = [(float(s), int(f), int(r)) for s, f, r in result["rss_samples"]]
    return LiveMemory(rate, result["frames"], result["seconds"], samples, result["vm_hwm_kb"])
