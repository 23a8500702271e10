"""Who is asking, checked once per request before any resource runs.

Every resource declares `access`: the permission each of its methods asks for
(`services.shared.access`). `AccessControl` reads the request's credentials (an API
token, or the session cookie with its CSRF header), asks the on-call service whose
they are, and refuses with 401 or 403 before the resource changes anything. The
principal it finds is `req.context.principal`, and the actor of everything done.
"""

import falcon

from services.oncall import contracts as oncall
from services.shared import access

RESPONDERS = ("on_get", "on_post", "on_put", "on_patch", "on_delete")


class Authenticator:
    """Turns a request's credentials into a principal, through the on-call service."""

    def __init__(self, rpc):
        self.rpc = rpc

    def principal(self, req):
        credentials = request_credentials(req)
        if credentials is None:
            return None
        return self.rpc.call(oncall.SERVICE, oncall.AUTHENTICATE, credentials)


def request_credentials(req):
    return access.credentials(
        req.get_header("Authorization"),
        req.cookies.get(access.SESSION_COOKIE),
        req.get_header(access.CSRF_HEADER),
        req.method,
    )


class AccessControl:
    """Falcon middleware: each responder's permission, checked before it runs."""

    def __init__(self, authenticator):
        self.authenticator = authenticator

    def process_resource(self, req, resp, resource, params):
        req.context.principal = None
        if resource is None:
            return
        permission = permission_of(resource, req.method)
        if not access.needs_credentials(permission):
            return
        principal = self.authenticator.principal(req)
        access.authorize(principal, permission)
        req.context.principal = principal


def permission_of(resource, method):
    method = "GET" if method == "HEAD" else method
    declared = getattr(resource, "access", {})
    if method in declared:
        return declared[method]
    if hasattr(resource, f"on_{method.lower()}"):
        # Closed by default: a responder nobody gave a permission is a bug, never public.
        raise TypeError(f"{type(resource).__name__} declares no permission for {method}")
    # No such responder: Falcon answers 405 (or 200 for OPTIONS) and nothing runs.
    return access.PUBLIC


def check_declared(routes):
    """Every responder of every route declares its permission, or the edge does not start."""
    for path, resource in routes.items():
        declared = getattr(resource, "access", {})
        for responder in RESPONDERS:
            method = responder[3:].upper()
            if hasattr(resource, responder) and declared.get(method) not in access.PERMISSIONS:
                raise TypeError(f"{type(resource).__name__} ({path}) declares no permission for {method}")


def actor(req):
    """The signed-in person acting; X-Klaxon-Actor and the like are never believed."""
    principal = req.context.principal
    return principal["email"] if principal else "anonymous"


def source(req):
    return req.remote_addr or ""


def principal(req):
    if req.context.principal is None:
        raise falcon.HTTPInternalServerError(description="this route needs a principal")
    return req.context.principal
