"""With KLAXON_ACCESS_LOG on, the edge's and the services' access lines name no credential.

An integration key in the query, an acknowledge link's token and a calendar feed's secret
in the path are written as REDACTED, by the edge (gunicorn) and by a service's own port.
"""

import uuid

import pytest
import requests

from tests.conftest import eventually
from tests.platform import running_platform

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    with running_platform(
        tmp_path_factory.mktemp("access-log"), extra_env={"KLAXON_ACCESS_LOG": "1"}
    ) as running:
        running.wait_healthy(timeout=90)
        yield running


def logged(platform):
    return platform.log_path.read_text(errors="replace")


@pytest.mark.parametrize("port", ["edge", "alerts"])
def test_an_integration_key_in_the_query_is_not_written(platform, port):
    key = platform.integration_key()
    marker = f"log-{uuid.uuid4().hex[:8]}"
    answer = requests.post(
        f"{platform.urls[port]}/api/v1/alerts",
        params={"integration_key": key, "marker": marker},
        json={"service": "checkout-api", "severity": "low", "message": "access log"},
        timeout=30,
    )
    assert answer.status_code == 201, answer.text
    eventually(lambda: f"integration_key=REDACTED&marker={marker}" in logged(platform), timeout=10)
    assert key not in logged(platform)


@pytest.mark.parametrize("port", ["edge", "notifications"])
def test_an_acknowledge_links_token_is_not_written(platform, port):
    token = f"forged{uuid.uuid4().hex}"
    answer = requests.get(f"{platform.urls[port]}/api/v1/ack/{token}", timeout=10)
    assert answer.status_code == 403
    eventually(lambda: "GET /api/v1/ack/REDACTED HTTP/1.1" in logged(platform), timeout=10)
    assert token not in logged(platform)


def test_a_calendar_feeds_secret_is_not_written(platform):
    secret = f"madeup{uuid.uuid4().hex}"
    answer = requests.get(f"{platform.edge}/api/v1/calendars/{secret}.ics", timeout=10)
    assert answer.status_code == 404
    eventually(lambda: "GET /api/v1/calendars/REDACTED.ics HTTP/1.1" in logged(platform), timeout=10)
    assert secret not in logged(platform)
