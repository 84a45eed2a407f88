"""Whole sessions: real ``trio-paper run --sim`` processes, real loopback sockets, real clocks.

One session tours every simulator fault (module fixture ``toured``); the tests read what it left.
Others check the deadline, signals, the kill switch, the lock and an unreachable exchange.
"""

from __future__ import annotations

import itertools
import signal
import time
from datetime import datetime
from pathlib import Path

import orjson
import pytest

from tests.runtime.sessionkit import (
    Finished,
    down_windows,
    feed_events,
    finish,
    journal_has,
    make_home,
    newest_run,
    run,
    start,
    wait_for,
)

pytestmark = pytest.mark.slow

QUICK = {"stale_after": 2.5, "backoff_max": 2.0}


def fault_tour(now: float) -> tuple[list[str], float]:
    """Every fault kind once, one after another, and a refusal spanning the next minute
    boundary (so a bar is missed and must be backfilled). Returns the specs and the length."""
    startup = 1.0  # from spawning the process to the simulator's clock starting
    to_boundary = 60 - (now % 60) - startup
    if to_boundary < 12:
        to_boundary += 60
    refuse_at = to_boundary - 4
    tour = [
        ("stall", 4.0, ""), ("pong-never", 5.0, ""), ("pong-late", 4.0, ",delay=3"),
        ("close", 0.0, ""), ("drop", 0.0, ""), ("garbage", 0.0, ",count=3"),
        ("invalid", 0.0, ",count=3"), ("extra", 0.0, ",count=2"), ("duplicate", 0.0, ",count=5"),
        ("reorder", 0.0, ",count=3"), ("drip", 5.0, ",rate=1"),
    ]  # fmt: skip
    specs = [f"refuse@{refuse_at:.1f}:10"]
    cursor = 5.0
    for kind, duration, params in tour:
        if refuse_at - 6 < cursor + duration and cursor < refuse_at + 16:
            cursor = refuse_at + 16
        timing = f"{cursor:.1f}" + (f":{duration:g}" if duration else "")
        specs.append(f"{kind}@{timing}{params}")
        cursor += duration + 4
    return specs, max(cursor, refuse_at + 16) + 6


VENUES = ("bitunix", "binance_usdm")


@pytest.fixture(scope="module")
def tours(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Finished]:
    """The same tour on each venue, both at once (each is a real-time session of about a minute
    and a half, mostly waiting): Binance holds two sockets, each its own watchdog."""
    specs, seconds = fault_tour(time.time())
    faults = list(itertools.chain.from_iterable(("--sim-fault", spec) for spec in specs))
    minutes = f"{seconds / 60:.3f}"
    started = {}
    for venue in VENUES:
        home = make_home(tmp_path_factory.mktemp(f"tour-{venue}"))
        args = ("run", "--venue", venue, "--sim", "--minutes", minutes, *faults)
        started[venue] = (start(home, *args), home)
    done = {venue: finish(process, home, timeout=300) for venue, (process, home) in started.items()}
    for finished in done.values():
        assert finished.code == 0, finished.stderr[-3000:]
    return done


@pytest.fixture(params=VENUES)
def toured(request: pytest.FixtureRequest, tours: dict[str, Finished]) -> Finished:
    return tours[request.param]


def venue_of(finished: Finished) -> str:
    venue: str = finished.records()[0]["venue"]
    return venue


def test_the_tour_ends_at_the_deadline_with_every_artifact(toured: Finished) -> None:
    records = toured.records()
    assert records[0]["type"] == "session_start"
    assert records[-1]["type"] == "session_end"
    assert records[-1]["reason"] == "deadline"
    for name in (
        "summary.html",
        "summary.json",
        "events.jsonl",
        "recording.jsonl",
        "manifest.json",
    ):
        assert (toured.run / name).stat().st_size > 0, name
    logs = [
        orjson.loads(line)
        for line in (toured.home / "logs" / "system.jsonl").read_bytes().splitlines()
    ]
    assert logs
    assert not [entry for entry in logs if "traceback" in entry], "an unhandled exception"
    summary = orjson.loads((toured.run / "summary.json").read_bytes())
    assert summary["complete"] is True
    assert summary["exit_reason"] == "deadline"


