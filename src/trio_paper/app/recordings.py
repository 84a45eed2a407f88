"""``trio-paper recordings from-candles``: a recording synthesized from real candles."""

from __future__ import annotations

import argparse

from ..errors import UsageError
from ..sim.synth import from_candles


def from_candles_command(args: argparse.Namespace) -> int:
    try:
        count = from_candles(
            args.candles, args.start, args.minutes, args.warmup, args.funding, args.symbol,
            args.seed, args.out, args.venue,
        )  # fmt: skip
    except (ValueError, FileNotFoundError) as exc:  # a bad --start, missing minutes or file
        raise UsageError(str(exc)) from None
    print(f"wrote {count:,} items to {args.out}")
    return 0
