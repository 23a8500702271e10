"""People as users on real SQLite and PostgreSQL: sign-in, sessions, tokens, the throttle, audit."""

import datetime as dt
import hmac
from types import SimpleNamespace

import pytest

from services.oncall import accounts, accounts_store
from services.oncall.access_requests import NewUser, PasswordChange, TokenRequest, UserChange
from services.oncall.accounts_store import AccountStore
from services.oncall.models import AuthSession, Person
from services.shared.errors import Conflict, Forbidden, Throttled, Unauthorized

NOW = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)
CONFIG = {"LOGIN_SLOWDOWN_SECONDS": 0}


@pytest.fixture
def store(bound):
    return AccountStore(bound("oncall"), CONFIG)


def new_user(store, email="ada@example.com", role="responder"):
    created = store.create_user(NewUser(email=email, role=role), "root@example.com", "10.0.0.1", NOW)
    return created["one_time_password"]


def signed_in(store, email="ada@example.com", role="responder", at=NOW):
    password = new_user(store, email, role)
    return store.login(email, password, "10.0.0.1", at)


def test_a_new_user_signs_in_with_the_one_time_password_and_must_change_it(store):
    opened = signed_in(store)
    principal = store.authenticate({"session": opened["session"]}, NOW)
    assert principal["email"] == "ada@example.com" and principal["role"] == "responder"
    assert principal["must_change_password"] is True and principal["via"] == "session"
    old = accounts.one_time_password()
    with pytest.raises(Forbidden):
        store.change_password(
            "ada@example.com", PasswordChange(current_password=old, new_password="x" * 12), "", NOW
        )


def test_the_password_is_stored_as_argon2id_never_in_clear(store, bound):
    password = new_user(store)
    from services.oncall.models import Person

    stored = Person.get(Person.email == "ada@example.com").password_hash
    assert stored.startswith("$argon2id$") and password not in stored


def test_a_wrong_email_and_a_wrong_password_answer_the_same(store):
    new_user(store)
    with pytest.raises(Unauthorized) as wrong_password:
        store.login("ada@example.com", "not-it", "10.0.0.2", NOW)
    with pytest.raises(Unauthorized) as wrong_email:
        store.login("nobody@example.com", "not-it", "10.0.0.3", NOW)
    assert str(wrong_password.value) == str(wrong_email.value) == "wrong e-mail or password"


def test_repeated_failures_for_one_account_are_refused_with_a_retry_after(store):
    password = new_user(store)
    for _ in range(accounts.Throttle().lock_after):
        with pytest.raises(Unauthorized):
            store.login("ada@example.com", "guess", "10.0.0.9", NOW)
    with pytest.raises(Throttled) as refused:
        store.login("ada@example.com", password, "10.0.0.9", NOW + dt.timedelta(seconds=1))
    assert 1 <= refused.value.retry_after <= 30
    # The right password works again once the lock has passed.
    later = NOW + dt.timedelta(seconds=31)
    assert store.login("ada@example.com", password, "10.0.0.9", later)["session"]


def test_failures_from_one_address_over_many_accounts_are_refused(bound):
    store = AccountStore(bound("oncall"), {**CONFIG, "LOGIN_MAX_FAILURES_PER_ADDRESS": 3})
    for n in range(3):
        with pytest.raises(Unauthorized):
            store.login(f"user{n}@example.com", "guess", "10.6.6.6", NOW)
    with pytest.raises(Throttled):
        store.login("user9@example.com", "guess", "10.6.6.6", NOW)


def test_a_session_cookie_needs_its_csrf_token_for_changes(store):
    opened = signed_in(store)
    csrf = opened["principal"]["csrf_token"]
    credentials = {"session": opened["session"], "unsafe": True}
    with pytest.raises(Forbidden):
        store.authenticate({**credentials, "csrf": None}, NOW)
    with pytest.raises(Forbidden):
        store.authenticate({**credentials, "csrf": "forged"}, NOW)
    assert store.authenticate({**credentials, "csrf": csrf}, NOW)["email"] == "ada@example.com"
    assert store.authenticate({"session": opened["session"], "unsafe": False}, NOW)


