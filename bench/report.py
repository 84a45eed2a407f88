"""``bench/results.md``: the machine, then one table per section, targets and whether met."""

from __future__ import annotations

from collections.abc import Callable

import attrs

from . import versus
from .live import SLOW_MS, Latency, LiveMemory
from .replays import ReplayCase, ReplayRun
from .stages import Stages

FRAMES_TARGET = 100_000
BARS_TARGET = 150_000
RSS_TARGET_MB = 150
FLAT_MB = 5
"""How much more a 5-day replay may peak at than a 1-day one and still be called flat."""
LATENCY_RATE = 1_000
LATENCY_P99_MS = 2.0
LIVE_GROWTH_MB = 5
REPORT_SHARE = 0.15
"""Of a year's whole command, at most this much may go to the run directory and the reports."""
FRAMES_SPEEDUP = 2.0
"""Raw-frame replay against the baseline (issue 12: the commit before the work)."""


@attrs.frozen
class Results:
    machine: list[tuple[str, str]]
    runs: int
    baseline: str | None
    recordings: list[ReplayCase]
    candles: ReplayCase
    latency: list[Latency]
    memory: LiveMemory | None
    load_after: str
    versus: versus.Versus | None = None
    stages: list[Stages] = attrs.Factory(list)  # the year's bars, the day's frames


def render(r: Results) -> str:
    out = [
        "# Benchmark results",
        "",
        "Written by `make bench` (`python -m bench`); what each figure means and how it is taken:",
        "[README.md](README.md). Each replay figure is the median of "
        f"{r.runs} run{'s' if r.runs > 1 else ''}, each in a fresh process (min–max in brackets).",
        "",
        "| | |",
        "|---|---|",
        *(f"| {what} | {value} |" for what, value in r.machine),
        f"| load average after | {r.load_after} |",
    ]
    if r.baseline:
        out.append(f"| baseline | {r.baseline} |")
    targets = _targets(r)
    out += ["", "## Targets", "", *targets, ""]
    if any(row.endswith(f"| {MISSED} |") for row in targets):
        out += [
            "Why a target marked **no** is missed: section 2c (where the time goes, stage by "
            "stage, and what each missed target would need) and [README.md](README.md#issue-12-"
            "where-it-stands-and-why): by how much, why, and what would close it.",
            "",
        ]
    else:
        out += ["Every target is met in this run; section 2c says where the time goes.", ""]
    out += ["## 1. Raw-frame replay, end to end", "", *_replay_table(r.recordings, False), ""]
    out += ["## 2. Bars-only replay of a year of 1-minute candles (EMA cross)", ""]
    out += [*_replay_table([r.candles], True), ""]
    if r.versus is not None:
        out += [versus.render(r.versus)]
    if r.stages:
        out += ["## 2c. Where the time goes, stage by stage", "", *_stages_table(r), ""]
    if r.latency:
        out += ["## 3. Live path: frame-to-journal latency", "", *_latency_table(r.latency), ""]
    if r.memory is not None:
        out += ["## 4. Live path: memory over a 24-hour recording", "", *_memory_table(r.memory)]
    return "\n".join(out).rstrip() + "\n"


def _targets(r: Results) -> list[str]:
    rows = ["| target | measured | met |", "|---|---|---|"]
    for case in r.recordings:
        rate = case.median(_frames)
        rows.append(_row(f"raw-frame replay ≥ {FRAMES_TARGET:,} frames/s ({case.name})",
                         f"{rate:,.0f} frames/s", rate >= FRAMES_TARGET))  # fmt: skip
        if case.baseline:
            speedup = rate / case.median(_frames, baseline=True)
            rows.append(_row(f"raw-frame replay ≥ {FRAMES_SPEEDUP:g}× the baseline ({case.name})",
                             f"{speedup:.2f}×", speedup >= FRAMES_SPEEDUP))  # fmt: skip
    peaks = [case.peak_kb() / 1024 for case in r.recordings]
    rows.append(_row(
        f"raw-frame replay peak RSS < {RSS_TARGET_MB} MB, flat in input length",
        " vs ".join(f"{p:.0f} MB ({c.name})" for p, c in zip(peaks, r.recordings, strict=True)),
        max(peaks) < RSS_TARGET_MB and max(peaks) - min(peaks) <= FLAT_MB,
    ))  # fmt: skip
    bars = r.candles.median(_bars)
    rows.append(_row(f"bars-only replay ≥ {BARS_TARGET:,} bars/s", f"{bars:,.0f} bars/s",
                     bars >= BARS_TARGET))  # fmt: skip
    if r.versus is not None:
        rows.append(_row(*versus.target_row(r.versus)))
    share = _report_share(r.candles)
    rows.append(_row(
        f"bars-only year: run directory and reports ≤ {REPORT_SHARE:.0%} of the whole command",
        f"{share:.0%}", share <= REPORT_SHARE,
    ))  # fmt: skip
    peak = r.candles.peak_kb() / 1024
    rows.append(_row(f"bars-only peak RSS < {RSS_TARGET_MB} MB", f"{peak:.0f} MB",
                     peak < RSS_TARGET_MB))  # fmt: skip
    for latency in r.latency:
        if latency.rate == LATENCY_RATE:
            p99 = latency.buffered_ms[1]
            rows.append(_row(
                f"live p99 < {LATENCY_P99_MS:g} ms at {LATENCY_RATE:,} frames/s (to the buffer)",
                f"{p99:.2f} ms (durable: {latency.durable_ms[1]:.1f} ms)",
                p99 < LATENCY_P99_MS,
            ))  # fmt: skip
    if r.memory is not None:
        growth = _growth_mb(r.memory)
        rows.append(_row(f"live RSS growth over 24 h ≤ {LIVE_GROWTH_MB} MB",
                         f"{growth:+.1f} MB", growth <= LIVE_GROWTH_MB))  # fmt: skip
    return rows


