"""Who may do what, tried on the platform as processes (`klaxon run`, RabbitMQ, SQLite):
each role against a table of routes on the edge and on the services' own ports, the
store unchanged after every refusal, cookies and their CSRF token, logout, tokens, the
actor on the timeline, and single sign-on through a real OpenID provider on loopback."""

import datetime as dt
import re
import uuid

import pytest
import requests

from tests.oidc_peer import follow_login, oidc_provider
from tests.platform import api_token, free_port, klaxon, running_platform, session_with

pytestmark = pytest.mark.integration
ROLES = ("anonymous", "viewer", "responder", "manager", "admin")
TEAM = "platform-engineering"  # the demo team; "manager" manages it and no other


def one_time_password(output):
    return output.strip().splitlines()[-1]


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    workdir = tmp_path_factory.mktemp("access")
    offset = workdir / "clock-offset"
    with running_platform(workdir, extra_env={"KLAXON_CLOCK_OFFSET_FILE": offset}) as running:
        running.wait_healthy(timeout=90)
        running.offset = offset
        run = uuid.uuid4().hex[:6]
        running.people = {role: f"{role}-{run}@example.com" for role in ROLES[1:4]}
        for role, email in running.people.items():
            klaxon(running.env, "user", "create", email, "--role", "responder" if role == "manager" else role)
        schedule = next(
            s
            for s in running.api.get(f"{running.edge}/api/v1/schedules").json()["items"]
            if s["team"] == TEAM
        )
        schedule["managers"] = [running.people["manager"]]
        assert running.api.post(f"{running.edge}/api/v1/schedules", json=schedule).status_code == 201
        running.sessions = {"anonymous": requests.Session(), "admin": running.api}
        for role, email in running.people.items():
            running.sessions[role] = session_with(api_token(running.env, email))
        yield running


def incident(platform):
    body = {"title": "disk full", "service": "frontend-api", "severity": "low"}
    answer = platform.api.post(f"{platform.edge}/api/v1/incidents", json=body)
    assert answer.status_code == 201, answer.text
    return answer.json()["id"]


def policy(team):
    """Two steps, so that a new incident can still be escalated by hand once."""
    steps = [
        {"delay_minutes": 5, "targets": [{"type": "layer", "layer": layer}]}
        for layer in ("primary", "secondary")
    ]
    return {"team": team, "steps": steps}


def override(team, email):
    return {"team": team, "email": email, "start": "2030-01-01T08:00:00Z", "end": "2030-01-01T20:00:00Z"}


