"""``trio-paper sweep`` on real Dask: a LocalCluster of processes and a ``dask scheduler`` +
``dask worker`` on loopback, every row checked against a plain replay; the cache, a resumed
kill, failed jobs as rows, ``--test-from``, and one-line mistakes."""

from __future__ import annotations

import contextlib
import csv
import gzip
import os
import signal
import socket
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path
from typing import Any

import orjson
import pytest
from distributed import Client

from tests.app.sweepkit import KIT_DIR, cut_candles, dask_cluster
from trio_paper.app.replay import replay
from trio_paper.app.sweep import SweepResult, plan_sweep, run_sweep
from trio_paper.app.sweep.cluster import ClusterError, check_workers
from trio_paper.app.sweep.grid import GridError, parse_param
from trio_paper.app.sweep.job import row_of
from trio_paper.config import Config, evolve
from trio_paper.engine.strategies import load

SCRIPT = Path(sys.executable).parent / "trio-paper"
GRID = ["fast=5,30", "slow=21,34"]
PLANTED = "sk-planted-7c1f0e9a2b"  # fast 30 over slow 21 is refused by ema_cross


def cli(*args: str, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPT), *args], capture_output=True, text=True, timeout=timeout, check=False,
        env={**os.environ, "COLUMNS": "80"},
    )  # fmt: skip


def summary_of(row: dict[str, Any]) -> bytes:
    return (Path(row["run"]) / "summary.json").read_bytes()


def params_of(row: dict[str, Any], names: list[str]) -> dict[str, Any]:
    return {name: row[name] for name in names}


def plain_replay(candles: Path, strategy: str, params: dict[str, Any], home: Path) -> bytes:
    """``summary.json`` of a plain, in-process ``replay`` with ``params``."""
    config = evolve(Config(), strategy={"name": strategy, "params": params})
    result = replay(candles, config, load(strategy, params), home, run_id="plain")
    return result.run.summary_json.read_bytes()


