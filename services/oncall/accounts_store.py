"""Queries for people as users: logins, sessions, API tokens, calendar feeds, the audit log.

The on-call service owns people, so it owns their logins too: the person who is on call,
is paged and acknowledges is the one who signs in.
"""

import hmac
import json

from services.oncall import accounts
from services.oncall.credentials_store import CredentialStore
from services.oncall.models import ApiToken, AuthSession, LoginFailure, Person, Team
from services.oncall.store import shown_methods
from services.shared.access import lower_role
from services.shared.db import write_transaction
from services.shared.errors import Conflict, Forbidden, NotFound, Throttled, Unauthorized
from services.shared.store import BaseStore

WRONG_LOGIN = "wrong e-mail or password"


class AccountStore(CredentialStore, BaseStore):
    def __init__(self, database, config):
        super().__init__(database, config)
        self.sessions = accounts.SessionPolicy.from_config(config)
        self.throttle = accounts.Throttle.from_config(config)

    # -- users -------------------------------------------------------------------------
    def create_user(self, request, actor, source, now):
        """A user with a one-time password; a person already on a rotation becomes one."""
        password = accounts.one_time_password()
        fields = {
            "role": request.role,
            "password_hash": accounts.hash_password(password),
            "must_change_password": True,
            "disabled": False,
        }
        with write_transaction(self.db, lock_key=f"person:{request.email}"):
            person = Person.get_or_none(Person.email == request.email)
            if person is not None and person.password_hash is not None:
                raise Conflict(f"{request.email} already has a login; an admin may reset it")
            if person is None:
                name = request.name or request.email.split("@")[0]
                person = Person.create(email=request.email, name=name, time_zone=request.time_zone, **fields)
            else:
                Person.update(**fields).where(Person.id == person.id).execute()
            self.record(actor, "user_created", request.email, source, {"role": request.role}, now)
        return {"user": self.user(request.email), "one_time_password": password}

    def reset_password(self, email, actor, source, now):
        password = accounts.one_time_password()
        with write_transaction(self.db, lock_key=f"person:{email}"):
            person = self._person(email)
            Person.update(password_hash=accounts.hash_password(password), must_change_password=True).where(
                Person.id == person.id
            ).execute()
            self.record(actor, "password_reset", email, source, None, now)
        return {"user": self.user(email), "one_time_password": password}

    def has_admin(self):
        return Person.select().where(Person.role == "admin", Person.disabled == False).exists()  # noqa: E712

    def user(self, email):
        return user_dict(self._person(email), self.managed_teams(email))

    def users(self):
        managers = self._managers()
        return [
            user_dict(person, managers.get(person.email, []))
            for person in Person.select().order_by(Person.email)
        ]

    def update_user(self, email, change, actor, source, now):
        with write_transaction(self.db, lock_key=f"person:{email}"):
            person = self._person(email)
            fields = change.model_dump(exclude_none=True)
            if fields.get("role") not in (None, "admin") or fields.get("disabled"):
                self._keep_an_admin(person)
            if fields:
                Person.update(**fields).where(Person.id == person.id).execute()
            if fields.get("disabled"):
                self._end_sessions(person.id, now)
            for action in ("role", "disabled"):
                if action in fields and fields[action] != getattr(person, action):
                    detail = {"from": getattr(person, action), "to": fields[action]}
                    self.record(actor, f"{action}_changed", email, source, detail, now)
        return self.user(email)

    def _keep_an_admin(self, person):
        if person.role != "admin" or person.disabled:
            return
        others = Person.select().where(
            Person.role == "admin",
            Person.disabled == False,  # noqa: E712 (peewee builds SQL from ==)
            Person.id != person.id,
        )
        if not others.exists():
            raise Conflict("this is the last admin; make someone else admin first")

    def update_profile(self, email, change):
        fields = change.model_dump(exclude_none=True)
        if "contact_methods" in fields:
            fields["contact_methods"] = json.dumps(
                [method.model_dump(exclude_none=True) for method in change.contact_methods]
            )
        person = self._person(email)
        if fields:
            Person.update(**fields).where(Person.id == person.id).execute()
        return self.user(email)

    def _person(self, email):
        person = Person.get_or_none(Person.email == email)
        if person is None:
            raise NotFound("user", email)
        return person

    def _managers(self):
        """{email: [teams they manage]}."""
        managed = {}
        for team in Team.select().where(Team.managers.is_null(False)):
            for email in json.loads(team.managers):
                managed.setdefault(email, []).append(team.name)
        return managed

    def managed_teams(self, email):
        return sorted(self._managers().get(email, []))

    # -- signing in ----------------------------------------------------------------------
    def login(self, email, password, source, now):
        """(session secret, principal), or Unauthorized; a guesser gets Throttled.

        Returns the seconds to wait before answering a failure as `Unauthorized.delay`.
        """
        keys = accounts.throttle_keys(email, source)
        self._refuse_if_locked(keys, now)
        person = Person.get_or_none(Person.email == (email or "").strip())
        matches = accounts.password_matches(person.password_hash if person else None, password)
        if not matches or person.disabled:
            failures = self._count_failure(keys, now)
            self.record(email or "", "login_failed", email, source, None, now)
            error = Unauthorized(WRONG_LOGIN)
            error.delay = self.throttle.delay(failures)
            raise error
        LoginFailure.delete().where(LoginFailure.key == keys[0]).execute()
        if accounts.HASHER.check_needs_rehash(person.password_hash):
            Person.update(password_hash=accounts.hash_password(password)).where(
                Person.id == person.id
            ).execute()
        self.record(person.email, "login", person.email, source, {"via": "password"}, now)
        return self.open_session(person, source, now)

    def _refuse_if_locked(self, keys, now):
        locked = [
            row.locked_until
            for row in LoginFailure.select().where(LoginFailure.key.in_(keys))
            if row.locked_until is not None and row.locked_until > now
        ]
        if locked:
            wait = max(1, int((max(locked) - now).total_seconds() + 0.999))
            raise Throttled(f"too many failed sign-ins; try again in {wait} s", wait)

    def _count_failure(self, keys, now):
        """Record one failure under each key; the account's count so far."""
        counts = []
        with write_transaction(self.db, lock_key="login-failures"):
            for key in keys:
                row = LoginFailure.get_or_none(LoginFailure.key == key)
                if row is None or now - row.first_at > self.throttle.window:
                    failures, first_at = 1, now
                else:
                    failures, first_at = row.failures + 1, row.first_at
                lock = self.throttle.lock_for(key, failures)
                locked_until = now + lock if lock else None
                LoginFailure.insert(
                    key=key, failures=failures, first_at=first_at, locked_until=locked_until
                ).on_conflict(
                    conflict_target=[LoginFailure.key],
                    update={
                        LoginFailure.failures: failures,
                        LoginFailure.first_at: first_at,
                        LoginFailure.locked_until: locked_until,
                    },
                ).execute()
                counts.append(failures)
        return counts[0]

    def open_session(self, person, source, now):
        secret = accounts.new_secret()
        session = AuthSession.create(
            secret_hash=accounts.digest(secret),
            person_id=person.id,
            csrf_token=accounts.new_secret(),
            source=(source or "")[:100] or None,
            created_at=now,
            last_seen_at=now,
            expires_at=now + self.sessions.absolute,
        )
        principal = self._principal(person, "session", csrf_token=session.csrf_token)
        return {"session": secret, "expires_at": session.expires_at.isoformat(), "principal": principal}

    def sso_login(self, claims, role, source, now):
        """The session of the person an OpenID provider vouched for; their first SSO login links
        their subject, if the provider verified their e-mail (`claims["email_verified"]`).
        `role` (from the groups claim, or None) is applied when given."""
        email = (claims.get("email") or "").strip()
        with write_transaction(self.db, lock_key=f"person:{email}"):
            person = self._sso_person(email, claims, role)
            changes = {"oidc_subject": claims["sub"], **({"role": role} if role else {})}
            Person.update(**changes).where(Person.id == person.id).execute()
            if role and role != person.role:
                self.record("sso", "role_changed", email, source, {"from": person.role, "to": role}, now)
            self.record(email, "login", email, source, {"via": "oidc"}, now)
        return self.open_session(Person.get_by_id(person.id), source, now)

    def _sso_person(self, email, claims, role):
        """The user an SSO login is for; one is made only when the groups grant a role."""
        person = Person.get_or_none(Person.email == email)
        if person is None and role is None:
            raise Forbidden(f"{email or 'this account'} has no Klaxon user; ask an admin to create one")
        if person is None:
            return Person.create(email=email, name=claims.get("name") or email.split("@")[0], role=role)
        if person.disabled:
            raise Forbidden(f"{email} is disabled")
        if person.oidc_subject not in (None, claims["sub"]):
            raise Forbidden(f"{email} is linked to another single sign-on account")
        if person.oidc_subject is None and not claims.get("email_verified"):
            # Anyone may claim any address at some providers: only a verified one takes over a user.
            raise Forbidden(
                f"the identity provider did not say it verified {email}, so it cannot be linked to "
                "the Klaxon user of that address (KLAXON_OIDC_TRUST_EMAIL=true trusts its addresses)"
            )
        return person

    def authenticate(self, credentials, now):
        """The principal behind a session cookie or an API token; Unauthorized otherwise."""
        if "token" in credentials:
            return self._token_principal(credentials["token"], now)
        return self._session_principal(credentials, now)

    def _session_principal(self, credentials, now):
        session = AuthSession.get_or_none(AuthSession.secret_hash == accounts.digest(credentials["session"]))
        if session is None or session.ended_at is not None:
            raise Unauthorized("the session has ended; sign in again")
        if not self.sessions.alive(session.last_seen_at, session.expires_at, now):
            raise Unauthorized("the session has expired; sign in again")
        if credentials.get("unsafe") and not csrf_matches(credentials.get("csrf"), session.csrf_token):
            raise Forbidden("a change made with a session cookie needs its X-CSRF-Token header")
        person = Person.get_or_none(Person.id == session.person_id)
        if person is None or person.disabled:
            raise Unauthorized("this user is disabled")
        if self.sessions.needs_touch(session.last_seen_at, now):
            AuthSession.update(last_seen_at=now).where(AuthSession.id == session.id).execute()
        return self._principal(person, "session", csrf_token=session.csrf_token)

    def _token_principal(self, secret, now):
        token = ApiToken.get_or_none(ApiToken.secret_hash == accounts.digest(secret))
        if token is None or token.revoked_at is not None:
            raise Unauthorized("unknown or revoked API token")
        if token.expires_at is not None and token.expires_at <= now:
            raise Unauthorized("this API token has expired")
        person = Person.get_or_none(Person.id == token.person_id)
        if person is None or person.disabled:
            raise Unauthorized("the owner of this API token is disabled")
        if token.last_used_at is None or self.sessions.needs_touch(token.last_used_at, now):
            ApiToken.update(last_used_at=now).where(ApiToken.id == token.id).execute()
        principal = self._principal(person, "token")
        principal["role"] = lower_role(person.role, token.role)
        principal["must_change_password"] = False
        return principal

    def _principal(self, person, via, csrf_token=None):
        principal = {
            **user_dict(person, self.managed_teams(person.email)),
            "via": via,
        }
        if csrf_token is not None:
            principal["csrf_token"] = csrf_token
        return principal

    def logout(self, session_secret, source, now):
        session = AuthSession.get_or_none(AuthSession.secret_hash == accounts.digest(session_secret))
        if session is None or session.ended_at is not None:
            return
        AuthSession.update(ended_at=now).where(AuthSession.id == session.id).execute()
        person = Person.get_by_id(session.person_id)
        self.record(person.email, "logout", person.email, source, None, now)

    def _end_sessions(self, person_id, now):
        AuthSession.update(ended_at=now).where(
            AuthSession.person_id == person_id, AuthSession.ended_at.is_null()
        ).execute()

    def change_password(self, email, change, source, now):
        person = self._person(email)
        if not accounts.password_matches(person.password_hash, change.current_password):
            raise Forbidden("the current password is wrong")
        Person.update(
            password_hash=accounts.hash_password(change.new_password), must_change_password=False
        ).where(Person.id == person.id).execute()
        self.record(email, "password_changed", email, source, None, now)
        return self.user(email)


def user_dict(person, managed_teams):
    return {
        "email": person.email,
        "name": person.name,
        "role": person.role,
        "time_zone": person.time_zone,
        "contact_methods": shown_methods(person.contact_methods),
        "disabled": bool(person.disabled),
        "has_login": person.password_hash is not None or person.oidc_subject is not None,
        "must_change_password": bool(person.must_change_password),
        "managed_teams": managed_teams,
    }


def csrf_matches(given, expected):
    """Whether a request's X-CSRF-Token is its session's, compared in constant time so the
    time taken tells nothing of how much of a guess was right; a missing one never is.
    Compared as bytes: a header can hold characters compare_digest refuses in a str."""
    if not isinstance(given, str):
        return False
    return hmac.compare_digest(given.encode(), expected.encode())
