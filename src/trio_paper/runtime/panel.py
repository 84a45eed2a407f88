"""What a running session shows: a live panel on a terminal, a status log line otherwise."""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import trio
from rich.console import Console
from rich.live import Live
from rich.table import Table

from ..core import Core
from ..engine.records import RecordType
from ..scrub import scrub_text
from .feed import FeedStatus

log = logging.getLogger("trio_paper.status")
_SHOWN = frozenset({RecordType.FILL, RecordType.EXIT, RecordType.RISK, RecordType.FEED})


class StatusBoard:
    """The session's numbers for people: a rich panel on a terminal, a log line otherwise."""

    def __init__(
        self, core: Core, feed: Callable[[], FeedStatus], tty: bool, mode: str = "live"
    ) -> None:
        self.mode = mode
        self.core = core
        self.feed_status = feed
        self.tty = tty
        self.deadline = math.inf
        self.fills = 0
        self.last_event = ""
        self._frames_seen = 0
        self._rate_at: float | None = None
        self.frame_rate = 0.0

    def on_records(self, records: list[dict[str, Any]]) -> None:
        for record in records:
            if record["type"] == RecordType.FILL:
                self.fills += 1
            if record["type"] in _SHOWN:
                detail = record.get("event") or record.get("reason") or record.get("side") or ""
                self.last_event = f"{record['type']} {detail}"

    def snapshot(self) -> dict[str, Any]:
        """The numbers the panel and the log line show."""
        now = trio.current_time()
        feed = self.feed_status()
        if self._rate_at is None:
            self._rate_at = now
        elif now - self._rate_at >= 1:
            self.frame_rate = (feed.frames - self._frames_seen) / (now - self._rate_at)
            self._frames_seen, self._rate_at = feed.frames, now
        broker = self.core.engine.broker
        market = broker.state.market
        quote = market.quote
        position = broker.position
        age = now - feed.last_frame if feed.last_frame is not None else None
        tick = self.core.settings.broker.tick_size
        price = broker.last_price()
        return {
            "strategy": self.core.engine.strategy.name, "mode": self.mode,
            "price": _on_grid(price, tick) if price is not None else None,
            "entry": position.entry if position.qty else None,
            "stop": position.stop if position.qty else None,
            "realized": broker.state.account.realized, "trades": broker.closed_trades(),
            "bid": quote.bid if quote else None,
            "ask": quote.ask if quote else None, "position": broker.position.qty,
            "unrealized": broker.unrealized(), "equity": broker.equity(),
            "frames_per_s": self.frame_rate, "last_frame_age_s": age,
            "connected": feed.connected, "reconnects": max(0, feed.connects - 1),
            "fills": self.fills, "left_s": max(0.0, self.deadline - now),
            "last_error": feed.last_error, "last_event": self.last_event,
        }  # fmt: skip

    async def run(self, log_every: float) -> None:
        self._frames_seen, self._rate_at = self.feed_status().frames, trio.current_time()
        if self.tty:
            await self._panel()
        else:
            while True:
                await trio.sleep(log_every)
                log.info("status %s", _line(self.snapshot()))

    async def _panel(self) -> None:
        console = Console(stderr=True)
        with Live(self._table(), console=console, refresh_per_second=2, transient=False) as live:
            while True:
                await trio.sleep(0.5)
                live.update(self._table())

    def _table(self) -> Table:
        s = self.snapshot()
        title = f"trio-paper — {s['strategy']}, {s['mode']}"
        table = Table(title=title, show_header=False, expand=False)
        table.add_column(style="bold")
        table.add_column(justify="right", max_width=PANEL_TEXT, overflow="ellipsis", no_wrap=True)
        age = s["last_frame_age_s"]
        feed = "connected" if s["connected"] else f"down: {s['last_error'] or 'connecting'}"
        book = f"{_money(s['bid'])} / {_money(s['ask'])}"
        position = str(s["position"])
        if s["entry"] is not None:
            position += f" @ {_money(s['entry'])}, stop {_money(s['stop'])}"
        rows = [
            ("price", _money(s["price"])), ("bid / ask", book), ("position", position),
            ("unrealized PnL", _money(s["unrealized"])), ("realized PnL", _money(s["realized"])),
            ("trades", str(s["trades"])),
            ("equity", _money(s["equity"])), ("frames/s", f"{s['frames_per_s']:.1f}"),
            ("last frame", "—" if age is None else f"{age:.1f} s ago"), ("feed", feed),
            ("reconnects", str(s["reconnects"])), ("fills", str(s["fills"])),
            ("last event", s["last_event"] or "—"), ("time left", _duration(s["left_s"])),
        ]  # fmt: skip
        for name, value in rows:  # scrubbed whole: rich may cut a line mid-secret
            table.add_row(name, scrub_text(value))
        return table


PANEL_TEXT = 60
"""The widest a panel value may be: a long error text is cut with an ellipsis, not wrapped."""


def _on_grid(price: Decimal, tick: Decimal) -> Decimal:
    """A mid price between two ticks (bid and ask one tick apart) shown on the tick grid."""
    return (price / tick).to_integral_value() * tick


def _money(value: Decimal | None) -> str:
    return "—" if value is None else f"{value:,.2f}"


def _duration(seconds: float) -> str:
    if math.isinf(seconds):
        return "—"
    minutes, secs = divmod(int(seconds), 60)
    return f"{minutes}:{secs:02d}"


def _line(s: dict[str, Any]) -> str:
    age = s["last_frame_age_s"]
    return (
        f"price={_money(s['price'])} bid={_money(s['bid'])} ask={_money(s['ask'])} "
        f"position={s['position']} upnl={_money(s['unrealized'])} equity={_money(s['equity'])} "
        f"frames/s={s['frames_per_s']:.1f} last_frame={'-' if age is None else f'{age:.1f}s'} "
        f"feed={'up' if s['connected'] else 'down'} reconnects={s['reconnects']} "
        f"left={_duration(s['left_s'])}"
    )
