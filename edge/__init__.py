"""The edge: the one HTTP entry point (API, ingestion, console) in front of the services."""

import services.shared  # noqa: F401 (first: it quiets eventlet's import banner before nameko loads)
