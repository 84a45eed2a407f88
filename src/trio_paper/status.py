"""``trio-paper status``: placeholder until checkpoints land."""

from __future__ import annotations

import argparse


def status_command(args: argparse.Namespace) -> int:
    raise NotImplementedError("trio-paper status is not built yet")
