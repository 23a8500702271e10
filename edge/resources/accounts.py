"""/api/v1/auth/*, /api/v1/me, /api/v1/tokens, /api/v1/users, /api/v1/audit and the
secret calendar URLs: people signing in and managing their access."""

import falcon

from edge.auth import principal, source
from edge.requests import filters, read_json
from services.oncall import contracts as c
from services.shared.access import ADMIN, PUBLIC, SELF, SESSION_COOKIE


class SessionCookie:
    """The session cookie: HttpOnly, SameSite=Lax, Secure when people reach Klaxon over https."""

    def __init__(self, secure, max_age):
        self.secure = secure
        self.max_age = max_age

    def set(self, resp, secret):
        resp.set_cookie(
            SESSION_COOKIE,
            secret,
            max_age=self.max_age,
            path="/",
            secure=self.secure,
            http_only=True,
            same_site="Lax",
        )

    def clear(self, resp):
        resp.unset_cookie(SESSION_COOKIE, path="/")
        # unset_cookie writes no SameSite; the cookie it replaces is gone either way.


class Login:
    access = {"POST": PUBLIC}

    def __init__(self, rpc, cookie):
        self.rpc = rpc
        self.cookie = cookie

    def on_post(self, req, resp):
        opened = self.rpc.call(c.SERVICE, c.LOGIN, read_json(req), source(req))
        self.cookie.set(resp, opened["session"])
        signed_in = opened["principal"]
        resp.media = {
            "user": {k: v for k, v in signed_in.items() if k != "csrf_token"},
            "csrf_token": signed_in["csrf_token"],
            "expires_at": opened["expires_at"],
        }


class Logout:
    access = {"POST": SELF}

    def __init__(self, rpc, cookie):
        self.rpc = rpc
        self.cookie = cookie

    def on_post(self, req, resp):
        session = req.cookies.get(SESSION_COOKIE)
        if principal(req)["via"] == "session" and session:
            self.rpc.call(c.SERVICE, c.LOGOUT, session, source(req))
        self.cookie.clear(resp)
        resp.status = falcon.HTTP_204


class Me:
    access = {"GET": SELF}

    def on_get(self, req, resp):
        resp.media = principal(req)


class Password:
    access = {"POST": SELF}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_post(self, req, resp):
        resp.media = self.rpc.call(c.SERVICE, c.CHANGE_PASSWORD, principal(req), read_json(req), source(req))


class Tokens:
    access = {"GET": SELF, "POST": SELF}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp):
        resp.media = {"items": self.rpc.call(c.SERVICE, c.LIST_TOKENS, principal(req))}

    def on_post(self, req, resp):
        resp.media = self.rpc.call(c.SERVICE, c.CREATE_TOKEN, principal(req), read_json(req), source(req))
        resp.status = falcon.HTTP_201


class Token:
    access = {"DELETE": SELF}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_delete(self, req, resp, token_id):
        resp.media = self.rpc.call(c.SERVICE, c.REVOKE_TOKEN, principal(req), token_id, source(req))


class Users:
    access = {"GET": ADMIN, "POST": ADMIN}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp):
        resp.media = {"items": self.rpc.call(c.SERVICE, c.LIST_USERS)}

    def on_post(self, req, resp):
        resp.media = self.rpc.call(c.SERVICE, c.CREATE_USER, principal(req), read_json(req), source(req))
        resp.status = falcon.HTTP_201


class User:
    access = {"GET": ADMIN, "PATCH": ADMIN}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp, email):
        resp.media = self.rpc.call(c.SERVICE, c.GET_USER, email)

    def on_patch(self, req, resp, email):
        resp.media = self.rpc.call(
            c.SERVICE, c.UPDATE_USER, principal(req), email, read_json(req), source(req)
        )


class PasswordReset:
    access = {"POST": ADMIN}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_post(self, req, resp, email):
        resp.media = self.rpc.call(c.SERVICE, c.RESET_PASSWORD, principal(req), email, source(req))


class Audit:
    access = {"GET": ADMIN}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp):
        resp.media = self.rpc.call(
            c.SERVICE,
            c.AUDIT_LOG,
            filters(req, ("action",)),
            req.get_param("cursor"),
            req.get_param("limit"),
        )


class CalendarFeeds:
    access = {"GET": SELF, "POST": SELF}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp):
        resp.media = {"items": self.rpc.call(c.SERVICE, c.LIST_FEEDS, principal(req))}

    def on_post(self, req, resp):
        resp.media = self.rpc.call(c.SERVICE, c.CREATE_FEED, principal(req), read_json(req))
        resp.status = falcon.HTTP_201


class CalendarFeed:
    access = {"DELETE": SELF}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_delete(self, req, resp, feed_id):
        self.rpc.call(c.SERVICE, c.REVOKE_FEED, principal(req), feed_id)
        resp.status = falcon.HTTP_204


class SecretCalendar:
    """The calendar a feed's secret URL shows; the secret is the credential."""

    access = {"GET": PUBLIC}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp, secret):
        resp.content_type = "text/calendar; charset=utf-8"
        resp.text = self.rpc.call(c.SERVICE, c.FEED_CALENDAR, secret)