def routes(platform, incident_id):
    """(method, url, body, the state an admin reads before and after, roles allowed)."""
    edge, urls = platform.edge, platform.urls
    everyone = {"viewer", "responder", "manager", "admin"}
    acting = {"responder", "manager", "admin"}
    incidents = f"{edge}/api/v1/incidents?limit=500"
    the_incident = f"{edge}/api/v1/incidents/{incident_id}"
    policies = f"{edge}/api/v1/escalation_policies"
    someone = platform.people["viewer"]
    return [
        ("GET", incidents, None, None, everyone),
        ("GET", f"{edge}/api/v1/alerts", None, None, everyone),
        ("GET", f"{edge}/api/v1/oncall/current?team={TEAM}", None, None, everyone),
        ("GET", f"{edge}/api/v1/notifications", None, None, everyone),
        ("GET", f"{edge}/api/v1/people/{someone}", None, None, everyone),
        ("GET", f"{edge}/api/v1/teams/{TEAM}/oncall.ics", None, None, everyone),
        (
            "POST",
            f"{edge}/api/v1/incidents",
            {"title": "t", "service": "s", "severity": "low"},
            incidents,
            acting,
        ),
        ("PATCH", the_incident, {"note": "looking"}, the_incident, acting),
        ("POST", f"{edge}/api/v1/escalate", {"incident_id": incident_id}, the_incident, acting),
        (
            "POST",
            f"{edge}/api/v1/overrides",
            override(TEAM, someone),
            f"{edge}/api/v1/overrides?team={TEAM}",
            acting,
        ),
        (
            "POST",
            f"{edge}/api/v1/notify",
            {"recipient": someone, "message": "hi"},
            f"{edge}/api/v1/notifications",
            acting,
        ),
        ("POST", policies, policy(TEAM), policies, {"manager", "admin"}),
        ("POST", policies, policy("data"), policies, {"admin"}),
        ("GET", f"{edge}/api/v1/integrations", None, None, {"admin"}),
        (
            "POST",
            f"{edge}/api/v1/integrations",
            {"name": f"k-{uuid.uuid4().hex[:6]}"},
            f"{edge}/api/v1/integrations",
            {"admin"},
        ),
        ("GET", f"{edge}/api/v1/users", None, None, {"admin"}),
        ("GET", f"{edge}/api/v1/audit", None, None, {"admin"}),
        (
            "PATCH",
            f"{edge}/api/v1/users/{someone}",
            {"role": "viewer"},
            f"{edge}/api/v1/users/{someone}",
            {"admin"},
        ),
        ("GET", f"{edge}/api/v1/me", None, None, everyone),
        # the services' own ports: the same rules at the same paths
        ("GET", f"{urls['alerts']}/api/v1/alerts", None, None, everyone),
        ("GET", f"{urls['incidents']}/api/v1/incidents", None, None, everyone),
        (
            "PATCH",
            f"{urls['incidents']}/api/v1/incidents/{incident_id}",
            {"note": "via 8002"},
            the_incident,
            acting,
        ),
        ("GET", f"{urls['oncall']}/api/v1/schedules", None, None, everyone),
        ("POST", f"{urls['oncall']}/api/v1/escalation_policies", policy("data"), policies, {"admin"}),
        (
            "POST",
            f"{urls['notifications']}/api/v1/notify",
            {"recipient": someone, "message": "x"},
            f"{edge}/api/v1/notifications",
            acting,
        ),
        ("GET", f"{urls['notifications']}/api/v1/notifications", None, None, everyone),
    ]


def read_state(platform, url):
    answer = platform.api.get(url)
    assert answer.status_code == 200, answer.text
    return answer.content


@pytest.mark.parametrize("role", ROLES)
def test_each_role_against_the_table_of_routes(platform, role):
    session = platform.sessions[role]
    for method, url, body, state, allowed in routes(platform, incident(platform)):
        before = read_state(platform, state) if state else None
        answer = session.request(method, url, json=body, timeout=10)
        where = f"{role}: {method} {url}"
        if role in allowed:
            assert 200 <= answer.status_code < 300, f"{where} answered {answer.status_code}: {answer.text}"
            continue
        expected = 401 if role == "anonymous" else 403
        assert answer.status_code == expected, f"{where} answered {answer.status_code}: {answer.text}"
        assert answer.headers["content-type"] == "application/problem+json"
        if state:
            assert read_state(platform, state) == before, f"{where} changed something"


def test_the_exceptions_need_no_credentials(platform):
    for url in platform.urls.values():
        assert requests.get(f"{url}/health", timeout=10).status_code == 200
        assert requests.get(f"{url}/metrics", timeout=10).status_code == 200
    alert = {"service": "frontend-api", "severity": "low", "message": "keyless first try"}
    assert requests.post(f"{platform.edge}/api/v1/alerts", json=alert, timeout=10).status_code in (201, 202)


def test_unknown_paths_on_the_services_ports_answer_problem_json(platform):
    for name in ("alerts", "incidents", "oncall", "notifications"):
        answer = requests.get(f"{platform.urls[name]}/api/v1/nothing-here", timeout=10)
        assert answer.status_code == 404
        assert answer.headers["content-type"] == "application/problem+json"
        assert answer.json()["status"] == 404


def sign_in(platform, email, password):
    session = requests.Session()
    answer = session.post(f"{platform.edge}/api/v1/auth/login", json={"email": email, "password": password})
    return session, answer


