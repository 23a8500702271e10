"""The edge's access control, through falcon.testing: what each request presents, which
permission each route asks, and that a refusal reaches no service."""

import falcon
import falcon.testing
import pytest

from edge.app import EdgeSettings, create_app
from edge.auth import AccessControl, Authenticator, check_declared, permission_of
from services.shared import access
from services.shared.errors import Forbidden, Unauthorized
from tests.edge.test_errors_and_validation import ADMIN, RecordingPublisher, RecordingRpc, StandInReplies

VIEWER = {**ADMIN, "email": "val@example.com", "role": "viewer"}


class ByCredential:
    """Answers as the on-call service would: a principal per known credential."""

    def __init__(self, principals):
        self.principals = principals
        self.seen = []

    def call(self, service, method, credentials):
        self.seen.append(credentials)
        key = credentials.get("token") or credentials.get("session")
        if key not in self.principals:
            raise Unauthorized("unknown")
        if credentials.get("unsafe") and credentials.get("csrf") != "right":
            raise Forbidden("csrf")
        return self.principals[key]


def client(principals):
    rpc = RecordingRpc(answer={"id": 1, "items": []})
    authenticator_rpc = ByCredential(principals)
    app = create_app(
        EdgeSettings(keyless_ingest=True),
        rpc,
        RecordingPublisher(),
        StandInReplies(),
        Authenticator(authenticator_rpc),
    )
    return falcon.testing.TestClient(app), rpc, authenticator_rpc


def test_no_credentials_get_401_and_reach_no_service():
    test_client, rpc, _ = client({})
    answer = test_client.simulate_patch("/api/v1/incidents/1", json={"status": "resolved"})
    assert answer.status_code == 401 and answer.headers["www-authenticate"].startswith("Bearer")
    assert rpc.calls == []


def test_a_role_below_the_route_gets_403_and_reaches_no_service():
    test_client, rpc, _ = client({"klxt_viewer": VIEWER})
    headers = {"Authorization": "Bearer klxt_viewer"}
    assert test_client.simulate_get("/api/v1/incidents", headers=headers).status_code == 200
    rpc.calls.clear()
    answer = test_client.simulate_patch("/api/v1/incidents/1", json={"status": "resolved"}, headers=headers)
    assert answer.status_code == 403 and "responder" in answer.json["detail"]
    assert test_client.simulate_get("/api/v1/users", headers=headers).status_code == 403
    assert rpc.calls == []


def test_a_cookie_is_sent_with_its_csrf_header_and_a_bearer_token_wins_over_a_cookie():
    test_client, _, seen = client({"cookie-secret": ADMIN, "klxt_admin": ADMIN})
    test_client.simulate_patch(
        "/api/v1/incidents/1",
        json={"note": "x"},
        headers={"Cookie": "klaxon_session=cookie-secret", "X-CSRF-Token": "right"},
    )
    assert seen.seen[-1] == {"session": "cookie-secret", "csrf": "right", "unsafe": True}
    test_client.simulate_get("/api/v1/incidents", headers={"Cookie": "klaxon_session=cookie-secret"})
    assert seen.seen[-1]["unsafe"] is False
    test_client.simulate_get(
        "/api/v1/incidents",
        headers={"Cookie": "klaxon_session=cookie-secret", "Authorization": "Bearer klxt_admin"},
    )
    assert seen.seen[-1] == {"token": "klxt_admin"}


def test_every_route_declares_a_permission_for_each_responder():
    app = create_app(EdgeSettings(), RecordingRpc(), RecordingPublisher(), StandInReplies(), object())
    assert isinstance(app, falcon.App)  # check_declared ran inside create_app without raising

    class Undeclared:
        def on_get(self, req, resp):
            pass

    with pytest.raises(TypeError, match="declares no permission for GET"):
        check_declared({"/x": Undeclared()})
    with pytest.raises(TypeError):
        permission_of(Undeclared(), "GET")  # closed by default, never public
    assert permission_of(Undeclared(), "DELETE") == access.PUBLIC, "no responder: Falcon answers 405"


