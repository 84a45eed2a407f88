"""The venue registry: every name finds its folder's venue, and a folder is imported only when
its venue is asked for."""

from __future__ import annotations

import subprocess
import sys

import pytest

from trio_paper import venues


@pytest.mark.parametrize("name", venues.names())
def test_each_name_finds_the_venue_of_that_name(name: str) -> None:
    venue = venues.get(name)
    assert venue.name == name
    assert venues.find(name) is venue


def test_an_unknown_name_is_none_to_find_and_an_error_to_get() -> None:
    assert venues.find("kraken") is None
    with pytest.raises(
        venues.UnknownVenue, match=r"unknown venue 'kraken'; one of binance_usdm, bitunix"
    ):
        venues.get("kraken")


def test_a_venue_folder_is_imported_when_its_venue_is_asked_for() -> None:
    """In a fresh interpreter: the registry imports no folder; asking for Bitunix imports
    Bitunix's alone."""
    script = """if True:
        import sys
        from trio_paper import venues
        def folders():
            return sorted(n for n in venues.names() if f"trio_paper.venues.{n}" in sys.modules)
        print(folders())
        venues.get("bitunix")
        print(folders())
    """
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.splitlines() == ["[]", "['bitunix']"]
