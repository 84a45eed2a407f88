"""A symbol's tick and lot step from a real exchangeInfo answer (2021-07-22, via cryptofeed)."""

from __future__ import annotations

import gzip
import json
from decimal import Decimal as D
from pathlib import Path

import pytest

from tests.venues.binance_usdm.binance_frames import EXCHANGE_INFO
from trio_paper.codec import MalformedMessage
from trio_paper.venues.binance_usdm.instrument import SymbolFilters, symbol_filters


def _answer() -> str:
    """The capture is ``<url> -> <time>: <json>`` on its first line."""
    with gzip.open(EXCHANGE_INFO, "rt", encoding="utf-8") as f:
        first = f.readline()
    return first[first.index("{") :]


def test_btcusdt_ticks_at_one_cent_and_steps_at_a_thousandth(shared_data: Path) -> None:
    assert symbol_filters(_answer(), "BTCUSDT") == SymbolFilters(
        "BTCUSDT", D("0.01"), D("0.001"), D("0.001"), D("5")
    )


def test_every_listed_symbol_has_a_tick_and_a_step(shared_data: Path) -> None:
    answer = _answer()
    names = [entry["symbol"] for entry in json.loads(answer)["symbols"]]
    assert len(names) > 100
    for name in names:
        filters = symbol_filters(answer, name)
        assert filters.tick_size > 0
        assert filters.lot_step > 0


def test_an_unlisted_symbol_is_named(shared_data: Path) -> None:
    with pytest.raises(MalformedMessage, match="'NOPEUSDT' is not listed") as caught:
        symbol_filters(_answer(), "NOPEUSDT")
    assert caught.value.where == "$.symbols"


@pytest.mark.parametrize(
    ("filters", "where", "reason"),
    [
        ([], "$.symbols[0].filters", "no PRICE_FILTER filter"),
        ([{"filterType": "PRICE_FILTER", "tickSize": 0.01}], "$.symbols[0].filters[0].tickSize",
         "expected a decimal string"),
        ([{"filterType": "PRICE_FILTER", "tickSize": "0"}], "$.symbols[0].filters[0].tickSize",
         "must be > 0"),
        ([{"filterType": "PRICE_FILTER", "tickSize": "0.1"}, {"filterType": "LOT_SIZE"}],
         "$.symbols[0].filters[1].stepSize", "required key missing"),
        ("none", "$.symbols[0].filters", "expected a list of filters"),
    ],
)  # fmt: skip
def test_bad_filters_are_refused_with_a_path(filters: object, where: str, reason: str) -> None:
    body = json.dumps({"symbols": [{"symbol": "BTCUSDT", "filters": filters}]})
    with pytest.raises(MalformedMessage) as caught:
        symbol_filters(body, "BTCUSDT")
    assert caught.value.where == where
    assert caught.value.reason.startswith(reason)
