#!/usr/bin/env python3
"""Container health probe for every Klaxon process (stdlib only).

Exits 0 when GET http://127.0.0.1:<port>/health answers 200, 1 otherwise, which
is what Docker's HEALTHCHECK and Compose's `healthcheck.test` expect.

The port comes from the first argument, else from KLAXON_HEALTH_PORT (set per
process in docker-compose.yml), else 8080 (the edge). The probe runs inside the
container, so 127.0.0.1 works whenever the process binds 0.0.0.0.
"""

import os
import sys
import urllib.error
import urllib.request


def main(argv):
    port = argv[1] if len(argv) > 1 else os.environ.get("KLAXON_HEALTH_PORT", "8080")
    url = f"http://127.0.0.1:{int(port)}/health"
    try:
        with urllib.request.urlopen(url, timeout=3) as response:  # noqa: S310 - fixed local URL
            return 0 if response.status == 200 else 1
    except (urllib.error.URLError, OSError, ValueError) as exc:
        print(f"health check {url} failed: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main(sys.argv))
