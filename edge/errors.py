"""One error shape for every 4xx/5xx: RFC 9457 problem+json, mapped in one place.

Domain errors raised by services arrive here intact over RPC and become HTTP statuses;
nothing else (no stack trace, no internal message) leaves the process.
"""

import json
import logging

import falcon
from nameko.exceptions import RemoteError

from edge.rpc import ServiceUnavailable
from services.alerts.formats.pagerduty import PagerDutyInvalid
from services.shared.errors import KlaxonError
from services.shared.problems import PROBLEM_TYPE, problem_body, problem_of
from services.shared.rate_limit import RateLimited

logger = logging.getLogger("klaxon.edge")


class Problem(falcon.HTTPError):
    """An HTTP error with Klaxon's extra members (e.g. the invalid fields)."""

    def __init__(self, status, title, detail=None, headers=None, **extra):
        super().__init__(status, title=title, description=detail, headers=headers)
        self.extra = extra


def serialize_problem(req, resp, error):
    body = problem_body(error.status_code, error.title, error.description, **getattr(error, "extra", {}))
    resp.content_type = PROBLEM_TYPE
    resp.data = json.dumps(body).encode()


def on_domain_error(req, resp, error, params):
    status, title, headers, extra = problem_of(error)
    raise Problem(falcon.code_to_http_status(status), title, str(error), headers=headers or None, **extra)


def on_pagerduty_invalid(req, resp, error, params):
    # PagerDuty clients parse PagerDuty's own error body, not problem+json.
    resp.status = falcon.HTTP_400
    resp.media = error.pagerduty_body()


def on_rate_limited(req, resp, error, params):
    raise Problem(
        falcon.HTTP_429,
        "Too many requests",
        str(error),
        headers={"Retry-After": str(error.retry_after)},
        integration=error.integration,
        limit_per_minute=error.limit,
    )


def on_unavailable(req, resp, error, params):
    raise Problem(
        falcon.HTTP_503,
        "Service unavailable",
        error.reason,
        headers={"Retry-After": str(error.retry_after)},
    )


# Raised by peewee/psycopg2 inside a service whose database is unreachable.
DATABASE_OUTAGES = {"OperationalError", "InterfaceError"}


def on_remote_error(req, resp, error, params):
    if error.exc_type in DATABASE_OUTAGES:
        logger.warning("a service cannot reach its database: %s", error)
        raise Problem(
            falcon.HTTP_503,
            "Service unavailable",
            "a service cannot reach its database",
            headers={"Retry-After": "5"},
        )
    logger.error("unexpected error in a service: %s", error)
    raise Problem(falcon.HTTP_500, "Internal error", "a service failed; the error is in its log")


def on_unexpected(req, resp, error, params):
    if isinstance(error, falcon.HTTPError):
        raise error
    logger.exception("unexpected error at the edge")
    raise Problem(falcon.HTTP_500, "Internal error", "the edge failed; the error is in its log")


def install(app):
    # Falcon picks the most specific handler, so order does not matter here.
    app.add_error_handler(Exception, on_unexpected)
    app.add_error_handler(KlaxonError, on_domain_error)
    app.add_error_handler(PagerDutyInvalid, on_pagerduty_invalid)
    app.add_error_handler(RateLimited, on_rate_limited)
    app.add_error_handler(ServiceUnavailable, on_unavailable)
    app.add_error_handler(RemoteError, on_remote_error)
    app.set_error_serializer(serialize_problem)
