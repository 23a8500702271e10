"""How the edge serves the console, through falcon.testing: the shell on every console
path, assets with their caching, the security headers, and the API left alone."""

import gzip
import re

import falcon
import falcon.testing
import pytest

from edge.app import EdgeSettings, create_app
from edge.resources import console
from tests.edge.test_errors_and_validation import RecordingPublisher, RecordingRpc, StandInReplies

PAGES = (
    "/",
    "/login",
    "/incidents",
    "/incidents/42",
    "/oncall",
    "/teams/platform-engineering",
    "/metrics-overview",
    "/maintenance",
    "/heartbeats",
    "/integrations",
    "/people",
    "/profile",
    "/profile/",
)


@pytest.fixture
def client():
    app = falcon.App()
    console.install(app)
    return falcon.testing.TestClient(app)


@pytest.fixture
def edge_client():
    """The edge as create_app builds it (it installs the console)."""
    return falcon.testing.TestClient(
        create_app(EdgeSettings(), RecordingRpc(), RecordingPublisher(), StandInReplies())
    )


def asset_base(text):
    return re.search(r'src="(/console/v/[0-9a-f]+)/app\.js"', text).group(1)


@pytest.mark.parametrize("path", PAGES)
def test_every_console_path_answers_the_shell_with_a_strict_policy(client, path):
    page = client.simulate_get(path)
    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    assert "<title>Klaxon</title>" in page.text
    assert page.headers["cache-control"] == "no-cache"
    assert page.headers["content-security-policy"] == console.CONTENT_SECURITY_POLICY
    assert page.headers["x-content-type-options"] == "nosniff"
    assert page.headers["referrer-policy"] == "same-origin"
    assert "style=" not in page.text and "<script>" not in page.text and "<style" not in page.text


def test_the_policy_allows_nothing_inline_or_foreign():
    policy = dict(part.split(" ", 1) for part in console.CONTENT_SECURITY_POLICY.split("; "))
    assert policy["script-src"] == policy["style-src"] == policy["connect-src"] == "'self'"
    assert policy["object-src"] == policy["base-uri"] == policy["frame-ancestors"] == "'none'"
    assert "unsafe" not in console.CONTENT_SECURITY_POLICY


def test_assets_are_versioned_cached_for_a_year_with_an_etag_and_gzip(client):
    base = asset_base(client.simulate_get("/").text)
    script = client.simulate_get(f"{base}/app.js", headers={"Accept-Encoding": "gzip"})
    assert script.status_code == 200
    assert script.headers["content-type"].startswith("text/javascript")
    assert script.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert script.headers["content-encoding"] == "gzip"
    assert b"import" in gzip.decompress(script.content)
    again = client.simulate_get(f"{base}/app.js", headers={"If-None-Match": script.headers["etag"]})
    assert again.status_code == 304 and not again.content
    unversioned = client.simulate_get("/console/vendor/preact.module.js")
    assert unversioned.status_code == 200 and unversioned.headers["cache-control"] == "public, max-age=300"
    assert unversioned.headers["content-security-policy"] == console.CONTENT_SECURITY_POLICY


@pytest.mark.parametrize(
    "path",
    ["/console/nothing.js", "/console/../resources/console.py", "/console/index.html", "/incidents/x/y"],
)
def test_unknown_or_escaping_paths_are_not_found(client, path):
    assert client.simulate_get(path).status_code == 404


def test_only_reading_is_answered(client):
    assert client.simulate_post("/incidents").status_code == 405
    assert client.simulate_delete("/console/app.js").status_code == 405


def test_every_file_the_shell_names_exists(client):
    text = client.simulate_get("/").text
    for ref in re.findall(r'(?:src|href)="([^"]+)"', text):
        if ref.startswith("/console/"):
            assert client.simulate_get(ref).status_code == 200, ref


def test_the_edge_serves_the_console_beside_the_api_and_still_describes_it(edge_client):
    page = edge_client.simulate_get("/")
    assert page.status_code == 200 and "Klaxon" in page.text and "/console/v/" in page.text
    assert edge_client.simulate_get("/incidents/7").headers["content-security-policy"]
    assert edge_client.simulate_get("/api/v1/incidents").status_code == 401
    assert edge_client.simulate_get("/api/v1/openapi.json").status_code == 200
    metrics = edge_client.simulate_get("/metrics").text
    assert 'route="/{console_page}"' in metrics