def test_a_first_sign_in_must_change_the_password_then_acts_with_cookie_and_csrf(platform):
    email = f"cookie-{uuid.uuid4().hex[:6]}@example.com"
    first = one_time_password(klaxon(platform.env, "user", "create", email, "--role", "responder"))
    session, answer = sign_in(platform, email, first)
    assert answer.status_code == 200, answer.text
    cookie = answer.headers["Set-Cookie"]
    assert "klaxon_session=" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    assert "Secure" not in cookie, "the platform is reached over plain http here"
    csrf = answer.json()["csrf_token"]
    assert answer.json()["user"]["must_change_password"] is True

    incident_id = incident(platform)
    url = f"{platform.edge}/api/v1/incidents/{incident_id}"
    forced = session.patch(url, json={"note": "x"}, headers={"X-CSRF-Token": csrf})
    assert forced.status_code == 403 and "new password" in forced.json()["detail"]
    minted = session.post(
        f"{platform.edge}/api/v1/tokens", json={"name": "x"}, headers={"X-CSRF-Token": csrf}
    )
    assert minted.status_code == 403 and "new password" in minted.json()["detail"], "no way around the change"
    changed = session.post(
        f"{platform.edge}/api/v1/auth/password",
        json={"current_password": first, "new_password": "correct horse battery"},
        headers={"X-CSRF-Token": csrf},
    )
    assert changed.status_code == 200, changed.text

    without = session.patch(url, json={"note": "no token"})
    assert without.status_code == 403 and "X-CSRF-Token" in without.json()["detail"]
    assert "no token" not in str(platform.api.get(url).json()["notes"])
    with_token = session.patch(url, json={"note": "with token"}, headers={"X-CSRF-Token": csrf})
    assert with_token.status_code == 200, with_token.text
    assert session.get(f"{platform.edge}/api/v1/me").json()["email"] == email

    # The same cookie on a service's own port is held to the same rule.
    direct = f"{platform.urls['incidents']}/api/v1/incidents/{incident_id}"
    assert session.patch(direct, json={"note": "direct"}).status_code == 403
    assert session.patch(direct, json={"note": "direct"}, headers={"X-CSRF-Token": csrf}).status_code == 200

    out = session.post(f"{platform.edge}/api/v1/auth/logout", headers={"X-CSRF-Token": csrf})
    assert out.status_code == 204
    stale = requests.get(f"{platform.edge}/api/v1/me", cookies={"klaxon_session": cookie_value(cookie)})
    assert stale.status_code == 401, "the session ended on the server, not only in the browser"


def cookie_value(set_cookie):
    return set_cookie.split("klaxon_session=", 1)[1].split(";", 1)[0]


def test_a_wrong_password_and_an_unknown_email_answer_the_same(platform):
    _, wrong_password = sign_in(platform, platform.people["viewer"], "not-the-password")
    _, unknown = sign_in(platform, f"nobody-{uuid.uuid4().hex[:6]}@example.com", "not-the-password")
    assert wrong_password.status_code == unknown.status_code == 401
    assert wrong_password.json() == unknown.json()


def test_the_timeline_names_the_signed_in_person_whatever_x_klaxon_actor_says(platform):
    incident_id = incident(platform)
    responder = platform.sessions["responder"]
    url = f"{platform.edge}/api/v1/incidents/{incident_id}"
    changed = responder.patch(
        url, json={"status": "acknowledged"}, headers={"X-Klaxon-Actor": "ceo@example.com"}
    )
    assert changed.status_code == 200, changed.text
    entries = platform.api.get(url).json()["timeline"]
    [acknowledged] = [e for e in entries if e["kind"] == "acknowledged"]
    assert acknowledged["actor"] == platform.people["responder"]


