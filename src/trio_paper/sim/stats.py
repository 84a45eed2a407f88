"""What the simulator has done so far: counters for tests, benchmarks and the ``sim`` log."""

from __future__ import annotations

from collections import Counter

import attrs

from .faults import Fault


@attrs.frozen
class FiredFault:
    """A fault as it happened: ``at`` seconds after start, affecting ``sockets`` open sockets."""

    at: float
    fault: Fault
    sockets: int


@attrs.define
class SimStats:
    accepted: int = 0
    """WebSocket handshakes accepted."""
    refused: int = 0
    """Handshakes refused during a ``refuse`` fault."""
    endings: Counter[str] = attrs.Factory(Counter)
    """Why sockets ended, by ``Ending`` value."""
    frames_sent: int = 0
    """Data pushes sent (faulty copies and control frames not included)."""
    frames_stalled: int = 0
    """Pushes a subscribed client did not get because of a ``stall``."""
    pongs_sent: int = 0
    pongs_withheld: int = 0
    client_messages: int = 0
    bad_client_messages: int = 0
    """Client messages that were not a JSON object."""
    rest_requests: int = 0
    rest_rate_limited: int = 0
    faults: list[FiredFault] = attrs.Factory(list)
