"""The on-call service's entrypoints for people as users: sign-in, sessions, API tokens,
users, calendar feeds and the audit log. Mixed into `OncallService`, which declares
`store`, `accounts` (a `SiblingStore(AccountStore)`), `clock` and `config`.

Callers pass the principal the edge (or a service's port) authenticated; what only an
admin or the person themselves may do is checked here too, so no door forgets it.
"""

import eventlet

from services.oncall.access_requests import (
    CalendarFeedRequest,
    LoginRequest,
    NewUser,
    PasswordChange,
    ProfileChange,
    TokenRequest,
    UserChange,
)
from services.shared import access
from services.shared.errors import Forbidden, NotFound, Unauthorized
from services.shared.rpc import rpc
from services.shared.validation import parse


class AccessEntrypoints:
    @property
    def identity(self):
        """Who authenticates this service's own port: itself, without a round trip."""
        return self

    @rpc
    def authenticate(self, credentials):
        return self.accounts.authenticate(credentials, self.clock.now())

    @rpc
    def login(self, payload, source=None):
        request = parse(LoginRequest, payload)
        try:
            return self.accounts.login(request.email, request.password, source, self.clock.now())
        except Unauthorized as error:
            # Guessing gets slower with each failure; green threads keep serving others meanwhile.
            eventlet.sleep(getattr(error, "delay", 0))
            raise Unauthorized(str(error)) from None

    @rpc
    def sso_login(self, claims, role, source=None):
        return self.accounts.sso_login(claims, role, source, self.clock.now())

    @rpc
    def logout(self, session, source=None):
        self.accounts.logout(session, source, self.clock.now())

    @rpc
    def change_password(self, principal, payload, source=None):
        change = parse(PasswordChange, payload)
        return self.accounts.change_password(principal["email"], change, source, self.clock.now())

    # -- users (admin) ---------------------------------------------------------------------
    @rpc
    def list_users(self):
        return self.accounts.users()

    @rpc
    def get_user(self, email):
        return self.accounts.user(email)

    @rpc
    def create_user(self, principal, payload, source=None):
        access.authorize(principal, access.ADMIN)
        return self.accounts.create_user(
            parse(NewUser, payload), principal["email"], source, self.clock.now()
        )

    @rpc
    def update_user(self, principal, email, payload, source=None):
        access.authorize(principal, access.ADMIN)
        change = parse(UserChange, payload)
        return self.accounts.update_user(email, change, principal["email"], source, self.clock.now())

    @rpc
    def reset_password(self, principal, email, source=None):
        access.authorize(principal, access.ADMIN)
        return self.accounts.reset_password(email, principal["email"], source, self.clock.now())

    @rpc
    def update_profile(self, principal, email, payload):
        """A person's own name, time zone and contact methods (an admin may change anyone's)."""
        if principal["email"] != email:
            access.authorize(principal, access.ADMIN)
        return self.accounts.update_profile(email, parse(ProfileChange, payload))

    # -- API tokens ------------------------------------------------------------------------
    @rpc
    def create_token(self, principal, payload, source=None):
        if principal.get("via") == "token":
            raise Forbidden("an API token cannot make API tokens; sign in, or use `klaxon token create`")
        if principal.get("must_change_password"):
            # A token never asks for the password again: made now, it would outlive the change.
            raise Forbidden("set a new password first: POST /api/v1/auth/password")
        request = parse(TokenRequest, payload)
        return self.accounts.create_token(principal["email"], request, source, self.clock.now())

    @rpc
    def list_tokens(self, principal):
        return self.accounts.tokens(principal["email"])

    @rpc
    def revoke_token(self, principal, token_id, source=None):
        return self.accounts.revoke_token(principal["email"], token_id, source, self.clock.now())

    # -- audit -----------------------------------------------------------------------------
    @rpc
    def record_audit(self, actor, action, subject, source=None, detail=None):
        self.accounts.record(actor, action, subject, source, detail, self.clock.now())

    @rpc
    def audit_log(self, filters, cursor=None, limit=None):
        return self.accounts.audit_log(filters.get("action"), cursor, limit)

    # -- calendar feeds --------------------------------------------------------------------
    @rpc
    def create_feed(self, principal, payload):
        request = parse(CalendarFeedRequest, payload)
        if request.team is not None:
            self.store.schedule(request.team)  # NotFound for a team that has none
        return self.accounts.create_feed(principal["email"], request, self.clock.now())

    @rpc
    def list_feeds(self, principal):
        return self.accounts.feeds(principal["email"])

    @rpc
    def revoke_feed(self, principal, feed_id):
        self.accounts.revoke_feed(principal["email"], feed_id, self.clock.now())

    @rpc
    def feed_calendar(self, secret):
        try:
            team, email = self.accounts.feed_subject(secret)
        except NotFound:
            raise NotFound("calendar", "at this URL (revoked, or never made)") from None
        return self.calendar(team=team, email=email)