@pytest.fixture(scope="module")
def candles(shared_data: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """2,000 minutes from 2023-07-18 11:13 UTC: about 33 hours."""
    return cut_candles(shared_data, tmp_path_factory.mktemp("data") / "candles.csv", 2000)


@pytest.fixture(scope="module")
def local_sweep(candles: Path, tmp_path_factory: pytest.TempPathFactory) -> SweepResult:
    """Run while 127.0.0.1:8787, Dask's default dashboard port, is taken (by us, or already by
    another cluster on the machine): a sweep must neither need it nor warn about it."""
    home = tmp_path_factory.mktemp("home")
    with socket.socket() as taken:
        with contextlib.suppress(OSError):
            taken.bind(("127.0.0.1", 8787))
            taken.listen()
        return run_sweep(plan_sweep(candles, "ema_cross", GRID, Config(), home, workers=2))


@pytest.mark.slow
def test_each_row_of_a_local_sweep_is_what_trio_paper_replay_gives(
    local_sweep: SweepResult, candles: Path, tmp_path: Path
) -> None:
    """Four combinations on a LocalCluster of two processes; each good row's run leaves the
    very ``summary.json`` bytes of ``trio-paper replay`` with those params in config.yaml."""
    ok = [row for row in local_sweep.rows if row["health"] == "ok"]
    assert len(local_sweep.rows) == 4
    assert len(ok) == 3
    for index, row in enumerate(ok):
        home = tmp_path / f"plain-{index}"
        home.mkdir()
        params = {"fast": row["fast"], "slow": row["slow"]}
        (home / "config.yaml").write_bytes(
            orjson.dumps({"strategy": {"name": "ema_cross", "params": params}})
        )  # JSON is YAML
        done = cli("replay", "--home", str(home), "--file", str(candles), "--run-id", "plain")
        assert done.returncode == 0, done.stderr
        plain = (home / "runs" / "plain" / "summary.json").read_bytes()
        assert summary_of(row) == plain
        measured = {k: v for k, v in row.items() if k not in ("part", "fast", "slow", "run")}
        assert measured == row_of(orjson.loads(plain))
    assert {row["trades"] for row in ok} != {0}, "the slice should trade"


def test_a_combination_the_strategy_refuses_is_a_row_with_its_error(
    local_sweep: SweepResult,
) -> None:
    [bad] = [row for row in local_sweep.rows if row["health"] == "failed"]
    assert (bad["fast"], bad["slow"]) == (30, 21)
    assert "fast (30) must be shorter than slow (21)" in bad["error"]
    assert bad["trades"] is None
    assert bad["net_pnl_usdt"] is None
    assert local_sweep.failed == 1


def test_the_results_files_hold_the_same_rows(local_sweep: SweepResult) -> None:
    folder = local_sweep.folder
    with (folder / "results.csv").open(encoding="utf-8", newline="") as handle:
        from_csv = list(csv.DictReader(handle))
    document = orjson.loads((folder / "results.json").read_bytes())
    assert document["params"] == ["fast", "slow"]
    assert document["rows"] == local_sweep.rows
    assert list(from_csv[0]) == document["columns"]
    as_text = [{k: "" if v is None else str(v) for k, v in r.items()} for r in document["rows"]]
    assert from_csv == as_text
    page = (folder / "summary.html").read_text(encoding="utf-8")
    assert page.count("<tr>") >= 4 + 2  # every row, and the heatmap's
    assert 'class="sortable"' in page
    assert 'class="heat"' in page
    assert "ema_cross by" not in page  # titled by the metric, not the strategy
    assert "net_pnl_usdt by fast × slow" in page
    for row in local_sweep.rows:
        if row["run"]:
            link = f"../runs/{Path(row['run']).name}/summary.html"
            assert f'href="{link}"' in page
            assert (folder / link).is_file()
    assert "src=" not in page
    assert "http://" not in page
    assert "https://" not in page


def test_a_rerun_of_the_same_sweep_does_no_work(local_sweep: SweepResult) -> None:
    """All rows come from the cache: no cluster is even needed (this scheduler is a closed
    port), and no run is written again."""
    runs = [Path(row["run"]) for row in local_sweep.rows if row["run"]]
    before = {run: (run / "events.jsonl").stat().st_mtime_ns for run in runs}
    home = local_sweep.folder.parents[1]
    candles = Path(orjson.loads((local_sweep.folder / "results.json").read_bytes())["input"])
    plan = plan_sweep(candles, "ema_cross", GRID, Config(), home, scheduler="tcp://127.0.0.1:9")
    again = run_sweep(plan)
    assert (again.ran, again.cached) == (0, 4)
    assert again.folder == local_sweep.folder
    assert again.rows == local_sweep.rows
    assert {run: (run / "events.jsonl").stat().st_mtime_ns for run in runs} == before


@pytest.mark.slow
def test_a_sweep_on_a_dask_scheduler_and_worker_matches_the_local_one(
    local_sweep: SweepResult, candles: Path, tmp_path: Path
) -> None:
    """The same grid on ``dask scheduler`` + ``dask worker`` subprocesses: the same rows, each
    run the same ``summary.json`` as the local sweep's (checked against replays above)."""
    with dask_cluster(tmp_path) as address:
        home = tmp_path / "home"
        remote = run_sweep(
            plan_sweep(candles, "ema_cross", GRID, Config(), home, scheduler=address)
        )
        client = Client(address, set_as_default=False)  # type: ignore[no-untyped-call]
        with client, pytest.raises(ClusterError, match=r"cannot read /nowhere/c\.csv.*same path"):
            check_workers(client, "/nowhere/c.csv", str(home))
    assert remote.ran == 4
    for mine, theirs in zip(remote.rows, local_sweep.rows, strict=True):
        assert {k: v for k, v in mine.items() if k != "run"} == {
            k: v for k, v in theirs.items() if k != "run"
        }
        if theirs["run"]:
            assert summary_of(mine) == summary_of(theirs)


@pytest.mark.slow
def test_a_sweep_killed_halfway_resumes_where_it_stopped(shared_data: Path, tmp_path: Path) -> None:
    """``trio-paper sweep`` on one worker is SIGKILLed (with its cluster) after two jobs; the
    same sweep again runs only the rest, and every row equals a plain replay."""
    data = cut_candles(shared_data, tmp_path / "candles.csv", 6000)
    home = tmp_path / "home"
    grid = ["fast=5,9", "slow=21,34", "stop_pct=0.5,1.0"]
    args = [str(SCRIPT), "sweep", "--home", str(home), "--file", str(data), "--workers", "1"]
    for param in grid:
        args += ["--param", param]
    cache = home / "sweeps" / "cache"
    env = {**os.environ, "BITUNIX_API_KEY": PLANTED}  # it must reach no worker and no file
    with (tmp_path / "stderr").open("wb") as err:
        process = subprocess.Popen(args, stdout=subprocess.DEVNULL, stderr=err, env=env,
                                   start_new_session=True)  # fmt: skip
        try:
            deadline = time.monotonic() + 60
            while not (cache.is_dir() and len(list(cache.glob("*.json"))) >= 2):
                assert process.poll() is None, (tmp_path / "stderr").read_text()
                assert time.monotonic() < deadline, "no job finished in a minute"
                time.sleep(0.01)
        finally:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
    done_before = len(list(cache.glob("*.json")))
    assert 2 <= done_before < 8, "the kill should land halfway"
    assert "sweep jobs: 1/8 done" in (tmp_path / "stderr").read_text()
    resumed = run_sweep(plan_sweep(data, "ema_cross", grid, Config(), home, workers=2))
    assert (resumed.cached, resumed.ran) == (done_before, 8 - done_before)
    assert [row["health"] for row in resumed.rows] == ["ok"] * 8
    for index, row in enumerate(resumed.rows):
        params = params_of(row, ["fast", "slow", "stop_pct"])
        plain = plain_replay(data, "ema_cross", params, tmp_path / f"plain-{index}")
        assert summary_of(row) == plain
    written = [p for p in home.rglob("*") if p.is_file()]
    assert len(written) > 8 * 4
    assert [p for p in written if PLANTED.encode() in p.read_bytes()] == []
    assert PLANTED not in (tmp_path / "stderr").read_text()


@pytest.mark.slow
def test_a_strategy_that_raises_is_a_row_with_its_error(
    candles: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PYTHONPATH", str(KIT_DIR.parents[1]))  # workers import it by name
    spec = "tests.app.sweepkit:RaisingEmaCross"
    result = run_sweep(
        plan_sweep(candles, spec, ["raise_after=none,100"], Config(), tmp_path, workers=1)
    )
    fine, broken = result.rows
    assert (fine["raise_after"], fine["health"], fine["error"]) == (None, "ok", None)
    assert broken["raise_after"] == 100
    assert broken["health"] == "ok: 10 strategy error(s), disabled"  # the engine's limit
    assert "planted failure after 100 bars" in broken["error"]
    assert broken["trades"] == 0


@pytest.mark.slow
def test_test_from_replays_the_best_in_sample_on_the_rest(candles: Path, tmp_path: Path) -> None:
    """Split at 2023-07-19 00:00 UTC: four combinations in sample, the best two by net PnL
    out of sample, each out-of-sample row a plain replay of the candles from the split on."""
    grid = ["fast=5,9", "slow=21,34"]
    plan = plan_sweep(
        candles, "ema_cross", grid, Config(), tmp_path / "home", workers=2,
        test_from=1689724800000, top=2,
    )  # fmt: skip
    result = run_sweep(plan)
    inside = [row for row in result.rows if row["part"] == "in-sample"]
    outside = [row for row in result.rows if row["part"] == "out-of-sample"]
    assert len(inside) == 4
    best = sorted(inside, key=lambda row: -Decimal(row["net_pnl_usdt"]))[:2]
    names = ["fast", "slow"]
    assert [params_of(r, names) for r in outside] == [params_of(r, names) for r in best]
    before, after = (
        result.folder / "inputs" / "before.csv.gz",
        result.folder / "inputs" / "after.csv.gz",
    )
    original = candles.read_text(encoding="utf-8").splitlines()
    first = gzip.decompress(before.read_bytes()).decode().splitlines()
    second = gzip.decompress(after.read_bytes()).decode().splitlines()
    assert first[0] == second[0] == original[0]
    assert first[1:] + second[1:] == original[1:]
    assert all(int(line.split(",")[0]) < 1689724800000 for line in first[1:])
    assert int(second[1].split(",")[0]) == 1689724800000
    for index, row in enumerate(outside):
        plain = plain_replay(after, "ema_cross", params_of(row, names), tmp_path / f"p{index}")
        assert summary_of(row) == plain
    page = (result.folder / "summary.html").read_text(encoding="utf-8")
    assert "In sample and out of sample" in page


@pytest.mark.parametrize(
    ("params", "message"),
    [
        (["fast"], "--param 'fast': expected NAME=VALUES"),
        (["fsat=5"], "--param fsat: strategy ema_cross has no such param (it has fast, slow"),
        (["stop_pct=1.0..0.3:0.1"], "the range is empty (1.0 > 0.3)"),
        (["fast=5,,9"], "an empty value"),
        (["fast=5", "fast=9"], "given twice"),
        ([], "the grid is empty: give at least one --param"),
    ],
)
def test_a_bad_grid_is_one_line_and_exit_2(
    candles: Path, tmp_path: Path, params: list[str], message: str
) -> None:
    args = ["sweep", "--home", str(tmp_path), "--file", str(candles)]
    for param in params:
        args += ["--param", param]
    done = cli(*args)
    assert done.returncode == 2
    assert done.stderr.count("\n") == 1, done.stderr
    assert done.stderr.startswith("trio-paper: ")
    assert message in done.stderr
    assert not (tmp_path / "sweeps").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (["--test-from", "June"], "--test-from 'June': not a date"),
        (["--test-from", "2030-01-01"], "has no candles after the split time"),
        (["--sweep-id", "../x"], "--sweep-id '../x'"),
        (["--workers", "0"], "--workers must be at least 1"),
    ],
)
def test_bad_options_are_one_line_and_exit_2(
    candles: Path, tmp_path: Path, extra: list[str], message: str
) -> None:
    done = cli("sweep", "--home", str(tmp_path), "--file", str(candles), "--param", "fast=5",
               *extra)  # fmt: skip
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1, done.stderr
    assert message in done.stderr


