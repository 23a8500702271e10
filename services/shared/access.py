"""Who may do what: roles, the permission each route asks for, and reading credentials.

The same rules serve the edge and the services' own ports. A route declares one
permission per method; `authorize` compares it with the signed-in principal, which the
on-call service (where people and their logins live) answers for a credential.

A principal is a dict: `email`, `name`, `role`, `via` ("session" or "token"),
`managed_teams`, `must_change_password`.
"""

from services.shared.errors import Forbidden, Unauthorized

ROLES = ("viewer", "responder", "admin")
RANK = {role: rank for rank, role in enumerate(ROLES)}

# Permissions a route may ask for.
PUBLIC = "public"  # no credential: /health, /metrics, signed acknowledge links, calendar secrets
INTEGRATION = "integration"  # an integration key, checked by ingestion itself
SELF = "self"  # any signed-in person, acting on their own account (me, password, tokens)
READ = "read"  # viewer and above
RESPOND = "respond"  # responder and above: act on incidents, overrides, own contact methods
MANAGE_TEAM = "manage_team"  # admin, or a responder who manages the team (checked with the team)
ADMIN = "admin"

PERMISSIONS = (PUBLIC, INTEGRATION, SELF, READ, RESPOND, MANAGE_TEAM, ADMIN)
LEAST_ROLE = {SELF: "viewer", READ: "viewer", RESPOND: "responder", MANAGE_TEAM: "responder", ADMIN: "admin"}
UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})

SESSION_COOKIE = "klaxon_session"
CSRF_HEADER = "X-CSRF-Token"
TOKEN_PREFIX = "klxt_"


def needs_credentials(permission):
    return permission not in (PUBLIC, INTEGRATION)


def authorize(principal, permission):
    """Raise 401 without a principal and 403 when its role ranks below the permission's."""
    if not needs_credentials(permission):
        return
    if principal is None:
        raise Unauthorized("sign in, or send an API token as Authorization: Bearer <token>")
    if principal.get("must_change_password") and permission != SELF:
        raise Forbidden("set a new password first: POST /api/v1/auth/password")
    least = LEAST_ROLE[permission]
    if RANK[principal["role"]] < RANK[least]:
        raise Forbidden(f"this needs the role {least}; {principal['email']} is {principal['role']}")


def may_manage_team(principal, team):
    return principal["role"] == "admin" or (
        RANK[principal["role"]] >= RANK["responder"] and team in principal.get("managed_teams", ())
    )


def require_team_manager(principal, team):
    if not may_manage_team(principal, team):
        raise Forbidden(f"only an admin or a manager of team {team} may change it")


def credentials(authorization, cookie, csrf, method):
    """What a request presents, for `authenticate`: a bearer API token wins over a cookie.

    `authorization` is the Authorization header, `cookie` the session cookie's value,
    `csrf` the X-CSRF-Token header; None when nothing is presented.
    """
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return {"token": value.strip()}
    if cookie:
        return {"session": cookie, "csrf": csrf, "unsafe": method.upper() in UNSAFE_METHODS}
    return None


def lower_role(owner_role, asked_role):
    """A token acts with its owner's role, or a lower one chosen when it was made."""
    if asked_role is None:
        return owner_role
    return asked_role if RANK[asked_role] <= RANK[owner_role] else owner_role


KEY_HEADER = "X-Klaxon-Integration-Key"
KEY_PARAM = "integration_key"
KEY_REQUIRED = (
    "an integration key is required: send 'Authorization: Bearer <key>', "
    f"a {KEY_HEADER} header or ?{KEY_PARAM}=<key>"
)


def integration_key(authorization, header, param):
    """The integration key an ingestion request carries: a bearer, a header or a query
    parameter. A person's API token is no integration key, so it does not count as one."""
    scheme, _, value = (authorization or "").partition(" ")
    value = value.strip()
    if scheme.lower() == "bearer" and value and not value.startswith(TOKEN_PREFIX):
        return value
    return header or param
