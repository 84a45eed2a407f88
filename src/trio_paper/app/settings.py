"""Where a command's home, config, venue and strategy come from (arguments, environment, files).

Every command resolves them here and only here, before it touches anything: a bad config key,
an unknown venue or strategy is a ``UsageError`` naming the file and the key.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Any

from .. import venues
from ..config import Config, ConfigError, evolve, load, with_env_secrets
from ..engine.strategies import Strategy
from ..engine.strategies import load as load_strategy
from ..venues import Venue


def home_of(args: argparse.Namespace) -> Path:
    """``--home``, else ``$TRIO_PAPER_HOME``, else the current directory."""
    home = getattr(args, "home", None) or os.environ.get("TRIO_PAPER_HOME") or "."
    return Path(home).expanduser().resolve()


def config_of(args: argparse.Namespace) -> tuple[Config, Path | None]:
    """The config and the file it came from (None: the built-in defaults), secrets from the
    environment, venue checked against the registry."""
    explicit = getattr(args, "config", None) or os.environ.get("TRIO_PAPER_CONFIG")
    if explicit:
        path: Path | None = Path(explicit).expanduser()
    else:
        candidate = home_of(args) / "config.yaml"
        path = candidate if candidate.exists() else None
    config = with_env_secrets(load(path), os.environ)
    venue_of(config, str(path) if path else "built-in defaults")
    return config, path


def venue_of(config: Config, source: str = "config") -> Venue:
    """The venue ``config.venue`` names, if it serves the configured interval."""
    try:
        venue = venues.get(config.venue.name)
    except venues.UnknownVenue as exc:
        raise ConfigError(f"{source}: venue.name: {exc}") from None
    if config.venue.interval not in venue.intervals:
        raise ConfigError(
            f"{source}: venue.interval: {venue.name} has no {config.venue.interval!r} bars; one "
            f"of {', '.join(venue.intervals)}"
        )
    return venue


def urls_of(config: Config) -> tuple[str, str]:
    """The WebSocket and REST base URLs: the config's, else the venue's own."""
    venue = venues.get(config.venue.name)
    return config.venue.ws_url or venue.ws_url, config.venue.rest_url or venue.rest_url


def strategy_of(args: argparse.Namespace, config: Config) -> tuple[Config, Strategy[Any, Any]]:
    """Load the strategy (``--strategy`` overrides the config; its params apply only to the
    config's own strategy)."""
    name = getattr(args, "strategy", None)
    if name and name != config.strategy.name:
        config = evolve(config, strategy={"name": name, "params": {}})
    return config, load_strategy(config.strategy.name, config.strategy.params)