@pytest.mark.slow
def test_test_from_splits_a_recording_by_item_time(demo_recording: Path, tmp_path: Path) -> None:
    """The demo recording cut at 12:35 UTC: the first part is its lines before the cut as they
    are; the second a session of its own (start, connected, subscribed, then every item from
    the cut on, renumbered); each out-of-sample row is a plain replay of that second part."""
    cut = 1746707700000  # 2025-05-08T12:35:00Z
    plan = plan_sweep(
        demo_recording, "ema_cross", ["fast=3,5"], Config(), tmp_path / "home", workers=1,
        test_from=cut, top=1,
    )  # fmt: skip
    result = run_sweep(plan)
    assert [row["part"] for row in result.rows] == ["in-sample", "in-sample", "out-of-sample"]
    original = gzip.decompress(demo_recording.read_bytes()).splitlines()
    inputs = result.folder / "inputs"
    first = gzip.decompress((inputs / "before.jsonl.gz").read_bytes()).splitlines()
    second = gzip.decompress((inputs / "after.jsonl.gz").read_bytes()).splitlines()
    assert first == [original[0], *(line for line in original[1:] if orjson.loads(line)["t"] < cut)]
    assert second[0] == original[0]
    items = [orjson.loads(line) for line in second[1:]]
    assert [i["seq"] for i in items] == list(range(1, len(items) + 1))
    assert [i.get("control") for i in items[:3]] == ["start", "connected", "subscribed"]
    later = [orjson.loads(line) for line in original[1:] if orjson.loads(line)["t"] >= cut]
    assert [{**i, "seq": 0} for i in items[3:]] == [{**i, "seq": 0} for i in later]
    out = result.rows[-1]
    plain = plain_replay(inputs / "after.jsonl.gz", "ema_cross", {"fast": out["fast"]}, tmp_path)
    assert summary_of(out) == plain
    assert orjson.loads(plain)["feed"]["frames"] == sum(1 for i in later if "frame" in i)


