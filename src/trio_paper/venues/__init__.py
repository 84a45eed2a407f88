"""Venues: each exchange is a folder behind the ``Venue`` interface (``venue.py``), and one line
in ``REGISTRY`` below. Nothing outside ``venues/`` and ``sim/`` names an exchange."""

from __future__ import annotations

from ..errors import UsageError
from .binance_usdm import VENUE as BINANCE_USDM
from .bitunix import VENUE as BITUNIX
from .venue import Client, KlineRequest, Received, RestError, Socket, Venue

__all__ = [
    "BINANCE_USDM",
    "BITUNIX",
    "Client",
    "KlineRequest",
    "Received",
    "RestError",
    "Socket",
    "Venue",
    "get",
    "names",
]

REGISTRY: dict[str, Venue] = {
    BITUNIX.name: BITUNIX,
    BINANCE_USDM.name: BINANCE_USDM,
}


class UnknownVenue(UsageError, ValueError):
    """A venue name no folder implements."""


def names() -> list[str]:
    return sorted(REGISTRY)


def get(name: str) -> Venue:
    """The venue called ``name`` (``venue.name`` in config)."""
    try:
        return REGISTRY[name]
    except KeyError:
        raise UnknownVenue(f"unknown venue {name!r}; one of {', '.join(names())}") from None
