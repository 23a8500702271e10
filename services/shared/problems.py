"""Domain errors as HTTP problems (RFC 9457), shared by the edge and the services' own
ports, so both doors answer the same status, title and members for the same mistake."""

from services.shared.errors import Conflict, Forbidden, NotFound, Throttled, Unauthorized, ValidationFailed
from services.shared.rate_limit import RateLimited

PROBLEM_TYPE = "application/problem+json"
MAX_BODY_BYTES = 1024 * 1024

TITLES = {
    ValidationFailed: (422, "Invalid field"),
    NotFound: (404, "Not found"),
    Conflict: (409, "Conflict"),
    Unauthorized: (401, "Unauthorized"),
    Forbidden: (403, "Forbidden"),
    Throttled: (429, "Too many requests"),
}


def problem_of(error):
    """(status, title, headers, extra members) of a domain error."""
    for kind, (status, title) in TITLES.items():
        if isinstance(error, kind):
            return status, title, _headers_of(error, status), _members_of(error)
    raise TypeError(f"no HTTP problem for {type(error).__name__}")


def _members_of(error):
    if isinstance(error, ValidationFailed):
        return {"errors": error.errors}
    if isinstance(error, RateLimited):
        return {"integration": error.integration, "limit_per_minute": error.limit}
    return {}


def _headers_of(error, status):
    if status == 401:
        return {"WWW-Authenticate": 'Bearer realm="klaxon"'}
    if status == 429:
        return {"Retry-After": str(error.retry_after)}
    return {}


def problem_body(status, title, detail=None, **extra):
    body = {"type": "about:blank", "title": title, "status": status}
    if detail:
        body["detail"] = detail
    body.update(extra)
    return body
