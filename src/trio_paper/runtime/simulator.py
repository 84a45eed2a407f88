"""The exchange simulator: placeholder until it lands."""

from __future__ import annotations

import argparse


def sim_command(args: argparse.Namespace) -> int:
    raise NotImplementedError("trio-paper sim is not built yet")