def test_help_teaches_with_examples() -> None:
    done = cli("sweep", "--help")
    assert done.returncode == 0
    text = done.stdout
    for words in ("--param fast=5,9,13", "--scheduler tcp://", "--test-from 2025-06-01",
                  "LOW..HIGH:STEP", "shared filesystem"):  # fmt: skip
        assert words in text, words


def test_param_values_are_exact() -> None:
    assert parse_param("stop_pct=0.3..0.6:0.1").values == tuple(
        Decimal(v) for v in ("0.3", "0.4", "0.5", "0.6")
    )
    assert parse_param("fast=5..20:5").values == (5, 10, 15, 20)
    assert parse_param("target_r=none,1.5, 2").values == (None, Decimal("1.5"), 2)
    with pytest.raises(GridError, match="repeated"):
        parse_param("fast=5,5")


@pytest.mark.slow
def test_a_recording_sweeps_as_well_as_a_candle_file(demo_recording: Path, tmp_path: Path) -> None:
    """Each row of a sweep over the shipped demo recording is its plain replay."""
    grid = ["fast=3,5", "slow=8"]
    result = run_sweep(
        plan_sweep(demo_recording, "ema_cross", grid, Config(), tmp_path / "home", workers=1)
    )
    assert [row["health"] for row in result.rows] == ["ok", "ok"]
    for index, row in enumerate(result.rows):
        params = params_of(row, ["fast", "slow"])
        plain = plain_replay(demo_recording, "ema_cross", params, tmp_path / f"plain-{index}")
        assert summary_of(row) == plain
        assert orjson.loads(plain)["feed"]["frames"] > 1000