def test_the_actor_header_is_never_believed_and_the_principal_is_kept_for_the_resource():
    middleware = AccessControl(type("A", (), {"principal": lambda self, req: VIEWER})())

    class Resource:
        access = {"GET": access.READ}

    req = falcon.testing.create_req(headers={"X-Klaxon-Actor": "ceo@example.com"})
    middleware.process_resource(req, None, Resource(), {})
    assert req.context.principal == VIEWER


def every_operation(app):
    """(method, path) of every responder the app serves, path parameters filled in."""
    from edge.resources.docs import served_routes

    for template, resource in served_routes(app).items():
        path = template
        for name in (
            "incident_id",
            "integration_id",
            "override_id",
            "notification_id",
            "token_id",
            "feed_id",
            "window_id",
            "heartbeat_id",
        ):
            path = path.replace("{" + name + ":id}", "1")
        path = path.replace("{", "").replace("}", "")
        for method in ("GET", "POST", "PUT", "PATCH", "DELETE"):
            if hasattr(resource, f"on_{method.lower()}"):
                yield method, path, permission_of(resource, method)


def test_every_route_without_credentials_is_401_unless_it_is_one_of_the_few_exceptions():
    test_client, rpc, _ = client({})
    exceptions = []
    for method, path, permission in every_operation(test_client.app):
        if not access.needs_credentials(permission):
            exceptions.append(path)
            continue
        answer = test_client.simulate_request(method, path, json={})
        assert answer.status_code == 401, f"{method} {path} answered {answer.status_code}"
    assert rpc.calls == [], "a refused request reached no service"
    exact = {
        "/",
        "/health",
        "/metrics",
        "/docs",
        "/api/v1/openapi.json",
        "/api/v1/alerts",
        "/api/v1/integrations/alertmanager",
        "/api/v1/integrations/grafana",
        "/v2/enqueue",
        "/api/v1/integrations/pagerduty/v2/enqueue",
        "/api/v1/auth/login",
        "/api/v1/auth/providers",
        "/api/v1/auth/oidc/login",
        "/api/v1/auth/oidc/callback",
        "/api/v1/heartbeats/1/beat",  # the monitor's own key, checked by the alerts service
    }
    prefixes = ("/api/v1/ack/", "/api/v1/calendars/", "/console/", "/docs/")
    console_pages = {
        "/login",
        "/incidents",
        "/oncall",
        "/metrics-overview",
        "/maintenance",
        "/heartbeats",
        "/integrations",
        "/people",
        "/profile",
    }
    strays = [
        p
        for p in exceptions
        if p not in exact | console_pages
        and not p.startswith(prefixes)
        and not p.startswith(("/incidents/", "/teams/"))
    ]
    assert strays == [], f"routes open to anyone that are not among the few exceptions: {strays}"


@pytest.mark.parametrize(
    ("public_url", "secure"), [("https://klaxon.example.com", True), ("http://127.0.0.1:8080", False)]
)
def test_the_session_cookie_is_secure_when_people_reach_klaxon_over_https(public_url, secure):
    opened = {
        "session": "s3cr3t",
        "expires_at": "2026-12-10T00:00:00+00:00",
        "principal": {**ADMIN, "csrf_token": "c"},
    }
    settings = EdgeSettings(public_url=public_url, session_max_hours=2)
    app = create_app(settings, RecordingRpc(answer=opened), RecordingPublisher(), StandInReplies(), object())
    answer = falcon.testing.TestClient(app).simulate_post(
        "/api/v1/auth/login", json={"email": "root@example.com", "password": "x"}
    )
    assert answer.status_code == 200 and answer.json["csrf_token"] == "c"
    assert "csrf_token" not in answer.json["user"]
    cookie = answer.cookies["klaxon_session"]
    assert cookie.value == "s3cr3t" and cookie.http_only and cookie.same_site == "Lax"
    assert cookie.secure is secure and cookie.max_age == 7200