def _report_share(case: ReplayCase) -> float:
    """The median share of ``wall_seconds`` outside the replay loop: the run directory, the
    manifest and the reports."""
    return case.median(lambda run: (run.wall_seconds - run.seconds) / run.wall_seconds)


MISSED = "**no**"
"""How the targets table marks a target this run missed."""


def _row(what: str, measured: str, met: bool) -> str:
    return f"| {what} | {measured} | {'yes' if met else MISSED} |"


def _frames(run: ReplayRun) -> float:
    return run.frames_per_s


def _bars(run: ReplayRun) -> float:
    return run.bars_per_s


def _cpu(run: ReplayRun) -> float:
    return run.cpu_seconds


def _items(run: ReplayRun) -> float:
    return run.items_per_s


def _spread(case: ReplayCase, rate: Callable[[ReplayRun], float], baseline: bool) -> str:
    runs = case.baseline if baseline else case.runs
    values = [rate(run) for run in runs]
    return f"{case.median(rate, baseline):,.0f} ({min(values):,.0f}–{max(values):,.0f})"


def _replay_table(cases: list[ReplayCase], bars_only: bool) -> list[str]:
    """One row per case and source; the ratio of the medians when there is a baseline."""
    rate, unit = (_bars, "bars/s") if bars_only else (_frames, "frames/s")
    rows = [
        f"| input | source | items | bars | loop s | {unit} | "
        + ("" if bars_only else "items/s | bars/s | ")
        + "whole command s | whole command CPU s | RSS after imports | peak RSS |",
        "|---|---|--:|--:|--:|--:|" + ("" if bars_only else "--:|--:|") + "--:|--:|--:|--:|",
    ]
    for case in cases:
        for baseline in (True, False) if case.baseline else (False,):
            runs = case.baseline if baseline else case.runs
            first = runs[0]
            seconds = sorted(run.seconds for run in runs)[len(runs) // 2]
            wall = sorted(run.wall_seconds for run in runs)[len(runs) // 2]
            cpu = sorted(run.cpu_seconds for run in runs)[len(runs) // 2]
            extra = (
                ""
                if bars_only
                else (f"{_spread(case, _items, baseline)} | {_spread(case, _bars, baseline)} | ")
            )
            rows.append(
                f"| {case.name} | {'baseline' if baseline else 'now'} | {first.items:,} "
                f"| {first.bars:,} | {seconds:.2f} | {_spread(case, rate, baseline)} | {extra}"
                f"{wall:.2f} | {cpu:.2f} | {first.rss_start_kb / 1024:.0f} MB "
                f"| {case.peak_kb(baseline) / 1024:.0f} MB |"
            )
        if case.baseline:
            speedup = case.median(rate) / case.median(rate, baseline=True)
            cpu_speedup = case.median(_cpu, baseline=True) / case.median(_cpu)
            rows.append(
                f"| {case.name} | now ÷ baseline | | | | **{speedup:.2f}×** | "
                + ("" if bars_only else "| | ")
                + f"| **{cpu_speedup:.2f}×** faster | | |"
            )
    rows.append("")
    rows.append(f"Inputs: {', '.join(f'`{case.path.name}`' for case in cases)}.")
    return rows


def _stages_table(r: Results) -> list[str]:
    """The profile of the year's bars and the day's frames, and what the missed speed targets
    would need of it."""
    rows = [
        "CPU µs per item, each stage on its own over the whole input, in a fresh process with "
        "the garbage collector off (`python -m bench.stages FILE`; the stages hold the whole "
        "input in memory, so they run a little slower than the streaming replay).",
        "",
        "| stage | " + " | ".join(f"µs a {s.item} ({s.items:,})" for s in r.stages) + " |",
        "|---|" + "--:|" * len(r.stages),
    ]
    cells: tuple[tuple[str, Callable[[Stages], str]], ...] = (
        (
            "read: gunzip, parse, the core's inputs (a big recording: mostly in a second process)",
            lambda s: f"{s.read:.2f}",
        ),
        ("core: decoder, engine, strategy, risk, broker, the records", lambda s: f"{s.core:.2f}"),
        ("journal: the lines, buffering, writing", lambda s: f"{s.journal:.2f}"),
        ("**the replay loop's stages**", lambda s: f"**{s.loop:.2f}**"),
        ("report pass (of it, parsing the lines)", lambda s: f"{s.report:.2f} ({s.parse:.2f})"),
    )
    for name, cell in cells:
        rows.append(f"| {name} | " + " | ".join(cell(s) for s in r.stages) + " |")
    bars = next((s for s in r.stages if s.item == "bar"), None)
    frames = next((s for s in r.stages if s.item == "frame"), None)
    rows.append("")
    if r.versus is not None and bars is not None:
        whole = r.versus.target_seconds
        rows.append(
            f"- {versus.TARGET:g}× backtesting.py is the whole command in {whole:.2f} s: "
            f"{whole / bars.items * 1e6:.1f} µs a bar for everything, start-up and reports "
            f"included; the loop's stages alone take {bars.loop:.1f} now."
        )
    day = r.recordings[0] if r.recordings else None
    if day is not None and day.baseline and frames is not None:
        needed = 1e6 / (FRAMES_SPEEDUP * day.median(_frames, baseline=True))
        now = 1e6 / day.median(_frames)
        rows.append(
            f"- {FRAMES_SPEEDUP:g}× the baseline's raw frames ({day.name}) is {needed:.1f} µs a "
            f"frame for the replay loop; it takes {now:.1f} now (stages: read {frames.read:.1f}, "
            f"core {frames.core:.1f}; a big recording's reading is done mostly by a second "
            "process, beside the loop)."
        )
    return rows


def _ms(values: tuple[float, float, float]) -> str:
    return " / ".join(f"{v:.2f}" for v in values)


def _latency_table(latencies: list[Latency]) -> list[str]:
    rows = [
        "Frame to journal buffer: from the simulator handing the push to its socket to the "
        "session's engine task returning from `journal.append` for it (recorded, decoded, "
        "validated, through the engine; its records, if any, buffered). Frame to durable: to "
        "the return of the group commit (fsync of the recording, then the journal; "
        "`commit_interval_ms` 50) that covers it. p50 / p99 / max in ms.",
        "",
        "| frames/s asked | sent | frames measured | to buffer | to durable "
        f"| group commit | session CPU | over {SLOW_MS:g} ms | …behind a commit |",
        "|--:|--:|--:|--:|--:|--:|--:|--:|--:|",
    ]
    for x in latencies:
        rows.append(
            f"| {x.rate:,.0f} | {x.achieved:,.0f} | {x.frames:,}"
            f"{f' ({x.missing} lost)' if x.missing else ''} | {_ms(x.buffered_ms)} "
            f"| {_ms(x.durable_ms)} | {_ms(x.commit_ms)} | {x.cpu:.0%} | {x.slow:,} "
            f"| {x.slow_behind_commit:,} |"
        )
    return rows


def _growth_mb(memory: LiveMemory) -> float:
    start, _, end = _points(memory)
    return (end[2] - start[2]) / 1024


def _flowing(memory: LiveMemory) -> list[tuple[float, int, int]]:
    """The samples taken once frames flowed (frames handled only grow)."""
    return [s for s in memory.samples if s[1] > 0]


def _points(memory: LiveMemory) -> tuple[tuple[float, int, int], ...]:
    """The first sample with frames flowing, the one nearest half the frames, the last."""
    flowing = _flowing(memory) or memory.samples
    middle = min(flowing, key=lambda s: abs(s[1] - memory.frames / 2))
    return flowing[0], middle, flowing[-1]


def _kept_up(memory: LiveMemory) -> str:
    """Whether the session handled frames as fast as they were played: if not, its feed queue
    held a backlog, and that is in the growth."""
    flowing = _flowing(memory)
    if len(flowing) < 2:
        return "too few samples to tell whether it kept up"
    (t0, f0, _), (_, last, _) = flowing[0], flowing[-1]
    done = next(t for t, frames, _ in flowing if frames == last)  # the sample that saw the last
    rate = (last - f0) / (done - t0 or 1.0)
    if rate >= 0.97 * memory.rate:
        return f"it kept up: {rate:,.0f} frames/s handled"
    return (
        f"**it fell behind**: {rate:,.0f} frames/s handled, so the growth below includes the "
        "feed queue's backlog"
    )


def _memory_table(memory: LiveMemory) -> list[str]:
    rows = [
        f"The day recording played once by the simulator at {memory.rate:,.0f} frames/s into a "
        f"session, which handled {memory.frames:,} frames in {memory.seconds:.0f} s (it stops "
        f"3 s after the last; {_kept_up(memory)}). VmRSS of the session process, sampled every "
        "0.5 s.",
        "",
        "| point | s | frames handled | VmRSS |",
        "|---|--:|--:|--:|",
    ]
    for name, (seconds, frames, rss) in zip(
        ("start", "middle", "end"), _points(memory), strict=True
    ):
        rows.append(f"| {name} | {seconds:.1f} | {frames:,} | {rss / 1024:.1f} MB |")
    rows.append(f"| peak (VmHWM) | | | {memory.vm_hwm_kb / 1024:.1f} MB |")
    rows.append(f"| growth, start → end | | | {_growth_mb(memory):+.1f} MB |")
    return rows
