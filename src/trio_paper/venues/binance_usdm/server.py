"""Binance USD-M's server side: the frames and REST bodies Binance would send, from our events.

For the simulator and for recordings synthesized from candles. Pure functions; every frame is
a combined-stream envelope as the ``/market`` and ``/public`` routes send it, and
``ws.parse_frame`` gives back the event it was built from (the round-trip tests hold it to that).
"""

from __future__ import annotations

import copy
from decimal import Decimal
from typing import Any

from ...codec import dumps, loads_object
from ...model import Bar, BarUpdate, MarkPrice, Quote, Side, Trade
from .ws import BINANCE_INTERVALS, INTERVALS, book_ticker_stream, mark_price_stream

_BY_MS = {INTERVALS[name]: binance for name, binance in BINANCE_INTERVALS.items()}


def _text(value: Decimal) -> str:
    """Plain decimal text, as Binance writes it (never ``1E+2``)."""
    return f"{value:f}"


def _push(stream: str, data: dict[str, Any]) -> str:
    return dumps({"stream": stream, "data": data}).decode()


def _interval(interval_ms: int) -> str:
    if interval_ms not in _BY_MS:
        raise ValueError(f"Binance has no {interval_ms} ms klines")
    return _BY_MS[interval_ms]


def kline_frame(update: BarUpdate, trades: int = 0, first_trade_id: int = -1) -> str:
    """A ``<symbol>@kline_<i>`` push; ``k.x`` is ``update.closed``.

    The taker-buy volumes are not in a ``BarUpdate``; they are sent as ``"0"``, and the trade
    ids as ``first_trade_id`` .. ``first_trade_id + trades - 1`` (``-1``, ``-1`` when none)."""
    interval = _interval(update.interval_ms)
    last_trade_id = first_trade_id + trades - 1 if trades else -1
    k = {
        "t": update.open_time, "T": update.open_time + update.interval_ms - 1,
        "s": update.symbol, "i": interval, "f": first_trade_id if trades else -1,
        "L": last_trade_id, "o": _text(update.open), "c": _text(update.close),
        "h": _text(update.high), "l": _text(update.low), "v": _text(update.volume), "n": trades,
        "x": update.closed, "q": _text(update.quote_volume), "V": "0", "Q": "0", "B": "0",
    }  # fmt: skip
    data = {"e": "kline", "E": update.ts, "s": update.symbol, "k": k}
    return _push(f"{update.symbol.lower()}@kline_{interval}", data)


def closed_kline_frame(bar: Bar, ts: int | None = None) -> str:
    """The push that closes ``bar`` (``x`` true), at ``ts`` (default: its last millisecond)."""
    at = bar.close_time - 1 if ts is None else ts
    return kline_frame(
        BarUpdate(
            bar.symbol, bar.interval_ms, bar.open_time, bar.open, bar.high, bar.low, bar.close,
            bar.volume, bar.quote_volume, at, closed=True,
        )
    )  # fmt: skip


def mark_price_frame(mark: MarkPrice) -> str:
    """A ``<symbol>@markPrice@1s`` push: ``r`` is ``next_funding_rate`` (else ``funding_rate``),
    ``T`` ``next_funding_time`` (``funding_time`` is implied: ``T`` minus 8 h, see
    ``ws.FUNDING_INTERVAL_MS``)."""
    rate = mark.funding_rate if mark.next_funding_rate is None else mark.next_funding_rate
    data = {
        "e": "markPriceUpdate", "E": mark.ts, "s": mark.symbol, "p": _text(mark.mark),
        "i": _text(mark.index), "P": _text(mark.index), "r": _text(rate),
        "T": mark.next_funding_time,
    }  # fmt: skip
    return _push(mark_price_stream(mark.symbol), data)


def book_ticker_frame(quote: Quote, update_id: int) -> str:
    """A ``<symbol>@bookTicker`` push; ``T`` and ``E`` are both ``quote.ts``."""
    data = {
        "e": "bookTicker", "u": update_id, "s": quote.symbol, "b": _text(quote.bid),
        "B": _text(quote.bid_qty), "a": _text(quote.ask), "A": _text(quote.ask_qty),
        "T": quote.ts, "E": quote.ts,
    }  # fmt: skip
    return _push(book_ticker_stream(quote.symbol), data)


def agg_trade_frame(trade: Trade, agg_id: int) -> str:
    """A ``<symbol>@aggTrade`` push of one trade; ``m`` (buyer is maker) when the taker sold."""
    data = {
        "e": "aggTrade", "E": trade.ts, "a": agg_id, "s": trade.symbol, "p": _text(trade.price),
        "q": _text(trade.qty), "f": agg_id, "l": agg_id, "T": trade.time,
        "m": trade.side is Side.SELL,
    }  # fmt: skip
    return _push(f"{trade.symbol.lower()}@aggTrade", data)


