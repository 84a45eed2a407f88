"""Reconnect delays: capped exponential backoff with full jitter.

The n-th consecutive failure waits a uniform random time in ``[0, min(cap, initial × 2ⁿ)]``
(AWS's "full jitter"), so a fleet of clients does not reconnect in lockstep. The attempt counter
resets only after a connection has stayed healthy for a while, so a server that accepts and then
drops at once still meets a growing delay.
"""

from __future__ import annotations

import random

import attrs


@attrs.define
class Backoff:
    initial: float
    cap: float
    healthy_after: float
    rng: random.Random = attrs.Factory(random.Random)
    attempt: int = 0

    def next_delay(self) -> float:
        """The delay before the next attempt; each call counts one more failure."""
        ceiling = min(self.cap, self.initial * 2 ** min(self.attempt, 62))
        self.attempt += 1
        return self.rng.uniform(0, ceiling)

    def connection_ended(self, lasted: float) -> None:
        """A connection that lasted ``healthy_after`` seconds or more resets the counter."""
        if lasted >= self.healthy_after:
            self.attempt = 0
