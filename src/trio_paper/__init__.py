"""trio-paper: paper-trade crypto perpetuals on live exchange data, unattended, replayable."""

from importlib.metadata import PackageNotFoundError, version

try:
    __version__ = version("trio-paper")
except PackageNotFoundError:  # pragma: no cover - running from a source tree without install
    __version__ = "0.0.0"
