"""The live page in headless Chromium during a ``--sim`` session: the price it shows changes.

The page never finishes loading (its event stream stays open), so ``--dump-dom`` cannot be
used; the test reads the page through Chromium's DevTools protocol instead, over a WebSocket.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import httpx
import orjson
import pytest
import trio
from trio_websocket import open_websocket_url

from tests.runtime.sessionkit import command, make_home, wait_for
from tests.runtime.test_watch_session import _served_port

CHROMIUM = Path("/usr/bin/chromium")

pytestmark = [pytest.mark.browser, pytest.mark.slow]


@attrs.frozen
class Browsing:
    devtools_port: int
    page: str


@pytest.fixture
def browsing(tmp_path: Path) -> Iterator[Browsing]:
    if not CHROMIUM.exists():
        pytest.skip(f"{CHROMIUM} is missing: install Debian's chromium package (CI does)")
    home = make_home(tmp_path)
    session = subprocess.Popen(
        command(home, "run", "--sim", "--minutes", "1", "--serve", "127.0.0.1:0"),
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    browser: subprocess.Popen[bytes] | None = None
    try:
        page = f"http://127.0.0.1:{_served_port(home)}/"
        profile = tmp_path / "profile"
        browser = subprocess.Popen(
            [
                str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run",
                "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--remote-debugging-port=0", f"--user-data-dir={profile}", "about:blank",
            ],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )  # fmt: skip
        active = profile / "DevToolsActivePort"
        wait_for(lambda: active.exists() and active.read_text().count("\n") >= 1, 30, "devtools")
        yield Browsing(int(active.read_text().splitlines()[0]), page)
    finally:
        for process in (browser, session):
            if process is not None and process.poll() is None:
                process.kill()
                process.wait(30)


async def _call(ws: Any, ids: Iterator[int], method: str, **params: Any) -> Any:
    number = next(ids)
    message = {"id": number, "method": method, "params": params}
    await ws.send_message(orjson.dumps(message).decode())  # DevTools takes text frames only
    while True:
        reply = orjson.loads(await ws.get_message())
        if reply.get("id") == number:
            return reply["result"]


async def _evaluate(ws: Any, ids: Iterator[int], expression: str) -> Any:
    reply = await _call(ws, ids, "Runtime.evaluate", expression=expression, returnByValue=True)
    return reply["result"].get("value")


async def test_the_live_page_shows_the_price_changing(browsing: Browsing) -> None:
    with trio.fail_after(60):
        async with httpx.AsyncClient() as client:
            targets: list[dict[str, Any]] = []
            while not [t for t in targets if t["type"] == "page"]:
                await trio.sleep(0.2)
                reply = await client.get(f"http://127.0.0.1:{browsing.devtools_port}/json/list")
                targets = reply.json()
        [target] = [t for t in targets if t["type"] == "page"]
        async with open_websocket_url(target["webSocketDebuggerUrl"]) as ws:
            ids = iter(range(1, 10_000))
            await _call(ws, ids, "Page.navigate", url=browsing.page)
            read = "document.getElementById('price').textContent"
            seen: list[str] = []
            while len(set(seen) - {"—"}) < 2:
                shown = await _evaluate(ws, ids, read)  # None until the page has loaded
                seen.append("—" if shown is None else shown)
                await trio.sleep(0.25)
            points = await _evaluate(ws, ids, "document.getElementById('points').textContent")
            feed = await _evaluate(ws, ids, "document.getElementById('feed').textContent")
            line = await _evaluate(
                ws, ids, "document.querySelector('#chart polyline').getAttribute('points')"
            )
            equity = await _evaluate(
                ws, ids, "document.querySelector('#equity-chart polyline').getAttribute('points')"
            )
    prices = [p for p in seen if p != "—"]
    assert all(p.replace(",", "").replace(".", "").isdigit() for p in prices), prices
    assert int(points.split()[0]) >= 2
    assert feed == "up"
    assert len(set(line.split())) >= 2
    assert len(equity.split()) >= 2
