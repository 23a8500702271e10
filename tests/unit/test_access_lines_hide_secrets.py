"""The edge's access logger hides credentials in every atom a log format can name."""

import datetime as dt

from gunicorn.config import Config

from edge.access_log import AccessLogger
from services.shared.redaction import hidden_url, hide_targets_in

SECRET = "t0ps3cret"  # pragma: allowlist secret


class Response:
    status, sent = "200 OK", 2

    def __init__(self, headers=()):
        self.headers = [("Content-Type", "application/json"), *headers]


def atoms(environ, headers=(), response_headers=()):
    response = Response(response_headers)
    return AccessLogger(Config()).atoms(response, list(headers), environ, dt.timedelta(milliseconds=3))


def test_the_request_line_query_and_referer_hide_their_secrets():
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/api/v1/incidents?token={SECRET}&status=open",
        "PATH_INFO": "/api/v1/incidents",
        "QUERY_STRING": f"token={SECRET}&status=open",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_REFERER": f"http://k.example/api/v1/calendars/{SECRET}.ics",
    }
    found = atoms(environ, [("REFERER", environ["HTTP_REFERER"])])
    assert found["r"] == "GET /api/v1/incidents?token=REDACTED&status=open HTTP/1.1"
    assert found["q"] == "token=REDACTED&status=open"
    assert found["f"] == found["{referer}i"] == "http://k.example/api/v1/calendars/REDACTED.ics"
    assert SECRET not in repr(found)


def test_credential_headers_are_hidden_in_both_header_and_environ_atoms():
    environ = {
        "REQUEST_METHOD": "POST",
        "RAW_URI": f"/api/v1/ack/{SECRET}",
        "PATH_INFO": f"/api/v1/ack/{SECRET}",
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "HTTP_AUTHORIZATION": f"Bearer {SECRET}",
        "HTTP_X_KLAXON_INTEGRATION_KEY": SECRET,
    }
    headers = [("AUTHORIZATION", f"Bearer {SECRET}"), ("COOKIE", f"klaxon_session={SECRET}")]
    found = atoms(environ, headers)
    assert found["r"] == "POST /api/v1/ack/REDACTED HTTP/1.1"
    assert found["U"] == "/api/v1/ack/REDACTED"
    assert found["{authorization}i"] == found["{cookie}i"] == "REDACTED"
    assert found["{http_authorization}e"] == found["{http_x_klaxon_integration_key}e"] == "REDACTED"
    assert SECRET not in repr(found)


def test_a_session_cookie_set_and_a_redirects_secrets_are_hidden_in_response_header_atoms():
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": "/api/v1/auth/oidc/login",
        "PATH_INFO": "/api/v1/auth/oidc/login",
        "QUERY_STRING": "",
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    redirect = f"https://idp.example/authorize?client_id=klaxon&code_challenge={SECRET}&scope=openid"
    response_headers = [
        ("Set-Cookie", f"klaxon_session={SECRET}; HttpOnly; Path=/"),
        ("Location", redirect),
    ]
    found = atoms(environ, response_headers=response_headers)
    assert found["{set-cookie}o"] == "REDACTED"
    assert found["{location}o"] == redirect.replace(SECRET, "REDACTED")
    assert found["{content-type}o"] == "application/json"
    assert SECRET not in repr(found)


def test_a_sign_in_s_state_and_nonce_are_hidden_going_out_and_coming_back():
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/api/v1/auth/oidc/callback?code={SECRET}&state={SECRET}",
        "PATH_INFO": "/api/v1/auth/oidc/callback",
        "QUERY_STRING": f"code={SECRET}&state={SECRET}",
        "SERVER_PROTOCOL": "HTTP/1.1",
    }
    redirect = f"https://idp.example/authorize?client_id=klaxon&state={SECRET}&nonce={SECRET}"
    found = atoms(environ, response_headers=[("Location", redirect)])
    assert found["{location}o"] == redirect.replace(SECRET, "REDACTED")
    assert found["r"] == "GET /api/v1/auth/oidc/callback?code=REDACTED&state=REDACTED HTTP/1.1"
    assert SECRET not in repr(found)


def test_a_redirect_within_klaxon_hides_the_credential_in_its_path():
    environ = {"REQUEST_METHOD": "GET", "RAW_URI": "/", "SERVER_PROTOCOL": "HTTP/1.1"}
    found = atoms(environ, response_headers=[("Location", f"/api/v1/ack/{SECRET}?next=/")])
    assert found["{location}o"] == "/api/v1/ack/REDACTED?next=/"


def test_a_services_access_line_hides_the_targets_in_it():
    request = f"POST /api/v1/alerts?integration_key={SECRET}&x=1 HTTP/1.1"
    line = f'127.0.0.1 - - [06/Dec/2026 22:00:00] "{request}" 201'
    assert hide_targets_in(line) == line.replace(SECRET, "REDACTED")
    assert (
        hide_targets_in('"GET /api/v1/incidents?status=open HTTP/1.1"')
        == '"GET /api/v1/incidents?status=open HTTP/1.1"'
    )


def test_a_url_without_secrets_is_left_as_it_is():
    assert (
        hidden_url("https://k.example/incidents/7?status=open") == "https://k.example/incidents/7?status=open"
    )
    assert hidden_url("-") == "-"