def test_a_csrf_token_left_out_or_not_ascii_is_refused(store):
    opened = signed_in(store)
    credentials = {"session": opened["session"], "unsafe": True}
    for refused in (credentials, {**credentials, "csrf": ""}, {**credentials, "csrf": "é" * 43}):
        with pytest.raises(Forbidden):
            store.authenticate(refused, NOW)


def test_a_csrf_token_is_compared_in_constant_time(store, monkeypatch):
    opened = signed_in(store)
    compared = []

    def compare_digest(given, expected):
        compared.append((given, expected))
        return hmac.compare_digest(given, expected)

    monkeypatch.setattr(accounts_store, "hmac", SimpleNamespace(compare_digest=compare_digest))
    with pytest.raises(Forbidden):
        store.authenticate({"session": opened["session"], "unsafe": True, "csrf": "forged"}, NOW)
    assert compared == [(b"forged", opened["principal"]["csrf_token"].encode())]


def test_logout_ends_the_session_server_side(store):
    opened = signed_in(store)
    store.logout(opened["session"], "10.0.0.1", NOW)
    with pytest.raises(Unauthorized):
        store.authenticate({"session": opened["session"]}, NOW)


def test_sessions_expire_when_idle_and_after_their_absolute_lifetime(store):
    opened = signed_in(store)
    idle = accounts.SessionPolicy().idle
    with pytest.raises(Unauthorized):
        store.authenticate({"session": opened["session"]}, NOW + idle + dt.timedelta(seconds=1))
    kept = signed_in(store, "bea@example.com")
    at = NOW
    # Seen every few hours, a session still ends at its absolute expiry.
    while at < NOW + accounts.SessionPolicy().absolute - dt.timedelta(hours=6):
        at += dt.timedelta(hours=6)
        store.authenticate({"session": kept["session"]}, at)
    with pytest.raises(Unauthorized):
        store.authenticate({"session": kept["session"]}, NOW + accounts.SessionPolicy().absolute)
    assert AuthSession.select().count() == 2


def test_tokens_act_with_their_owners_role_or_a_lower_one_and_are_stored_hashed(store):
    new_user(store, role="admin")
    full = store.create_token("ada@example.com", TokenRequest(name="terraform"), "", NOW)
    reader = store.create_token("ada@example.com", TokenRequest(name="grafana", role="viewer"), "", NOW)
    assert full["token"].startswith("klxt_") and full["prefix"] == full["token"][:9]
    assert store.authenticate({"token": full["token"]}, NOW)["role"] == "admin"
    assert store.authenticate({"token": reader["token"]}, NOW)["role"] == "viewer"
    listed = store.tokens("ada@example.com")
    assert [t["name"] for t in listed] == ["terraform", "grafana"]
    assert all("token" not in t for t in listed), "a token is shown once, when it is made"


def test_a_token_never_ranks_above_its_owner_even_after_a_demotion(store):
    new_user(store, "root@example.com", role="admin")
    new_user(store, role="admin")
    token = store.create_token("ada@example.com", TokenRequest(name="ci"), "", NOW)["token"]
    store.update_user("ada@example.com", UserChange(role="viewer"), "root@example.com", "", NOW)
    assert store.authenticate({"token": token}, NOW)["role"] == "viewer"


def test_revoked_and_expired_tokens_are_refused(store):
    new_user(store)
    soon = NOW + dt.timedelta(hours=1)
    expiring = store.create_token("ada@example.com", TokenRequest(name="a", expires_at=soon), "", NOW)
    revoked = store.create_token("ada@example.com", TokenRequest(name="b"), "", NOW)
    store.revoke_token("ada@example.com", revoked["id"], "", NOW)
    with pytest.raises(Unauthorized):
        store.authenticate({"token": revoked["token"]}, NOW)
    assert store.authenticate({"token": expiring["token"]}, NOW)
    with pytest.raises(Unauthorized):
        store.authenticate({"token": expiring["token"]}, soon)
    with pytest.raises(Unauthorized):
        store.authenticate({"token": "klxt_" + "x" * 43}, NOW)


