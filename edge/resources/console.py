"""The web console: one HTML shell for every console page, and its static assets.

Wire into `create_app` with `install(app)`. The console is plain ES modules in
edge/static/console (the libraries vendored by scripts/vendor_console.py); the client
routes by `location.pathname`, so every console path answers the same shell.

`/` is a route (the OpenAPI document describes it); the other pages and the assets are
sinks, which Falcon tries after every route, so they never shadow the API and are not
API routes to describe. The shell names its assets under `/console/v/<content hash>/`, so
they are cached for a year and a release is picked up at the next load of the shell
(`Cache-Control: no-cache`). Every answer carries a strict Content-Security-Policy.
"""

import gzip
import hashlib
import re
from pathlib import Path

import falcon

from services.shared.access import PUBLIC

CONSOLE = Path(__file__).resolve().parent.parent / "static" / "console"

PAGES = (
    "login",
    "incidents",
    r"incidents/\d+",
    "oncall",
    r"teams/[^/]+",
    "metrics-overview",
    "maintenance",
    "heartbeats",
    "integrations",
    "people",
    "profile",
)
PAGE_PATTERN = re.compile("^/(?:" + "|".join(PAGES) + ")/?$")
ASSET_PATTERN = re.compile(r"^/console/(?:v/(?P<version>[0-9a-f]{1,64})/)?(?P<asset>[A-Za-z0-9_./-]+)$")

CONTENT_SECURITY_POLICY = "; ".join(
    [
        "default-src 'self'",
        "script-src 'self'",
        "style-src 'self'",
        "img-src 'self' data:",
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "frame-ancestors 'none'",
        "form-action 'self'",
    ]
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "same-origin",
    "X-Frame-Options": "DENY",
}
TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".ico": "image/x-icon",
    ".html": "text/html; charset=utf-8",
}
YEAR = 365 * 24 * 3600


class Asset:
    """One file's bytes, its gzip, and the ETag of its content."""

    def __init__(self, path):
        self.body = path.read_bytes()
        self.gzipped = gzip.compress(self.body, 9, mtime=0)
        self.etag = hashlib.sha256(self.body).hexdigest()[:32]
        self.content_type = TYPES.get(path.suffix, "application/octet-stream")


class Assets:
    """Every file of the console, read once: {relative path: Asset} and a version hash."""

    def __init__(self, root=CONSOLE):
        self.files = {
            path.relative_to(root).as_posix(): Asset(path)
            for path in sorted(root.rglob("*"))
            if path.is_file() and path.name != "index.html"
        }
        digest = hashlib.sha256()
        for name, asset in self.files.items():
            digest.update(f"{name}:{asset.etag}\n".encode())
        self.version = digest.hexdigest()[:16]
        template = (root / "index.html").read_text()
        self.shell = Asset.__new__(Asset)
        self.shell.body = template.replace("{{ASSETS}}", f"/console/v/{self.version}").encode()
        self.shell.gzipped = gzip.compress(self.shell.body, 9, mtime=0)
        self.shell.etag = hashlib.sha256(self.shell.body).hexdigest()[:32]
        self.shell.content_type = TYPES[".html"]


def secure(resp):
    for name, value in SECURITY_HEADERS.items():
        resp.set_header(name, value)


def send(req, resp, asset, cache_control):
    """`asset` with its ETag (304 when the client has it) and gzip when accepted."""
    secure(resp)
    resp.set_header("Cache-Control", cache_control)
    resp.set_header("Vary", "Accept-Encoding")
    resp.etag = asset.etag
    if req.get_header("If-None-Match") in (f'"{asset.etag}"', f'W/"{asset.etag}"'):
        resp.status = falcon.HTTP_304
        return
    resp.content_type = asset.content_type
    if "gzip" in (req.get_header("Accept-Encoding") or ""):
        resp.set_header("Content-Encoding", "gzip")
        resp.data = asset.gzipped
    else:
        resp.data = asset.body


def only_get(req):
    if req.method not in ("GET", "HEAD"):
        raise falcon.HTTPMethodNotAllowed(["GET", "HEAD"])


class Shell:
    """The console's HTML page, for `/` and (as a sink) every other console path."""

    access = {"GET": PUBLIC}

    def __init__(self, assets):
        self.assets = assets

    def on_get(self, req, resp):
        send(req, resp, self.assets.shell, "no-cache")

    def __call__(self, req, resp, **_):
        req.uri_template = "/{console_page}"  # one metrics label for every page, not one per path
        only_get(req)
        self.on_get(req, resp)


class StaticFiles:
    """/console/<file> and /console/v/<version>/<file>: the scripts, styles and vendored libraries."""

    access = {"GET": PUBLIC}

    def __init__(self, assets):
        self.assets = assets

    def __call__(self, req, resp, asset, version=None):
        req.uri_template = "/console/{asset}"
        only_get(req)
        found = self.assets.files.get(asset)
        if found is None or ".." in asset.split("/"):
            raise falcon.HTTPNotFound(description=f"no console file {asset}")
        versioned = version == self.assets.version
        cache = f"public, max-age={YEAR}, immutable" if versioned else "public, max-age=300"
        send(req, resp, found, cache)


def install(app, root=CONSOLE):
    """Serve the console on `app`: the shell at `/` and every console page, assets under /console."""
    assets = Assets(root)
    shell = Shell(assets)
    app.add_route("/", shell)
    app.add_sink(shell, PAGE_PATTERN)
    app.add_sink(StaticFiles(assets), ASSET_PATTERN)
    return assets