def test_every_fault_was_seen_and_survived(toured: Finished) -> None:
    records = toured.records()
    binance = venue_of(toured) == "binance_usdm"
    reasons = [r["reason"] for r in feed_events(records, "disconnected")]
    # pong-never and pong-late windows keep the data flowing, and any frame is a sign of life:
    # they drop nothing (a silent socket goes stale first: stale_after_s < ping + pong timeout)
    assert not any("no pong" in reason for reason in reasons), reasons
    assert any("code 1000" in reason for reason in reasons), reasons  # close
    assert any("code 1006" in reason for reason in reasons), reasons  # drop
    assert any("HTTP 503" in reason for reason in reasons), reasons  # refuse
    stale = feed_events(records, "stale")
    assert stale
    assert all(2400 <= r["silent_ms"] <= 3500 for r in stale), stale
    counts = records[-1]["feed"]
    if binance:  # Binance adds fields: an extra one is tolerated and counted, not refused
        assert counts["bad_frames"] >= 3 + 3, counts  # garbage, invalid
        assert counts["unknown_keys"] >= 2, counts
    else:
        assert counts["bad_frames"] >= 3 + 3 + 2, counts  # garbage, invalid, extra (strict)
    assert counts["duplicates"] >= 1, counts
    assert counts["out_of_order"] >= 1, counts
    assert feed_events(records, "connected")[-1]["ts"] > stale[0]["ts"]


def test_reconnects_come_within_the_backoff_bound(toured: Finished) -> None:
    records = toured.records()
    feed = [r for r in records if r["type"] == "feed"]
    for earlier, later in itertools.pairwise(feed):
        if earlier["event"] in ("disconnected", "stale") and later["event"] in (
            "connected",
            "disconnected",
        ):
            # the next attempt comes within the backoff cap (plus the connect itself)
            assert later["ts"] - earlier["ts"] <= (QUICK["backoff_max"] + 1.0) * 1000, (
                earlier,
                later,
            )


def test_a_missed_bar_is_backfilled_and_the_strategy_sees_no_hole(toured: Finished) -> None:
    records = toured.records()
    gaps = feed_events(records, "gap")
    assert gaps, "the refusal across a minute boundary should leave a gap"
    backfills = [r for r in feed_events(records, "backfilled") if r["reason"] == "gap"]
    assert backfills
    assert all(r["error"] is None for r in backfills)
    assert sum(r["bars"] for r in backfills) >= sum(g["bars"] for g in gaps)
    opens = [r["open_time"] for r in records if r["type"] == "bar"]
    assert opens == sorted(opens)
    steps = {b - a for a, b in itertools.pairwise(opens)}
    assert steps == {60_000}, f"bars are not one minute apart: {sorted(steps)}"
    assert any(
        r["source"] == "rest"
        for r in records
        if r["type"] == "bar" and r["open_time"] >= gaps[0]["start"]
    )


def test_nothing_fills_while_the_feed_is_down(toured: Finished) -> None:
    """While any socket is down (Binance has two), no fill."""
    records = toured.records()
    windows = down_windows(records)
    assert windows
    for fill in (r for r in records if r["type"] == "fill"):
        assert not any(start <= fill["ts"] < end for start, end in windows), fill


def test_replaying_the_recording_writes_the_same_journal(toured: Finished, tmp_path: Path) -> None:
    replayed = run(tmp_path, "replay", "--file", str(toured.run / "recording.jsonl"), timeout=120)
    assert replayed.code == 0, replayed.stderr
    assert (tmp_path / "runs" / "latest" / "events.jsonl").read_bytes() == (
        toured.run / "events.jsonl"
    ).read_bytes()