def test_a_disabled_user_is_signed_out_and_cannot_sign_in(store):
    new_user(store, "root@example.com", role="admin")
    opened = signed_in(store)
    store.update_user("ada@example.com", UserChange(disabled=True), "root@example.com", "", NOW)
    with pytest.raises(Unauthorized):
        store.authenticate({"session": opened["session"]}, NOW)


def test_the_last_admin_cannot_be_demoted_or_disabled(store):
    new_user(store, role="admin")
    with pytest.raises(Conflict):
        store.update_user("ada@example.com", UserChange(role="viewer"), "ada@example.com", "", NOW)
    with pytest.raises(Conflict):
        store.update_user("ada@example.com", UserChange(disabled=True), "ada@example.com", "", NOW)


def test_sign_ins_token_and_role_changes_are_audited_with_actor_and_source(store):
    new_user(store, "root@example.com", role="admin")
    password = new_user(store)
    with pytest.raises(Unauthorized):
        store.login("ada@example.com", "wrong", "10.1.1.1", NOW)
    store.login("ada@example.com", password, "10.1.1.2", NOW)
    token = store.create_token("ada@example.com", TokenRequest(name="ci"), "10.1.1.3", NOW)
    store.revoke_token("ada@example.com", token["id"], "10.1.1.4", NOW)
    store.update_user("ada@example.com", UserChange(role="admin"), "root@example.com", "10.1.1.5", NOW)
    entries = {entry["action"]: entry for entry in store.audit_log(limit=50)["items"]}
    assert entries["login_failed"]["source"] == "10.1.1.1"
    assert entries["login"]["actor"] == "ada@example.com" and entries["login"]["source"] == "10.1.1.2"
    assert entries["token_created"]["detail"] == {"id": token["id"], "name": "ci"}
    assert entries["token_revoked"]["source"] == "10.1.1.4"
    assert entries["role_changed"]["actor"] == "root@example.com"
    assert entries["role_changed"]["detail"] == {"from": "responder", "to": "admin"}


def test_a_person_on_a_rotation_becomes_a_user_keeping_their_record(store):
    from services.oncall.models import Person

    Person.create(name="Hal", email="hal@example.com", time_zone="Europe/Paris")
    created = store.create_user(NewUser(email="hal@example.com", role="viewer"), "root", "", NOW)
    assert created["user"]["name"] == "Hal" and created["user"]["time_zone"] == "Europe/Paris"
    with pytest.raises(Conflict):
        store.create_user(NewUser(email="hal@example.com"), "root", "", NOW)


def test_single_sign_on_links_a_known_email_once(store):
    new_user(store)
    claims = {"sub": "idp-1", "email": "ada@example.com", "name": "Ada", "email_verified": True}
    opened = store.sso_login(claims, None, "", NOW)
    assert store.authenticate({"session": opened["session"]}, NOW)["email"] == "ada@example.com"
    with pytest.raises(Forbidden):
        store.sso_login({**claims, "sub": "idp-2"}, None, "", NOW)
    with pytest.raises(Forbidden):
        store.sso_login({"sub": "idp-3", "email": "stranger@example.com"}, None, "", NOW)
    made = store.sso_login({"sub": "idp-4", "email": "new@example.com", "name": "New"}, "viewer", "", NOW)
    assert made["principal"]["role"] == "viewer"


def test_an_unverified_email_links_no_user_but_signs_in_the_one_it_linked(store):
    new_user(store)
    claims = {"sub": "idp-1", "email": "ada@example.com", "name": "Ada", "email_verified": False}
    with pytest.raises(Forbidden, match="did not say it verified"):
        store.sso_login(claims, None, "", NOW)
    with pytest.raises(Forbidden, match="did not say it verified"):
        store.sso_login(
            {key: value for key, value in claims.items() if key != "email_verified"}, None, "", NOW
        )
    assert Person.get(Person.email == "ada@example.com").oidc_subject is None
    store.sso_login({**claims, "email_verified": True}, None, "", NOW)
    # Linked by its subject now: a later token without the claim still signs the same person in.
    opened = store.sso_login(claims, None, "", NOW)
    assert store.authenticate({"session": opened["session"]}, NOW)["email"] == "ada@example.com"
