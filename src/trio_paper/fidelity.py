"""What a run models, in words: for a bars-only replay's ``session_start`` and every summary.

A backtest on candles leaves things out that a live session has (quotes, mark prices, the order of
high and low inside a bar). The summary and the report say which model produced the numbers, so
nobody mistakes a bars-only result for a live one.
"""

from __future__ import annotations

from .config import Config

NOT_MODELLED = "queue position; the order of high and low inside a bar"

LIVE_MODEL = {
    "data": "market data as received (quotes, trades, klines, mark prices)",
    "fills": "market orders at the fresh bid or ask (else the last price) ± slippage",
    "funding": "charged at each settlement of the venue's mark-price events",
    "liquidation": "on the mark while it is fresh, else the last fresh price",
}
"""A live session or the replay of its recording; its journal carries no ``model``."""


def bars_only_model(config: Config, candles: str, funding: str | None) -> dict[str, str]:
    """The model of a candle replay: ``candles`` names the file, ``funding`` describes the
    funding schedule (None: no ``--funding`` file, so funding is not modelled)."""
    if config.broker.fill_at == "next_open":
        fills = "market orders at the next bar's open ± slippage (fill_at: next_open)"
    else:
        fills = "market orders at the signal bar's close ± slippage (fill_at: close)"
    return {
        "data": f"bars only: {config.venue.interval} candles from {candles}",
        "fills": fills,
        "funding": funding if funding is not None else "not modelled (no --funding file)",
        "liquidation": (
            "on the bar's range (a long at its low, a short at its high); a stop before the "
            "liquidation price fills first"
        ),
        "not_modelled": NOT_MODELLED,
    }
