"""The limits the simulated exchange enforces: Bitunix's by default, Binance's from ``for_venue``,
smaller in tests."""

from __future__ import annotations

import math

import attrs
from attrs.validators import ge, gt

from ..venues.binance_usdm import rest as binance_rest
from ..venues.binance_usdm import ws as binance
from ..venues.bitunix import rest as bitunix_rest
from ..venues.bitunix import ws as bitunix


def _delay_range(_: object, __: object, value: tuple[float, float]) -> None:
    low, high = value
    if not 0 <= low <= high:
        raise ValueError(f"subscribe_delay_s must be (low, high) with 0 <= low <= high: {value}")


@attrs.frozen
class ExchangeRules:
    """What PROTOCOL.md documents or a probe observed, as numbers a test can change."""

    idle_timeout_s: float = attrs.field(default=bitunix.IDLE_TIMEOUT_S, validator=gt(0))
    """A socket with no client message for this long is dropped without a close frame."""
    max_messages_per_s: int = attrs.field(
        default=bitunix.MAX_CLIENT_MESSAGES_PER_S, validator=ge(1)
    )
    """More client messages than this within any second and the socket is dropped."""
    max_channels: int = attrs.field(default=300, validator=ge(1))
    subscribe_delay_s: tuple[float, float] = attrs.field(default=(0.1, 0.6), validator=_delay_range)
    """Data for a new subscription starts this long after it, at random (real seconds)."""
    max_message_bytes: int = attrs.field(default=1 << 20, validator=gt(0))
    rest_requests_per_s: int = attrs.field(
        default=bitunix_rest.MAX_REST_REQUESTS_PER_S, validator=ge(1)
    )
    max_kline_page: int = attrs.field(default=bitunix_rest.MAX_KLINE_PAGE, validator=ge(1))
    kline_end_inclusive: bool = False
    """Whether REST ``endTime`` includes the bar opening at it: PROTOCOL.md §6.1 leaves it open,
    so a session is tested against both (the newest ``max_kline_page`` bars are kept)."""
    close_wait_s: float = attrs.field(default=1.0, validator=ge(0))
    """How long a close frame waits for the client's before hanging up."""
    protocol_ping_first_drops: bool = True
    """Bitunix drops a socket whose first client frame is a WebSocket-protocol ping."""
    server_ping_s: float = attrs.field(default=math.inf, validator=gt(0))
    """The exchange sends a protocol ping this often (Binance: every 3 minutes) ..."""
    pong_wait_s: float = attrs.field(default=math.inf, validator=gt(0))
    """... and drops a socket that has not answered one within this long (Binance: 10 min)."""
    max_age_s: float = attrs.field(default=math.inf, validator=gt(0))
    """Every socket is closed (a close frame) at this age (Binance: 24 h)."""

    @classmethod
    def for_venue(cls, venue: str) -> ExchangeRules:
        """The venue's own limits (``bitunix`` or ``binance_usdm``)."""
        if venue == binance.NAME:
            return cls(
                idle_timeout_s=math.inf, max_messages_per_s=binance.MAX_CLIENT_MESSAGES_PER_S,
                max_channels=1024, rest_requests_per_s=40,
                max_kline_page=binance_rest.MAX_KLINE_LIMIT,
                protocol_ping_first_drops=False, server_ping_s=180.0, pong_wait_s=600.0,
                max_age_s=24 * 3600.0,
            )  # fmt: skip
        return cls()