def test_without_dask_a_sweep_says_how_to_install_it(candles: Path, tmp_path: Path) -> None:
    """Where ``distributed`` cannot be imported (a broken install), one line says so."""
    hidden = tmp_path / "hidden" / "distributed"
    hidden.mkdir(parents=True)
    (hidden / "__init__.py").write_text('raise ImportError("hidden for this test")\n')
    done = subprocess.run(
        [str(SCRIPT), "sweep", "--home", str(tmp_path), "--file", str(candles),
         "--param", "fast=5"],
        capture_output=True, text=True, timeout=60, check=False,
        env={**os.environ, "PYTHONPATH": str(hidden.parent)},
    )  # fmt: skip
    assert done.returncode == 2
    assert done.stderr.splitlines()[-1] == (
        "trio-paper: a sweep runs on Dask, which cannot be imported (hidden for this test): "
        "reinstall trio-paper, which depends on dask and distributed"
    )


@pytest.mark.slow
def test_a_sweep_with_a_funding_file_charges_funding_as_replay_does(
    candles: Path, shared_data: Path, tmp_path: Path
) -> None:
    """Each row's funding is what ``replay --funding`` charges for the same params."""
    funding = shared_data / "candles" / "binance_usdm_BTCUSDT_funding_rate_8h.csv"
    plan = plan_sweep(  # slow crosses hold positions through 8-hourly settlements
        candles, "ema_cross", ["fast=20,30", "slow=60"], Config(), tmp_path / "home", workers=1,
        funding=funding,
    )  # fmt: skip
    rows = run_sweep(plan).rows
    assert [row["error"] for row in rows] == [None, None]
    for row in rows:
        params = {"fast": int(row["fast"]), "slow": int(row["slow"])}
        config = evolve(Config(), strategy={"name": "ema_cross", "params": params})
        plain = replay(candles, config, load("ema_cross", params), tmp_path / str(row["fast"]),
                       run_id="plain", funding=funding)  # fmt: skip
        summary = orjson.loads(plain.run.summary_json.read_bytes())
        assert summary["pnl"]["funding_settlements"] > 0
        assert row["funding_usdt"] == summary["pnl"]["funding"]
