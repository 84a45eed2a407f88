"""The limits the simulated exchange enforces: Bitunix's by default, smaller in tests."""

from __future__ import annotations

import attrs
from attrs.validators import ge, gt

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
