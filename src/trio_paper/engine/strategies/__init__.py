"""Strategies by name (``ema_cross``, ``pullback``) or by dotted path (``pkg.module:Class``)."""

from __future__ import annotations

import importlib
from typing import Any

from ...codec import MalformedMessage, config_converter, structure
from ...errors import UsageError
from .base import Strategy, View
from .ema_cross import EmaCross
from .pullback import Pullback

BUILTIN: dict[str, type[Strategy[Any, Any]]] = {cls.name: cls for cls in (EmaCross, Pullback)}


class StrategyError(UsageError):
    """A strategy that cannot be loaded, or params it refuses; the message says which."""


def load(spec: str, params: dict[str, Any]) -> Strategy[Any, Any]:
    """Build the strategy ``spec`` names, with ``params`` checked against its ``Params``."""
    cls = BUILTIN.get(spec) or _import(spec)
    try:
        checked = structure(params, cls.Params, "params", using=config_converter)
    except MalformedMessage as exc:
        raise StrategyError(f"strategy {spec}: {exc.where}: {exc.reason}") from None
    except (TypeError, ValueError) as exc:
        raise StrategyError(f"strategy {spec}: bad params: {exc}") from None
    try:
        strategy = cls(checked)
    except Exception as exc:  # the user's constructor: one line, not a traceback
        raise StrategyError(
            f"strategy {spec}: cannot start ({type(exc).__name__}: {exc})"
        ) from None
    strategy.spec = spec
    return strategy


def _import(spec: str) -> type[Strategy[Any, Any]]:
    module_name, colon, attr = spec.partition(":")
    if not colon or not module_name or not attr:
        known = ", ".join(BUILTIN)
        raise StrategyError(
            f"unknown strategy {spec!r}: use one of {known}, or package.module:Class"
        )
    try:
        module = importlib.import_module(module_name)
    except Exception as exc:  # not found, or the module itself fails: a syntax error, a raise
        raise StrategyError(
            f"strategy {spec}: cannot import {module_name} ({type(exc).__name__}: {exc})"
        ) from None
    cls = getattr(module, attr, None)
    if not (isinstance(cls, type) and issubclass(cls, Strategy)):
        raise StrategyError(f"strategy {spec}: {attr} is not a trio_paper Strategy subclass")
    return cls


__all__ = ["BUILTIN", "Strategy", "StrategyError", "View", "load"]
