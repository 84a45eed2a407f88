"""Bad input on the command line: one line naming what and where, exit code 2, nothing left
behind — and the exit codes of the one table in ``errors.py``."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from trio_paper.cli import build_parser, main
from trio_paper.errors import Exit, exit_codes_text

CANDLES = Path(__file__).resolve().parents[2] / "shared" / "data" / "candles"
FIVE_MINUTES = CANDLES / "binance_usdm_BTCUSDT_5m_2025-09_2025-10.csv.gz"


def run(*argv: str) -> int:
    """``trio-paper ARGV`` in-process: its exit code."""
    try:
        return main(list(argv))
    except SystemExit as stop:
        return int(stop.code or 0)


def one_line(capsys: pytest.CaptureFixture[str]) -> str:
    err = capsys.readouterr().err.strip()
    assert "\n" not in err, err
    assert "Traceback" not in err
    return err


def candles(path: Path, rows: int, step_ms: int = 60_000) -> Path:
    lines = ["open_time_ms,open,high,low,close,volume"]
    for i in range(rows):
        price = 100 + (i % 7)
        lines.append(f"{1_700_000_000_000 + i * step_ms},{price},{price + 1},{price - 1},{price},5")
    path.write_text("\n".join(lines) + "\n")
    return path


def test_options_are_never_abbreviated(capsys: pytest.CaptureFixture[str]) -> None:
    """``--venue`` once read as ``--venue-url binance_usdm``: now it is an unknown option."""
    with pytest.raises(SystemExit) as stop:
        build_parser().parse_args(["run", "--venue-u", "ws://x"])
    assert stop.value.code == Exit.USAGE
    assert "unrecognized arguments: --venue-u" in capsys.readouterr().err


@pytest.mark.parametrize("minutes", ["inf", "nan", "-1", "0", "1e9"])
def test_minutes_must_be_finite_positive_and_sane(
    minutes: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as stop:
        build_parser().parse_args(["run", "--minutes", minutes])
    assert stop.value.code == Exit.USAGE
    assert "argument --minutes" in capsys.readouterr().err


def test_a_yaml_error_names_the_file_line_and_column(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("venue:\n  symbol: [BTCUSDT\nfeed: {}\n")
    assert run("--home", str(tmp_path), "status") == Exit.USAGE
    assert one_line(capsys).startswith(f"trio-paper: {config}:3:")


def test_a_bad_sim_fault_names_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = run("--home", str(tmp_path), "run", "--sim", "--sim-fault", "drop@soon")
    assert code == Exit.USAGE
    assert one_line(capsys).startswith("trio-paper: --sim-fault 'drop@soon':")
    assert list(tmp_path.iterdir()) == []


def _bad_inputs(tmp_path: Path) -> dict[str, tuple[Path, str]]:
    binary = tmp_path / "binary.csv"
    binary.write_bytes(bytes(range(256)) * 4)
    not_gzip = tmp_path / "plain.csv.gz"
    not_gzip.write_text("open_time_ms,open,high,low,close,volume\n")
    whole = gzip.compress(candles(tmp_path / "c.csv", 2000).read_bytes())
    truncated = tmp_path / "cut.csv.gz"
    truncated.write_bytes(whole[: len(whole) // 2])
    folder = tmp_path / "folder"
    folder.mkdir()
    absurd = candles(tmp_path / "absurd.csv", 3000)  # row 2,500 has a high of 1e30
    lines = absurd.read_text().splitlines()
    lines[2500] = lines[2500].replace(",101,", ",1000000000000000000000000000000,", 1)
    absurd.write_text("\n".join(lines) + "\n")
    return {
        "binary": (binary, "not UTF-8 text: a binary file?"),
        "not gzip": (not_gzip, "plain.csv.gz: not a readable gzip file"),
        "truncated": (truncated, "cut.csv.gz:"),
        "directory": (folder, "a directory, not a file"),
        "absurd": (absurd, "absurd.csv:2501: a price outside [0.1, 10000000]"),
    }


@pytest.mark.parametrize("case", ["binary", "not gzip", "truncated", "directory", "absurd"])
def test_a_bad_input_file_is_one_line_and_leaves_no_run(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path, says = _bad_inputs(tmp_path)[case]
    home = tmp_path / "home"
    assert run("--home", str(home), "replay", "--file", str(path)) == Exit.USAGE
    assert says in one_line(capsys)
    assert not (home / "runs").exists() or list((home / "runs").iterdir()) == []


def test_a_five_minute_file_is_not_replayed_as_one_minute_bars(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    home = tmp_path / "home"
    path = candles(tmp_path / "five.csv", 300, step_ms=300_000)
    assert run("--home", str(home), "replay", "--file", str(path)) == Exit.USAGE
    message = one_line(capsys)
    assert "300 s apart" in message
    assert "venue.interval is 1min" in message
    assert "--interval 5min" in message
    assert run("--home", str(home), "replay", "--file", str(path), "--interval", "5min") == 0
    assert '"interval": "5min"' in (home / "runs" / "latest" / "summary.json").read_text()


def replay_with_strategy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str, method: str
) -> int:
    """Replay 50 candles with ``name``: an ``EmaCross`` whose ``method`` is ``method`` (source
    text), from a module in the test's folder."""
    (tmp_path / f"{name.lower()}_strategy.py").write_text(
        "from trio_paper.engine.strategies.ema_cross import EmaCross\n"
        f"class {name}(EmaCross):\n{method}"
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    path = candles(tmp_path / "c.csv", 50)
    return run("--home", str(tmp_path), "replay", "--file", str(path),
               "--strategy", f"{name.lower()}_strategy:{name}")  # fmt: skip


def test_a_strategy_whose_constructor_raises_is_one_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    method = "    def __init__(self, params):\n        raise RuntimeError('no model file')\n"
    assert replay_with_strategy(tmp_path, monkeypatch, "Broken", method) == Exit.USAGE
    assert one_line(capsys) == (
        "trio-paper: strategy broken_strategy:Broken: cannot start (RuntimeError: no model file)"
    )


def test_a_replay_whose_strategy_was_disabled_exits_non_zero(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    method = "    def on_bar(self, bar, view):\n        raise ValueError('bug')\n"
    assert replay_with_strategy(tmp_path, monkeypatch, "Raising", method) == Exit.STRATEGY_FAILED
    assert "disabled" in capsys.readouterr().err


def test_every_exit_code_is_in_help_and_readme() -> None:
    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    text = exit_codes_text()
    for code in Exit:
        assert f"{int(code):>3}  {code.description}" in text
        assert f"| {int(code)} | {code.description} |" in readme, code
