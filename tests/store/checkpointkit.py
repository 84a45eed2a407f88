"""A real core's state as a checkpoint holds it: the store refuses one the core cannot restore."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from trio_paper.config import Config
from trio_paper.core import Core
from trio_paper.engine.strategies import load


def account(cash: str) -> dict[str, Any]:
    """A fresh account's core state with ``cash`` in the account."""
    config = Config()
    core = Core(config, load(config.strategy.name, config.strategy.params))
    core.engine.state.broker.account.cash = Decimal(cash)
    return core.snapshot()