def subscribe_answer(request_id: int) -> str:
    """Binance's answer to a valid SUBSCRIBE: ``{"result":null,"id":N}``."""
    return dumps({"result": None, "id": request_id}).decode()


def klines_body(bars: list[Bar], forming: BarUpdate | None = None) -> bytes:
    """The ``/fapi/v1/klines`` response for these bars, oldest first, with the forming bar last
    when given (as Binance sends it when the range reaches now)."""
    rows = [_row(b.open_time, b.interval_ms, b.open, b.high, b.low, b.close, b.volume,
                 b.quote_volume) for b in sorted(bars, key=lambda b: b.open_time)]  # fmt: skip
    if forming is not None:
        f = forming
        rows.append(_row(f.open_time, f.interval_ms, f.open, f.high, f.low, f.close, f.volume,
                         f.quote_volume))  # fmt: skip
    return dumps(rows)


def _row(
    open_time: int, interval_ms: int, o: Decimal, h: Decimal, low: Decimal, c: Decimal,
    volume: Decimal, quote_volume: Decimal,
) -> list[object]:  # fmt: skip
    return [
        open_time, _text(o), _text(h), _text(low), _text(c), _text(volume),
        open_time + interval_ms - 1, _text(quote_volume), 0, "0", "0", "0",
    ]  # fmt: skip


def error_body(code: int, message: str) -> bytes:
    """A REST error as Binance sends it, e.g. ``error_body(-1121, "Invalid symbol.")``."""
    return dumps({"code": code, "msg": message})


_TIME_KEYS = ("E", "T")
_KLINE_TIME_KEYS = ("t", "T")


def shift_push(raw: str | bytes, shift_ms: int) -> str:
    """A recorded push moved in time by ``shift_ms``: ``E``, ``T``, ``k.t`` and ``k.T``.

    For the simulator replaying a real capture "now". ``T`` of a mark-price push (the next
    funding time) moves too, so keep ``shift_ms`` a multiple of 8 h where funding matters, and a
    multiple of the bar interval where bars must stay on their boundaries. Key order and every
    other byte of the payload are kept; ``T = 0`` (no funding) stays 0."""
    frame = loads_object(raw)
    shift_frame(frame, shift_ms)
    return dumps(frame).decode()


def shift_frame(frame: dict[str, Any], shift_ms: int) -> None:
    """``shift_push`` on a parsed frame, in place (the simulator holds pushes parsed)."""
    data = frame.get("data", frame)
    if type(data) is dict:
        for key in _TIME_KEYS:
            if type(data.get(key)) is int and data[key] != 0:
                data[key] += shift_ms
        k = data.get("k")
        if type(k) is dict:
            for key in _KLINE_TIME_KEYS:
                if type(k.get(key)) is int:
                    k[key] += shift_ms


ABSURD_VALUES: dict[str, list[tuple[str, str]]] = {
    "bookTicker": [("a", "1e30"), ("b", "1e-20")],
    "markPriceUpdate": [("r", "5"), ("p", "1e30")],
    "aggTrade": [("p", "1e30")],
}
"""What an absurd copy of each event sets in turn (a key of ``data``, the value): an ask of 1e30,
a bid of 1e-20, a funding rate of 500 %, a mark or a trade at 1e30. A kline gets a high and close
of 1e30 (consistent OHLC, still absurd); any other event a time of 2**63-1."""


def absurd_copy(push: dict[str, Any], variant: int) -> dict[str, Any]:
    """A copy of the envelope ``push`` with a schema-valid value no exchange can mean (the
    sanity bounds' business, not the schema's)."""
    absurd = copy.deepcopy(push)
    data = absurd.get("data")
    if type(data) is not dict:
        return absurd
    kline = data.get("k")
    if data.get("e") == "kline" and type(kline) is dict:
        kline["h"] = kline["c"] = "1e30"
        return absurd
    paths = ABSURD_VALUES.get(str(data.get("e")))
    if not paths:
        data["E"] = 2**63 - 1
        return absurd
    key, value = paths[variant % len(paths)]
    data[key] = value
    return absurd


def future_copy(push: dict[str, Any], variant: int) -> dict[str, Any]:
    """A copy of the envelope ``push`` stamped far in the future: an event time ``E`` of
    2**63-1, then 2**62."""
    future = copy.deepcopy(push)
    data = future.get("data")
    if type(data) is dict:
        data["E"] = 2**63 - 1 if variant % 2 == 0 else 2**62
    return future
