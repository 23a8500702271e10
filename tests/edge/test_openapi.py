"""The OpenAPI document and /docs, through falcon.testing with a stand-in RPC."""

import json
from pathlib import Path

import falcon.testing
import jsonschema
import pytest
from openapi_spec_validator import validate

import edge.oidc
from edge import openapi
from edge.app import EdgeSettings, create_app
from edge.resources import docs
from tests.edge.test_errors_and_validation import RecordingPublisher, RecordingRpc, StandInReplies

PAYLOADS = Path(__file__).resolve().parents[1] / "payloads"


def installed_app(settings=None):
    """An edge as create_app builds it, with /api/v1/openapi.json and /docs installed."""
    settings = settings or EdgeSettings(keyless_ingest=True)
    return create_app(settings, RecordingRpc(), RecordingPublisher(), StandInReplies())


def served_document(app):
    result = falcon.testing.TestClient(app).simulate_get("/api/v1/openapi.json")
    assert result.status_code == 200, result.text
    return result.json


@pytest.fixture(scope="module")
def served():
    app = installed_app()
    return app, falcon.testing.TestClient(app)


@pytest.fixture(scope="module")
def document(served):
    _, client = served
    result = client.simulate_get("/api/v1/openapi.json")
    assert result.status_code == 200
    assert result.headers["content-type"].startswith("application/json")
    return result.json


def test_the_document_is_valid_openapi_3_1(document):
    assert document["openapi"].startswith("3.1")
    validate(document)


def test_every_route_of_the_app_is_documented_with_each_responder(served, document):
    app, _ = served
    for template, resource in docs.served_routes(app).items():
        path, _ = openapi.openapi_path(template)
        assert path in document["paths"], template
        documented = {method.upper() for method in document["paths"][path]}
        assert documented == openapi.responders(resource), template


def test_falcon_templates_become_openapi_paths_with_typed_parameters(document):
    assert "/api/v1/incidents/{incident_id:id}" not in document["paths"]
    [param] = document["paths"]["/api/v1/incidents/{incident_id}"]["get"]["parameters"]
    assert param == {**param, "name": "incident_id", "in": "path", "required": True}
    assert param["schema"] == {"type": "integer", "minimum": 0, "maximum": 2**63 - 1}


def test_operation_ids_are_unique(document):
    ids = [op["operationId"] for item in document["paths"].values() for op in item.values()]
    assert len(ids) == len(set(ids))


def component(document, reference):
    return document["components"]["schemas"][reference["$ref"].rsplit("/", 1)[-1]]


def test_request_models_required_fields_appear(document):
    body = document["paths"]["/api/v1/alerts"]["post"]["requestBody"]["content"]["application/json"]
    assert {"service", "severity", "message"} <= set(component(document, body["schema"])["required"])
    schedule = document["paths"]["/api/v1/schedules"]["post"]["requestBody"]["content"]["application/json"]
    assert {"team", "rotation_type", "members"} <= set(component(document, schedule["schema"])["required"])


def examples(document):
    for path, item in document["paths"].items():
        for method, op in item.items():
            bodies = [op.get("requestBody", {}).get("content", {})]
            bodies += [answer.get("content", {}) for answer in op["responses"].values()]
            for media in bodies:
                for shown in media.values():
                    if "example" in shown:
                        yield f"{method} {path}", shown["schema"], shown["example"]


def test_examples_validate_against_their_schemas(document):
    found = list(examples(document))
    assert len(found) >= 6
    for where, schema, example in found:
        resolvable = {**schema, "components": document["components"]}
        errors = [e.message for e in jsonschema.Draft202012Validator(resolvable).iter_errors(example)]
        assert not errors, (where, errors)


def test_examples_are_the_payloads_of_the_tests():
    shipped = sorted(openapi.EXAMPLES.glob("*.json"))
    assert shipped, "edge/static/docs/examples holds copies of tests/payloads"
    for copy in shipped:
        assert copy.read_bytes() == (PAYLOADS / copy.name).read_bytes(), f"copy tests/payloads/{copy.name}"
    assert {p.name for p in PAYLOADS.glob("*.json")} == {p.name for p in shipped}


def test_errors_are_problems_and_pagerduty_400_is_its_own(document):
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status"} <= set(problem["required"]) and "errors" in problem["properties"]
    incident = document["paths"]["/api/v1/incidents/{incident_id}"]["patch"]["responses"]
    assert set(incident["422"]["content"]) == {"application/problem+json"}
    pagerduty = document["paths"]["/v2/enqueue"]["post"]["responses"]["400"]["content"]
    assert pagerduty["application/json"]["schema"]["$ref"].endswith("/PagerDutyInvalid")
    assert "application/problem+json" in pagerduty  # malformed JSON


def test_security_follows_the_kind_of_route(document):
    paths = document["paths"]
    assert {"integrationKey": []} in paths["/api/v1/alerts"]["post"]["security"]
    assert {"bearerToken": []} in paths["/api/v1/alerts"]["get"]["security"]
    assert {"session": [], "csrfToken": []} in paths["/api/v1/incidents/{incident_id}"]["patch"]["security"]
    for public in ("/health", "/metrics", "/api/v1/ack/{token}", "/api/v1/openapi.json", "/docs"):
        assert paths[public]["get"]["security"] == []
        assert "401" not in paths[public]["get"]["responses"]
    assert "401" in paths["/api/v1/incidents"]["get"]["responses"]
    assert set(document["components"]["securitySchemes"]) >= {"integrationKey", "bearerToken", "session"}