def test_revoked_and_expired_tokens_get_401(platform):
    email = platform.people["viewer"]
    token = api_token(platform.env, email, name="short-lived")
    me = f"{platform.edge}/api/v1/me"
    assert session_with(token).get(me).status_code == 200
    listed = session_with(token).get(f"{platform.edge}/api/v1/tokens").json()["items"]
    [made] = [t for t in listed if t["prefix"] == token[:9]]
    revoked = session_with(token).delete(f"{platform.edge}/api/v1/tokens/{made['id']}")
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert session_with(token).get(me).status_code == 401

    soon = api_token_expiring(platform, email)
    assert session_with(soon).get(me).status_code == 200
    platform.offset.write_text(str(2 * 3600))  # two hours later, by the platform's clock
    try:
        assert session_with(soon).get(me).status_code == 401
    finally:
        platform.offset.write_text("0")


def api_token_expiring(platform, email):
    at = (dt.datetime.now(dt.UTC) + dt.timedelta(hours=1)).isoformat()
    args = ["token", "create", email, "--name", "one-hour", "--expires-at", at]
    return klaxon(platform.env, *args).strip().splitlines()[-1]


def test_audit_records_sign_ins_tokens_and_role_changes(platform):
    entries = platform.api.get(f"{platform.edge}/api/v1/audit", params={"limit": 500}).json()["items"]
    actions = {entry["action"] for entry in entries}
    assert {"user_created", "token_created", "integration_created"} <= actions


@pytest.fixture(scope="module")
def sso(tmp_path_factory):
    """A platform whose edge signs people in through a real OpenID provider on loopback."""
    workdir = tmp_path_factory.mktemp("sso")
    edge_port = free_port()
    redirect = f"http://127.0.0.1:{edge_port}/api/v1/auth/oidc/callback"
    clients = [{"client_id": "klaxon", "client_secret": "sso-test-secret", "redirect_uris": [redirect]}]
    run = uuid.uuid4().hex[:6]
    accounts = {
        "ada": {"email": f"ada-{run}@example.com", "email_verified": True, "name": "Ada", "groups": ["sre"]},
        "eve": {"email": f"eve-{run}@example.com", "email_verified": True, "name": "Eve", "groups": []},
        # Claims an address it has not verified (some providers let anyone type any).
        "mal": {"email": f"max-{run}@example.com", "name": "Max", "groups": ["sre"]},
    }
    with oidc_provider(workdir, clients, accounts) as idp:
        extra = {
            "KLAXON_EDGE_PORT": edge_port,
            "KLAXON_PUBLIC_URL": f"http://127.0.0.1:{edge_port}",
            "KLAXON_OIDC_ISSUER": idp.issuer,
            "KLAXON_OIDC_CLIENT_ID": "klaxon",
            "KLAXON_OIDC_CLIENT_SECRET": "sso-test-secret",
            "KLAXON_OIDC_ROLE_GROUPS": "responder=sre",
            "KLAXON_OIDC_SCOPES": "openid email profile groups",
        }
        with running_platform(workdir, extra_env=extra) as running:
            running.wait_healthy(timeout=90)
            running.accounts, running.redirect = accounts, redirect
            yield running


def sso_sign_in(platform, login):
    browser = requests.Session()
    started = browser.get(f"{platform.edge}/api/v1/auth/oidc/login", allow_redirects=False)
    assert started.status_code == 302, started.text
    callback = follow_login(browser, started.headers["Location"], login, platform.redirect)
    return browser, browser.get(callback, allow_redirects=False)


def test_sign_in_through_the_openid_provider_links_the_known_user(sso):
    email = sso.accounts["ada"]["email"]
    klaxon(sso.env, "user", "create", email, "--role", "viewer")
    assert requests.get(f"{sso.edge}/api/v1/auth/providers").json()["oidc"] is True
    browser, landed = sso_sign_in(sso, "ada")
    assert landed.status_code == 302 and landed.headers["Location"] == "/", landed.text
    me = browser.get(f"{sso.edge}/api/v1/me")
    assert me.status_code == 200, me.text
    assert me.json()["email"] == email and me.json()["via"] == "session"
    assert me.json()["role"] == "responder", "the groups claim maps sre to responder"
    users = {u["email"]: u for u in sso.api.get(f"{sso.edge}/api/v1/users").json()["items"]}
    assert users[email]["has_login"] is True


