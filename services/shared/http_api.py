"""Each service's own port answers its part of the REST API (SPEC §7): thin routes into
the same methods the edge reaches by RPC, with the same validation, errors and auth.

    @http("GET", "/api/v1/incidents/<int:incident_id>")
    @json_api(READ)
    def http_get_incident(self, request, incident_id):
        return 200, self.get_incident(incident_id)

Each route names the permission it asks for (`services.shared.access`); the service's
`identity` (an RpcProxy to the on-call service, or the on-call service itself) says
whose credentials the request carries, so the services' ports refuse what the edge does.
"""

import functools
import json
import logging

from werkzeug.wrappers import Response

from services.shared import access
from services.shared.errors import KlaxonError
from services.shared.problems import MAX_BODY_BYTES, PROBLEM_TYPE, problem_body, problem_of

logger = logging.getLogger("klaxon.http")
# peewee/psycopg2 errors of a database that cannot be reached
DATABASE_OUTAGES = {"OperationalError", "InterfaceError"}
# another service that did not answer in time (services.shared.rpc) or is not running
SERVICE_OUTAGES = {"RpcTimeout", "UnknownService"}


class HttpProblem(Exception):
    def __init__(self, status, title, detail):
        super().__init__(detail)
        self.status, self.title, self.detail = status, title, detail


PRINCIPAL = "klaxon.principal"
# A row id in a route, `<{ID}:incident_id>`: beyond what a database column holds, no route matches.
ID = "int(max=9223372036854775807)"


def json_api(permission):
    """Check who asks, then turn `(status, body)` into JSON and domain errors into problem+json."""
    if permission not in access.PERMISSIONS:
        raise TypeError(f"unknown permission {permission!r}")
    return functools.partial(_json_route, permission)


def _json_route(permission, handler):
    @functools.wraps(handler)
    def answer(self, request, *args, **kwargs):
        try:
            request.environ[PRINCIPAL] = authenticated(self, request, permission)
            status, body = handler(self, request, *args, **kwargs)
        except HttpProblem as problem:
            return problem_response(problem.status, problem.title, problem.detail)
        except KlaxonError as error:
            status, title, headers, extra = problem_of(error)
            return problem_response(status, title, str(error), headers, **extra)
        except Exception as error:  # the trace goes to the log, never to the caller
            return unexpected(error)
        if body is None:
            return Response(status=status)
        if isinstance(body, Response):  # a handler that answers in another format
            return body
        return Response(json.dumps(body, default=str), status=status, mimetype="application/json")

    return answer


def authenticated(service, request, permission):
    """The principal behind the request's credentials; 401/403 when it may not do this."""
    if not access.needs_credentials(permission):
        return None
    credentials = access.credentials(
        request.headers.get("Authorization"),
        request.cookies.get(access.SESSION_COOKIE),
        request.headers.get(access.CSRF_HEADER),
        request.method,
    )
    principal = service.identity.authenticate(credentials) if credentials else None
    access.authorize(principal, permission)
    return principal


def unexpected(error):
    if outage_of(error, DATABASE_OUTAGES):
        logger.warning("database unreachable: %s", error)
        return problem_response(
            503, "Service unavailable", "the database cannot be reached", {"Retry-After": "5"}
        )
    if outage_of(error, SERVICE_OUTAGES):
        logger.warning("a service did not answer: %s", error)
        detail = "another Klaxon service did not answer in time; try again"
        return problem_response(503, "Service unavailable", detail, {"Retry-After": "5"})
    logger.exception("unexpected error")
    return problem_response(500, "Internal error", "the service failed; the error is in its log")


def outage_of(error, kinds):
    """`error` is one of `kinds`, raised here or in the service that answered a call."""
    return type(error).__name__ in kinds or getattr(error, "exc_type", None) in kinds


def problem_response(status, title, detail, headers=None, **extra):
    body = json.dumps(problem_body(status, title, detail, **extra))
    return Response(body, status=status, headers=headers or {}, content_type=PROBLEM_TYPE)


def json_body(request):
    """The JSON body: 415 for another type, 413 when too large, 400 when malformed."""
    if request.mimetype != "application/json":
        got = request.mimetype or "no Content-Type"
        raise HttpProblem(415, "Unsupported media type", f"send the body as application/json (got {got})")
    raw = request.stream.read(MAX_BODY_BYTES + 1)
    if len(raw) > MAX_BODY_BYTES:
        raise HttpProblem(413, "Payload too large", f"the body must be at most {MAX_BODY_BYTES} bytes")
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError) as exc:
        raise HttpProblem(400, "Malformed JSON", f"the body is not valid JSON: {exc}") from None


def query(request, names):
    return {name: request.args[name] for name in names if request.args.get(name)}


def principal(request):
    return request.environ.get(PRINCIPAL)


def actor(request):
    """The signed-in person acting; a header naming someone is never believed."""
    found = principal(request)
    return found["email"] if found else "anonymous"
