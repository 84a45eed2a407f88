"""The simulated exchange's REST kline endpoint, on a small HTTP/1.1 server (h11 over trio).

Bitunix's (``KlineEndpoint``) and Binance's (``BinanceKlineEndpoint``): the same rate limit and
routing, each venue's query rules and error bodies.

Bitunix answers errors with HTTP 200 and a non-zero ``code``; so does this. Codes 20015
(unknown symbol) and 10006 (rate limit) are Bitunix's; 10002, for a bad or missing parameter,
is the simulator's own choice (PROTOCOL.md does not record Bitunix's).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable
from urllib.parse import parse_qs, urlsplit

import attrs
import h11
import trio

from ..codec import dumps
from ..venues.binance_usdm import rest as binance_rest
from ..venues.binance_usdm import rest_server as binance_rest_server
from ..venues.binance_usdm import server as binance_server
from ..venues.bitunix import rest as bitunix_rest
from ..venues.bitunix import ws as bitunix
from .rules import ExchangeRules
from .stats import SimStats
from .timeline import Timeline

UNKNOWN_SYMBOL = 20015
RATE_LIMITED = 10006
BAD_PARAMETER = 10002
_DEFAULT_LIMIT = 100
_REST_TO_MS = {rest: bitunix.INTERVALS[ws] for ws, rest in bitunix_rest.REST_INTERVALS.items()}
_IDLE_S = 60.0
"""A keep-alive connection with no request for this long is closed."""

Responder = Callable[[str, str], tuple[int, bytes]]
"""``(method, target) → (HTTP status, body)``."""


class _BadParameter(Exception):
    pass


class KlineEndpoint:
    """Answers ``GET /api/v1/futures/market/kline`` from the timeline's closed bars."""

    path = bitunix_rest.KLINE_PATH

    def __init__(self, timeline: Timeline, rules: ExchangeRules, stats: SimStats) -> None:
        self.timeline = timeline
        self.rules = rules
        self.stats = stats
        self._recent: deque[float] = deque()

    def respond(self, method: str, target: str) -> tuple[int, bytes]:
        self.stats.rest_requests += 1
        now = trio.current_time()
        self._recent.append(now)
        while self._recent[0] <= now - 1.0:
            self._recent.popleft()
        if len(self._recent) > self.rules.rest_requests_per_s:
            self.stats.rest_rate_limited += 1
            return self.rate_limited()
        url = urlsplit(target)
        if url.path != self.path:
            return 404, _error(404, "Not Found")
        if method != "GET":
            return 405, _error(405, "Method Not Allowed")
        return self.answer(parse_qs(url.query, keep_blank_values=True))

    def rate_limited(self) -> tuple[int, bytes]:
        return 200, _error(RATE_LIMITED, "Request too frequent, please try again later")

    def answer(self, query: dict[str, list[str]]) -> tuple[int, bytes]:
        try:
            return 200, self._klines(query)
        except _BadParameter as exc:
            return 200, _error(BAD_PARAMETER, f"Parameter error: {exc}")

    def _klines(self, query: dict[str, list[str]]) -> bytes:
        symbol = _text(query, "symbol").upper()
        interval = _text(query, "interval")
        if interval not in _REST_TO_MS:
            raise _BadParameter(f"interval {interval!r}")
        kind = _text(query, "type", "LAST_PRICE")
        if kind != "LAST_PRICE":
            raise _BadParameter(f"type {kind!r}: the simulator serves LAST_PRICE only")
        limit = min(_number(query, "limit", _DEFAULT_LIMIT), self.rules.max_kline_page)
        if limit < 1:
            raise _BadParameter("limit must be at least 1")
        start = _number(query, "startTime", 0)
        end = _number(query, "endTime", 2**63 - 2)
        if self.rules.kline_end_inclusive:
            end += 1
        if symbol not in self.timeline.tape.symbols:
            return _error(UNKNOWN_SYMBOL, "this Futures is not allowed to trade.")
        key = (symbol, _REST_TO_MS[interval])
        tape = self.timeline.tape
        if key not in tape.bars and key not in tape.history:
            raise _BadParameter(f"interval {interval!r}: the recording has no such bars")
        return bitunix_rest.klines_body(self.timeline.closed_bars(key, start, end, limit))