def test_an_sso_account_klaxon_does_not_know_is_refused(sso):
    browser, landed = sso_sign_in(sso, "eve")
    assert landed.status_code == 403 and "no Klaxon user" in landed.json()["detail"]
    assert browser.get(f"{sso.edge}/api/v1/me").status_code == 401


def test_an_unverified_email_does_not_take_over_the_klaxon_user_of_that_address(sso):
    email = sso.accounts["mal"]["email"]
    klaxon(sso.env, "user", "create", email, "--role", "admin")
    browser, landed = sso_sign_in(sso, "mal")
    assert landed.status_code == 403 and "did not say it verified" in landed.json()["detail"], landed.text
    assert browser.get(f"{sso.edge}/api/v1/me").status_code == 401
    users = {u["email"]: u for u in sso.api.get(f"{sso.edge}/api/v1/users").json()["items"]}
    assert users[email]["role"] == "admin", "a linked sign-in would have applied the groups (responder)"


def test_a_callback_without_the_flow_it_started_is_refused(sso):
    forged = requests.get(f"{sso.edge}/api/v1/auth/oidc/callback?code=x&state=y", allow_redirects=False)
    assert forged.status_code == 403
    assert requests.get(f"{sso.edge}/api/v1/me").status_code == 401


def test_guessing_a_password_is_slowed_then_refused_with_retry_after(platform):
    email = f"target-{uuid.uuid4().hex[:6]}@example.com"
    klaxon(platform.env, "user", "create", email, "--role", "viewer")
    answers = [sign_in(platform, email, f"guess-{n}")[1] for n in range(6)]
    assert [a.status_code for a in answers[:5]] == [401] * 5
    refused = answers[5]
    assert refused.status_code == 429, refused.text
    assert 1 <= int(refused.headers["Retry-After"]) <= 30
    failed = platform.api.get(f"{platform.edge}/api/v1/audit", params={"action": "login_failed"}).json()
    assert sum(entry["subject"] == email for entry in failed["items"]) == 5


def services_routes():
    """(service, method, path) of every HTTP entrypoint of the four services' own ports."""
    import inspect

    from nameko.extensions import ENTRYPOINT_EXTENSIONS_ATTR
    from nameko.web.handlers import HttpRequestHandler

    from klaxon.registry import SERVICE_CLASSES, service_class

    for name in SERVICE_CLASSES:
        for _, member in inspect.getmembers(service_class(name)):
            for handler in getattr(member, ENTRYPOINT_EXTENSIONS_ATTR, ()):
                if isinstance(handler, HttpRequestHandler) and "<path:" not in handler.url:
                    # <int(max=…):incident_id> and <email> alike: a value in the parameter's place
                    path = re.sub(
                        r"<(?:[^:>]+:)?(\w+)>", lambda m: "1" if m[1].endswith("_id") else m[1], handler.url
                    )
                    for method in handler.method.split(","):
                        yield name, method, path


def test_every_route_of_the_services_ports_needs_credentials_but_the_exceptions(platform):
    open_to_all = {
        ("GET", "/health"),
        ("GET", "/metrics"),
        ("POST", "/api/v1/alerts"),
        ("GET", "/api/v1/ack/token"),
        ("POST", "/api/v1/ack/token"),
    }
    checked = 0
    for name, method, path in services_routes():
        answer = requests.request(method, platform.urls[name] + path, json={}, timeout=10)
        if (method, path) in open_to_all:
            assert answer.status_code != 401, f"{name} {method} {path} should need no credentials"
            continue
        assert answer.status_code == 401, f"{name} {method} {path} answered {answer.status_code}"
        checked += 1
    assert checked >= 20
