"""``trio-paper run``: placeholder until the live session lands."""

from __future__ import annotations

import argparse


def run_command(args: argparse.Namespace) -> int:
    raise NotImplementedError("trio-paper run is not built yet")