class BinanceKlineEndpoint(KlineEndpoint):
    """Answers ``GET /fapi/v1/klines`` as Binance does (``rest_server``): errors are HTTP 400
    with ``{"code": <negative>, "msg"}``, the rate limit HTTP 429 with code -1003."""

    path = binance_rest.KLINE_PATH

    def rate_limited(self) -> tuple[int, bytes]:
        return binance_rest_server.TOO_MANY_REQUESTS, binance_server.error_body(
            binance_rest_server.RATE_LIMITED, "Too many requests; please use the websocket."
        )

    def answer(self, query: dict[str, list[str]]) -> tuple[int, bytes]:
        tape = self.timeline.tape
        try:
            kq = binance_rest_server.kline_query(query, tape.symbols)
        except binance_rest.BinanceRestError as exc:
            return binance_rest_server.BAD_REQUEST, binance_server.error_body(exc.code, exc.message)
        kq = attrs.evolve(kq, limit=min(kq.limit, self.rules.max_kline_page))
        key = (kq.symbol, kq.interval_ms)
        end = 2**62 if kq.end is None else kq.end + 1
        bars = self.timeline.closed_bars(key, kq.start or 0, end, 2**31)
        return 200, binance_server.klines_body(binance_rest_server.select_klines(bars, kq))


def kline_endpoint(timeline: Timeline, rules: ExchangeRules, stats: SimStats) -> KlineEndpoint:
    """The REST kline endpoint of the venue the timeline's recording is from."""
    cls = BinanceKlineEndpoint if timeline.tape.dialect.name == "binance_usdm" else KlineEndpoint
    return cls(timeline, rules, stats)


def _text(query: dict[str, list[str]], name: str, default: str | None = None) -> str:
    values = query.get(name)
    if values is None:
        if default is None:
            raise _BadParameter(f"{name} is required")
        return default
    if len(values) != 1:
        raise _BadParameter(f"{name} given {len(values)} times")
    return values[0]


def _number(query: dict[str, list[str]], name: str, default: int) -> int:
    if name not in query:
        return default
    text = _text(query, name)
    if not text.isascii() or not text.isdigit():
        raise _BadParameter(f"{name} {text!r} is not a whole number")
    return int(text)


def _error(code: int, message: str) -> bytes:
    return dumps({"code": code, "data": None, "msg": message})


async def serve_http(stream: trio.abc.Stream, respond: Responder) -> None:
    """Answer HTTP/1.1 requests on ``stream`` (keep-alive) with ``respond`` until it closes."""
    conn = h11.Connection(h11.SERVER)
    try:
        while True:
            request: object = None
            with trio.move_on_after(_IDLE_S):
                request = await _next_event(conn, stream)
            if not isinstance(request, h11.Request):
                return
            end = await _next_event(conn, stream)
            while isinstance(end, h11.Data):  # a kline request has no body; drain one if sent
                end = await _next_event(conn, stream)
            if not isinstance(end, h11.EndOfMessage):
                return
            status, body = respond(request.method.decode(), request.target.decode())
            headers = [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ]
            response = h11.Response(status_code=status, headers=headers)
            await stream.send_all(conn.send(response) or b"")
            await stream.send_all(conn.send(h11.Data(data=body)) or b"")
            await stream.send_all(conn.send(h11.EndOfMessage()) or b"")
            if conn.our_state is not h11.DONE or conn.their_state is not h11.DONE:
                return
            conn.start_next_cycle()
    except h11.RemoteProtocolError:
        return
    except (trio.BrokenResourceError, trio.ClosedResourceError):
        return
    finally:
        await trio.aclose_forcefully(stream)


async def _next_event(conn: h11.Connection, stream: trio.abc.Stream) -> object:
    while True:
        event = conn.next_event()
        if event is not h11.NEED_DATA:
            return event
        conn.receive_data(bytes(await stream.receive_some(65_536)))
