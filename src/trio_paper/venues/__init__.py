"""Venues: each exchange is a folder behind the ``Venue`` interface (``venue.py``), and one name
in ``REGISTRY`` below. Nothing outside ``venues/`` and ``sim/`` names an exchange.

A venue's folder is imported when it is first asked for (``get``): a session or a replay on one
venue does not pay for building the other's schema classes at start-up."""

from __future__ import annotations

import importlib

from ..errors import UsageError
from .venue import Client, KlineRequest, Received, RestError, Socket, Venue

__all__ = [
    "Client",
    "KlineRequest",
    "Received",
    "RestError",
    "Socket",
    "Venue",
    "find",
    "get",
    "names",
]

REGISTRY = frozenset({"bitunix", "binance_usdm"})
"""Each venue's name (``venue.name`` in config), which is its folder's: its ``VENUE``."""


class UnknownVenue(UsageError, ValueError):
    """A venue name no folder implements."""


def names() -> list[str]:
    return sorted(REGISTRY)


def find(name: str) -> Venue | None:
    """The venue called ``name``, or None for a name no folder implements."""
    if name not in REGISTRY:
        return None
    venue: Venue = importlib.import_module(f"{__name__}.{name}").VENUE
    return venue


def get(name: str) -> Venue:
    """The venue called ``name`` (``venue.name`` in config)."""
    venue = find(name)
    if venue is None:
        raise UnknownVenue(f"unknown venue {name!r}; one of {', '.join(names())}")
    return venue
