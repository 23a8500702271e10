"""/api/v1/openapi.json and /docs: the OpenAPI document and the reference rendered from it.

Wire into `create_app` with `install(app, routes)`; the renderer and its page are files
shipped in edge/static/docs (see its README), served by a static route.
"""

import json
import threading
from pathlib import Path

import falcon

from edge.openapi import build_document
from services.shared.access import PUBLIC

DOCS = Path(__file__).resolve().parent.parent / "static" / "docs"
DOCUMENT_PATH = "/api/v1/openapi.json"

# Everything from this origin only. Redoc needs two exceptions: styled-components inserts
# <style> elements at run time (style-src 'unsafe-inline'), and its search runs in a Web
# Worker made from a Blob URL (worker-src blob:). Its icons are inline SVG or data: URLs.
CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self' 'unsafe-inline'",
        "worker-src 'self' blob:",
        "img-src 'self' data:",
        "font-src 'self' data:",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'none'",
    ]
)


class OpenApiDocument:
    """The document of `routes()`, built on the first GET (every route is added by then)."""

    access = {"GET": PUBLIC}  # describing the API is no secret; every route it lists checks

    def __init__(self, routes):
        self.routes = routes
        self._body = None
        self._lock = threading.Lock()

    def body(self):
        with self._lock:
            if self._body is None:
                self._body = json.dumps(build_document(self.routes()), indent=1).encode()
            return self._body

    def on_get(self, req, resp):
        resp.content_type = falcon.MEDIA_JSON
        resp.data = self.body()


class Docs:
    access = {"GET": PUBLIC}

    def on_get(self, req, resp):
        resp.content_type = falcon.MEDIA_HTML
        resp.set_header("Content-Security-Policy", CONTENT_SECURITY_POLICY)
        resp.set_header("X-Content-Type-Options", "nosniff")
        resp.data = (DOCS / "index.html").read_bytes()


def served_routes(app):
    """{URI template: resource} of every route added to `app`'s router so far."""
    found, nodes = {}, list(app._router._roots)
    while nodes:
        node = nodes.pop()
        if node.resource is not None:
            found[node.uri_template] = node.resource
        nodes.extend(node.children)
    return found


def install(app, routes):
    """Add /api/v1/openapi.json, /docs and /docs/<file> to `app`. The document covers
    `routes` and every other route of the app (health, metrics, the UI, these)."""
    document = OpenApiDocument(lambda: {**served_routes(app), **routes})
    app.add_route(DOCUMENT_PATH, document)
    app.add_route("/docs", Docs())
    app.add_static_route("/docs", str(DOCS))
    return document
