"""summary.html in a real browser: replay the shipped demo, render it in headless Chromium, and
look at the pixels — the price line, the trade markers and the equity curve must be drawn."""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

import pytest
from PIL import Image

from tests.report.journalkit import five_thousand_trades
from trio_paper.app.replay import replay
from trio_paper.config import Config
from trio_paper.engine.strategies import load
from trio_paper.report.chart import (
    BUY_COLOR,
    CANDLE_COLOR,
    EQUITY_COLOR,
    PRICE_COLOR,
    SELL_COLOR,
)
from trio_paper.store.rundir import RunDir

CHROMIUM = Path("/usr/bin/chromium")
WINDOW = (1280, 2000)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@pytest.fixture(scope="module")
def demo_run(tmp_path_factory: pytest.TempPathFactory, demo_recording: Path) -> RunDir:
    home = tmp_path_factory.mktemp("home")
    result = replay(demo_recording, Config(), load("ema_cross", {}), home, run_id="demo")
    return result.run


def _chromium(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[bytes]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package (CI does)")
    command = [
        str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--hide-scrollbars", f"--user-data-dir={tmp_path / 'profile'}", *args,
    ]  # fmt: skip
    return subprocess.run(command, capture_output=True, timeout=90, check=True)


def _rgb(color: str) -> tuple[int, int, int]:
    return int(color[1:3], 16), int(color[3:5], 16), int(color[5:7], 16)


def _pixels_near(image: Image.Image, color: str, tolerance: int = 10) -> list[tuple[int, int]]:
    """Where ``image`` (RGB) has ``color``, give or take ``tolerance`` per channel."""
    r, g, b = _rgb(color)
    data, width = image.tobytes(), image.width
    return [
        (i // 3 % width, i // 3 // width)
        for i in range(0, len(data), 3)
        if abs(data[i] - r) <= tolerance
        and abs(data[i + 1] - g) <= tolerance
        and abs(data[i + 2] - b) <= tolerance
    ]


def test_the_charts_are_drawn(demo_run: RunDir, tmp_path: Path) -> None:
    png = tmp_path / "summary.png"
    _chromium(
        tmp_path, f"--screenshot={png}", f"--window-size={WINDOW[0]},{WINDOW[1]}",
        demo_run.summary_html.as_uri(),
    )  # fmt: skip
    image = Image.open(png).convert("RGB")
    assert image.size == WINDOW

    # Twelve bars: drawn as candlesticks, from one side of the chart to the other.
    equity = _pixels_near(image, EQUITY_COLOR)
    top_of_equity = min(y for _, y in equity)
    price = [(x, y) for x, y in _pixels_near(image, CANDLE_COLOR) if y < top_of_equity]
    columns = {x for x, _ in price}
    assert len(price) > 1000, "the candles are missing"
    assert max(columns) - min(columns) > 0.7 * WINDOW[0], "the candles do not span the chart"
    rows = {y for _, y in price}
    assert max(rows) - min(rows) > 100, "the candles are flat: the y axis is not scaled"

    assert len({x for x, _ in equity}) > 0.7 * WINDOW[0], "the equity curve is missing"
    assert top_of_equity > min(rows) + 300, "the equity chart is not below the price"

    trades = json.loads(demo_run.summary_json.read_text())["trades"]["count"]
    assert trades > 0, "the demo recording should trade"
    assert len(_pixels_near(image, BUY_COLOR)) > 30, "no buy marker is drawn"
    assert len(_pixels_near(image, SELL_COLOR)) > 30, "no sell marker is drawn"


def test_the_dom_holds_the_svg_charts(demo_run: RunDir, tmp_path: Path) -> None:
    dom = _chromium(tmp_path, "--dump-dom", demo_run.summary_html.as_uri()).stdout.decode()
    assert dom.count('<svg class="chart"') == 2
    bodies = re.findall(r'<path class="candles (?:up|down)" d="([^"]*)"', dom)
    bars = json.loads(demo_run.summary_json.read_text())["equity_curve"]["bars"]
    assert sum(body.count("z") for body in bodies) == bars  # one candle per bar
    summary = json.loads(demo_run.summary_json.read_text())
    fills = dom.count("<title>buy ") + dom.count("<title>sell ")
    assert fills == 2 * summary["trades"]["count"]  # one entry and one exit marker per trade
    body = dom[dom.index('<table class="trades">') :]
    body = body[: body.index("</table>")]
    assert body.count("<tr>") == summary["trades"]["count"] + 1


def test_five_thousand_trades_stay_readable(tmp_path: Path) -> None:
    """Five days of bars and 5,000 round trips: the price line still runs across the chart,
    the markers are merged to a few hundred (each says how many fills it stands for), the
    last bars get a candlestick close-up, and the page stays small."""
    run = five_thousand_trades(tmp_path / "run")
    page = run.summary_html.read_text()
    assert len(page) < 1_000_000
    main_chart = page[page.index("<h2>Price</h2>") : page.index("<h2>Close-up</h2>")]
    marks = main_chart.count("<title>buy ") + main_chart.count("<title>sell ")
    marks += main_chart.count(" fills (")
    assert 50 < marks <= 240
    assert re.search(r"<title>\d+ fills \((?:buy|sell) (?:entry|exit)\) from ", main_chart)
    closeup = page[page.index("<h2>Close-up</h2>") : page.index("<h2>Equity</h2>")]
    assert closeup.count('class="candles up"') == 1
    png = tmp_path / "summary.png"
    _chromium(
        tmp_path, f"--screenshot={png}", f"--window-size={WINDOW[0]},{WINDOW[1]}",
        run.summary_html.as_uri(),
    )  # fmt: skip
    image = Image.open(png).convert("RGB")
    line = _pixels_near(image, PRICE_COLOR)
    assert len({x for x, _ in line}) > 0.7 * WINDOW[0], "markers hide the price line"
    assert len(_pixels_near(image, CANDLE_COLOR)) > 1000, "the close-up has no candles"
