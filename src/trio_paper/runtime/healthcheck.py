"""The container's HEALTHCHECK: ``/healthz`` when the session serves, else ``status --check``.

``python -m trio_paper.runtime.healthcheck`` exits 0 when healthy, 1 when not. With
``TRIO_PAPER_HEALTHZ`` set (``http://127.0.0.1:8080/healthz``), it asks the running session,
carrying ``TRIO_PAPER_SERVE_TOKEN`` if set; otherwise it reads the lock and the checkpoint age
as ``trio-paper status --check`` does.
"""

from __future__ import annotations

import os
import sys
import urllib.error
import urllib.request

HEALTHZ_ENV = "TRIO_PAPER_HEALTHZ"
TIMEOUT_S = 5.0


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


def main() -> int:
    url = os.environ.get(HEALTHZ_ENV, "").strip()
    if not url:
        from ..cli import main as cli_main  # noqa: PLC0415

        return cli_main(["status", "--check"])
    healthy, text = check(url, os.environ.get("TRIO_PAPER_SERVE_TOKEN") or None)
    print(text)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