def test_a_declared_access_chooses_the_security(served):
    class Resource:
        access = {"GET": "public", "POST": "admin"}

        def on_get(self, req, resp):
            pass

        def on_post(self, req, resp):
            pass

    routes = {**docs.served_routes(served[0]), "/api/v1/schedules": Resource()}
    item = openapi.build_document(routes)["paths"]["/api/v1/schedules"]
    assert item["get"]["security"] == [] and "401" not in item["get"]["responses"]
    assert item["post"]["x-klaxon-permission"] == "admin" and "403" in item["post"]["responses"]


def test_an_undescribed_responder_or_route_fails_the_build(served):
    app, _ = served
    routes = docs.served_routes(app)

    class Extra:
        def on_get(self, req, resp):
            pass

    with pytest.raises(openapi.DocumentError, match="not described"):
        openapi.build_document({**routes, "/api/v1/nowhere": Extra()})
    del routes["/api/v1/schedules"]
    with pytest.raises(openapi.DocumentError, match="no route serves"):
        openapi.build_document(routes)


def test_docs_is_html_with_a_strict_csp_and_its_scripts_are_served(served):
    _, client = served
    page = client.simulate_get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    csp = page.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "script-src 'self'" in csp
    assert "<script>" not in page.text and "cdn" not in page.text.lower()
    for script in ("/docs/docs.js", "/docs/redoc.standalone.js"):
        assert f'src="{script}"' in page.text
        served_file = client.simulate_get(script)
        assert served_file.status_code == 200 and len(served_file.content) > 100
    assert "/api/v1/openapi.json" in page.text + client.simulate_get("/docs/docs.js").text


def test_the_document_is_built_once(served):
    _, client = served
    first = client.simulate_get("/api/v1/openapi.json").content
    assert client.simulate_get("/api/v1/openapi.json").content is not None
    assert json.loads(first)["info"]["title"] == "Klaxon API"


def test_the_actor_header_is_gone(document):
    """The actor is whoever signed in; X-Klaxon-Actor is ignored, so it is not offered."""
    for item in document["paths"].values():
        for op in item.values():
            assert all(p["name"] != "X-Klaxon-Actor" for p in op["parameters"]), op["operationId"]


def test_the_session_scheme_is_described(document):
    text = document["info"]["description"]
    assert "klaxon_session" in text and "X-CSRF-Token" in text
    session = document["components"]["securitySchemes"]["session"]
    assert (session["in"], session["name"]) == ("cookie", "klaxon_session")


def body_schema(document, path, method):
    return component(
        document, document["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
    )


def test_access_requests_are_the_services_models(document):
    models = {
        ("/api/v1/auth/login", "post"): "LoginRequest",
        ("/api/v1/auth/password", "post"): "PasswordChange",
        ("/api/v1/tokens", "post"): "TokenRequest",
        ("/api/v1/users", "post"): "NewUser",
        ("/api/v1/users/{email}", "patch"): "UserChange",
        ("/api/v1/people/{email}", "patch"): "ProfileChange",
        ("/api/v1/calendar_feeds", "post"): "CalendarFeedRequest",
    }
    for (path, method), name in models.items():
        reference = document["paths"][path][method]["requestBody"]["content"]["application/json"]["schema"]
        assert reference["$ref"].endswith(f"/{name}"), (path, method)
    assert set(body_schema(document, "/api/v1/auth/login", "post")["required"]) == {"email", "password"}


def test_login_is_public_sets_the_cookie_and_may_be_throttled(document):
    login = document["paths"]["/api/v1/auth/login"]["post"]
    assert login["security"] == []
    assert {"200", "401", "422", "429"} <= set(login["responses"])
    assert "Set-Cookie" in login["responses"]["200"]["headers"]
    assert "Retry-After" in login["responses"]["429"]["headers"]
    answer = login["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(answer["required"]) == {"user", "csrf_token", "expires_at"}
    calendar = document["paths"]["/api/v1/calendars/{secret}.ics"]["get"]
    assert calendar["security"] == [] and "text/calendar" in calendar["responses"]["200"]["content"]


def test_single_sign_on_is_documented_only_when_an_issuer_is_configured(document):
    assert "/api/v1/auth/oidc/login" not in document["paths"]
    sso = edge.oidc.OidcSettings(
        issuer="http://127.0.0.1:1", client_id="x", client_secret="y", public_url="http://127.0.0.1:8080"
    )
    with_sso = served_document(installed_app(EdgeSettings(sso=sso)))
    validate(with_sso)
    for path in ("/api/v1/auth/oidc/login", "/api/v1/auth/oidc/callback"):
        op = with_sso["paths"][path]["get"]
        assert op["security"] == [] and "302" in op["responses"], path
        assert "Location" in op["responses"]["302"]["headers"]
    assert with_sso["paths"]["/api/v1/auth/providers"] == document["paths"]["/api/v1/auth/providers"]


def test_an_optional_operation_may_be_absent_but_not_undescribed(served):
    app, _ = served
    routes = docs.served_routes(app)
    assert openapi.OPERATIONS[("/api/v1/auth/oidc/login", "GET")].optional
    assert "/api/v1/auth/oidc/login" not in routes
    openapi.build_document(routes)  # absent: fine

    class Unknown:
        def on_post(self, req, resp):
            pass

    with pytest.raises(
        openapi.DocumentError, match="POST /api/v1/auth/oidc/login is served but not described"
    ):
        openapi.build_document({**routes, "/api/v1/auth/oidc/login": Unknown()})
