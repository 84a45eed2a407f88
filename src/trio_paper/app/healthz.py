"""``trio-paper status --check`` asking a serving session's ``/healthz`` (the container's
HEALTHCHECK when it serves): with ``TRIO_PAPER_HEALTHZ`` set (``http://127.0.0.1:8080/healthz``)
the check is the session's own verdict, carrying ``TRIO_PAPER_SERVE_TOKEN`` if set."""

from __future__ import annotations

import os
import urllib.error
import urllib.request

HEALTHZ_ENV = "TRIO_PAPER_HEALTHZ"
TIMEOUT_S = 5.0


def healthz_url() -> str | None:
    return os.environ.get(HEALTHZ_ENV, "").strip() or None


def check(url: str, token: str | None) -> tuple[bool, str]:
    """Whether ``url`` answers 200, and the body (or the error) to print."""
    request = urllib.request.Request(url)
    if token:
        request.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(request, timeout=TIMEOUT_S) as response:
            return response.status == 200, response.read().decode(errors="replace").strip()
    except urllib.error.HTTPError as error:
        return False, f"HTTP {error.code}: {error.read().decode(errors='replace').strip()}"
    except (urllib.error.URLError, OSError) as error:
        return False, f"{url}: {getattr(error, 'reason', error)}"