def test_an_unreachable_exchange_says_so_quickly_and_keeps_trying(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    begun = time.time()
    finished = run(
        home, "run", "--minutes", "0.2", "--venue-url", "ws://127.0.0.1:9/public/",
        "--rest-url", "http://127.0.0.1:9", timeout=120,
    )  # fmt: skip
    assert finished.code == 0, finished.stderr
    hints = [line for line in finished.stderr.splitlines() if "cannot reach" in line]
    assert hints
    assert "--sim" in hints[0]
    first = orjson.loads(hints[0])
    assert _epoch(first["time"]) - begun < 8
    records = finished.records()
    attempts = feed_events(records, "disconnected")
    assert len(attempts) >= 3, "it should keep retrying until the deadline"
    lines = [orjson.loads(line) for line in finished.stderr.splitlines() if line.startswith("{")]
    feed_lines = [line for line in lines if line["component"] == "feed"]
    assert len(feed_lines) == len(attempts), "one log line per failed attempt, not two"
    assert finished.summary()["feed"]["failed_connects"] == len(attempts)
    assert records[-1]["type"] == "session_end"
    assert (finished.run / "summary.html").exists()


def test_sigterm_stops_gracefully_and_a_second_signal_at_once(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    process = start(home, "run", "--sim", "--minutes", "5")
    wait_for(
        lambda: journal_has(home, "feed") and b'"subscribed"' in _latest_journal(home),
        30,
        "subscribe",
    )
    process.send_signal(signal.SIGTERM)
    finished = finish(process, home, timeout=30)
    assert finished.code == 0, finished.stderr
    assert finished.records()[-1]["reason"] == "signal SIGTERM"
    assert (finished.run / "summary.html").exists()
    first_run = finished.run

    process = start(home, "run", "--sim", "--minutes", "5")
    wait_for(
        lambda: _latest(home) != first_run and b'"subscribed"' in _latest_journal(home),
        30,
        "second run",
    )
    interrupted = _latest(home)
    process.send_signal(signal.SIGINT)
    process.send_signal(signal.SIGINT)
    finished = finish(process, home, timeout=30)
    assert finished.code in (130, 0), finished.stderr

    # the next start closes the interrupted run properly, whatever the second signal cut short
    again = run(home, "run", "--sim", "--minutes", "0.05", timeout=60)
    assert again.code == 0, again.stderr
    last = orjson.loads((interrupted / "events.jsonl").read_bytes().splitlines()[-1])
    assert last["type"] == "session_end"


def test_the_kill_file_stops_the_session_with_its_exit_code(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    process = start(home, "run", "--sim", "--minutes", "5")
    wait_for(lambda: b'"subscribed"' in _latest_journal(home), 30, "subscribe")
    (home / "state" / "KILL").touch()
    finished = finish(process, home, timeout=30)
    assert finished.code == 4, finished.stderr
    records = finished.records()
    assert any(r["type"] == "risk" and r["event"] == "kill" for r in records)
    assert records[-1]["type"] == "session_end"
    assert "kill switch" in records[-1]["reason"]


def test_a_second_instance_is_refused_while_the_first_runs(tmp_path: Path) -> None:
    home = make_home(tmp_path)
    process = start(home, "run", "--sim", "--minutes", "5")
    wait_for(lambda: b'"subscribed"' in _latest_journal(home), 30, "subscribe")
    second = run(home, "run", "--sim", "--minutes", "1", timeout=30)
    assert second.code == 5
    assert "another trio-paper" in second.stderr
    process.send_signal(signal.SIGTERM)
    assert finish(process, home, timeout=30).code == 0


def _latest(home: Path) -> Path:
    return newest_run(home)


def _latest_journal(home: Path) -> bytes:
    try:
        events = newest_run(home) / "events.jsonl"
    except AssertionError:
        return b""
    return events.read_bytes() if events.exists() else b""


def _epoch(iso: str) -> float:
    return datetime.fromisoformat(iso).timestamp()
