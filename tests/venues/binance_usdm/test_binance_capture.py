"""The real 2021 capture through the whole sans-IO path: ``Client.receive`` → ``MarketDecoder``.

Each of the four symbols' minute 2021-07-22T22:25Z closes once, with nothing refused or missing:
on its ``x`` push, except where that push came later than the bar grace allows (KEEPUSDT's came
2,004 ms after the minute: the timer closed the bar first, with the same values, on another
symbol's frame of that millisecond, and the push counts as late).
"""

from __future__ import annotations

import gzip
import json
from decimal import Decimal as D
from pathlib import Path

import pytest

from tests.venues.binance_usdm.binance_frames import RECORDING
from trio_paper.model import Bar, BarUpdate
from trio_paper.venues.bars import BarCounts
from trio_paper.venues.binance_usdm.ws import Client
from trio_paper.venues.decoder import MarketDecoder

MINUTE = 1626992700000  # 2021-07-22T22:25:00Z
GRACE_MS = 2_000


def _received() -> list[tuple[int, str]]:
    with gzip.open(RECORDING, "rt", encoding="utf-8") as f:
        lines = [json.loads(line) for line in f]
    return [(int(line["recv_ts"] * 1000), line["raw"]) for line in lines if line["dir"] == "in"]


@pytest.mark.parametrize(
    ("symbol", "market_frames", "closed_at", "late"),
    [
        ("SUSHIUSDT", 367, 1626992760247, 0), ("AKROUSDT", 104, 1626992762049, 0),
        ("KEEPUSDT", 85, 1626992762049, 1), ("CTKUSDT", 215, 1626992760837, 0),
    ],
)  # fmt: skip
def test_each_symbols_minute_closes_once(
    shared_data: Path, symbol: str, market_frames: int, closed_at: int, late: int
) -> None:
    decoder = MarketDecoder.create(symbol, 60_000, GRACE_MS)
    client = Client(symbol)
    market = 0
    bars: list[tuple[int, Bar]] = []
    for t, raw in _received():
        received = client.receive(raw)
        assert received.parsed is not None, received.error
        market += received.market
        bars += [(t, e) for e in decoder.on_frame(t, received.parsed) if isinstance(e, Bar)]
        bars += [(t, bar) for bar in decoder.on_clock(t)]
    assert market == market_frames
    ((t, bar),) = bars
    assert (t, bar.open_time, bar.source) == (closed_at, MINUTE, "ws")
    assert decoder.bars.counts == BarCounts(late=late)
    assert decoder.counts.bad_frames == decoder.counts.unknown_keys == 0


def test_the_bar_is_the_closed_push_field_by_field(shared_data: Path) -> None:
    decoder = MarketDecoder.create("SUSHIUSDT", 60_000, GRACE_MS)
    out = []
    for t, raw in _received():
        parsed = Client("SUSHIUSDT").receive(raw).parsed
        assert parsed is not None
        out += decoder.on_frame(t, parsed)
    closing = next(i for i, e in enumerate(out) if isinstance(e, Bar))
    last_push = out[closing - 1]
    assert isinstance(last_push, BarUpdate)
    assert last_push.closed
    assert out[closing] == Bar(
        "SUSHIUSDT", 60_000, MINUTE, D("7.6080"), D("7.6180"), D("7.6070"), D("7.6170"),
        D("3005"), D("22875.8590"), "ws",
    )  # fmt: skip
