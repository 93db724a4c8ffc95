"""``python -m service.observability.probe [URL]``: exit 0 if URL answers 2xx, else 1.

The image's HEALTHCHECK uses this (the slim image has no curl). The URL defaults to the
setting ``healthcheck_url`` (``CHORUS_HEALTHCHECK_URL``, default the web app's
``http://127.0.0.1:8000/healthz``); a worker container points it at its own ``:9200/healthz``.
"""

from __future__ import annotations

import sys
import urllib.error
import urllib.request
from collections.abc import Sequence


def probe(url: str, timeout: float = 3.0) -> bool:
    """Whether ``url`` answers with a 2xx status within ``timeout`` seconds."""
    if not url.startswith(("http://", "https://")):
        raise ValueError(f"not an http(s) URL: {url!r}")
    try:
        with urllib.request.urlopen(url, timeout=timeout) as response:  # noqa: S310 - checked
            return 200 <= int(response.status) < 300
    except (urllib.error.URLError, OSError, ValueError):
        return False


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args:
        url = args[0]
    else:
        from service.settings import Settings

        url = Settings().healthcheck_url
    ok = probe(url)
    if not ok:
        print(f"unhealthy: {url} did not answer 2xx", file=sys.stderr)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
