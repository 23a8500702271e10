"""`/health` and `/metrics` for every Nameko service, and HTTP request metrics.

A service class inherits `HealthAndMetrics` and declares `store` (a `Storage`),
`config` (Nameko's `Config`) and `http_metrics` (an `HttpMetrics`).
"""

import importlib
import inspect
import json
import time

from kombu import Connection
from nameko.exceptions import IncorrectSignature
from nameko.extensions import DependencyProvider
from nameko.web.handlers import HttpRequestHandler
from werkzeug.routing import Map, Rule
from werkzeug.wrappers import Response

from services.shared import metrics
from services.shared.http_api import problem_response


class HttpRoute(HttpRequestHandler):
    """Nameko's `http` entrypoint, its handler checked once, when the service starts,
    against the variables of its URL, instead of at every request.

    Nameko checks each request's arguments with `inspect.getcallargs`, which sees a
    decorated handler's wrapper (`json_api`'s takes anything) and so never fails there,
    at 11.5 µs a request, about 1 % of the alerts service's CPU under load. The
    arguments of a route are its URL's variables, known before the first request: a
    handler that cannot take them stops its service from starting."""

    def setup(self):
        check_route_signature(getattr(self.container.service_cls, self.method_name), self.url)
        super().setup()

    def check_signature(self, args, kwargs):
        """Checked once, in `setup`."""


def check_route_signature(handler, url):
    """IncorrectSignature unless `handler(self, request, **url's variables)` can be called.
    `inspect.signature` looks through decorators (`functools.wraps`) to the handler."""
    [rule] = Map([Rule(url)]).iter_rules()  # a Map compiles the rule: its variables
    try:
        inspect.signature(handler).bind(None, None, **dict.fromkeys(rule.arguments))
    except TypeError as error:
        raise IncorrectSignature(f"{handler.__qualname__} cannot serve {url}: {error}") from None


http = HttpRoute.decorator


class HttpMetrics(DependencyProvider):
    """Counts and times every HTTP entrypoint of the service it is declared on."""

    def __init__(self):
        self.started = {}

    def start(self):
        """Known label sets at 0 from the start, before the first scrape or event: a route's
        first 500 is then an increase the error-rate panel shows."""
        service = self.container.service_name
        for entrypoint in self.container.entrypoints:
            if isinstance(entrypoint, HttpRequestHandler):
                metrics.HTTP_REQUESTS.labels(service, entrypoint.method, entrypoint.url, "500")
        prime = primer(service)
        if prime is not None:
            prime(None, [])

    def worker_setup(self, worker_ctx):
        if isinstance(worker_ctx.entrypoint, HttpRequestHandler):
            self.started[worker_ctx] = time.perf_counter()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        start = self.started.pop(worker_ctx, None)
        if start is None:
            return
        entrypoint = worker_ctx.entrypoint
        service = self.container.service_name
        code = 500 if exc_info else status_of(result)
        metrics.HTTP_REQUESTS.labels(service, entrypoint.method, entrypoint.url, str(code)).inc()
        metrics.observe(metrics.HTTP_DURATION.labels(service, entrypoint.url), time.perf_counter() - start)


def primer(service_name):
    """`services.<name>.metrics.prime(store, families)`: creates the service's known label
    sets at 0 (from the store when given one) and returns the store's families, amended."""
    try:
        module = importlib.import_module(f"services.{service_name}.metrics")
    except ImportError:
        return None
    return getattr(module, "prime", None)


def _now_of(service):
    """{"now": the service's clock (tests move it)} for a service that has one, else {}."""
    clock = getattr(service, "clock", None)
    return {"now": clock.now()} if hasattr(clock, "now") else {}


def status_of(result):
    if isinstance(result, Response):
        return result.status_code
    if isinstance(result, tuple) and isinstance(result[0], int):
        return result[0]
    return 200


def json_response(status, body):
    return Response(json.dumps(body, default=str), status=status, mimetype="application/json")


def broker_reachable(amqp_uri):
    try:
        with Connection(amqp_uri, connect_timeout=2) as connection:
            connection.ensure_connection(max_retries=1, timeout=2)
        return True, "ok"
    except Exception as exc:  # any failure means "not reachable"; the reason is reported
        return False, f"{type(exc).__name__}: {exc}"


def database_reachable(store):
    try:
        store.ping()
        return True, "ok"
    except Exception as exc:  # any failure means "not reachable"; the reason is reported
        return False, f"{type(exc).__name__}: {exc}"


class HealthAndMetrics:
    """Mixin: GET /health (broker and database reachability) and GET /metrics."""

    @http("GET", "/health")
    def health(self, request):
        broker_ok, broker = broker_reachable(self.config["AMQP_URI"])
        database_ok, database = database_reachable(self.store)
        healthy = broker_ok and database_ok
        body = {
            "service": self.name,
            "status": "ok" if healthy else "unavailable",
            "checks": {"broker": broker, "database": database},
        }
        return json_response(200 if healthy else 503, body)

    @http("GET", "/metrics")
    def metrics(self, request):
        families = self.store.metric_families()
        prime = primer(self.name)
        if prime is not None:
            families = prime(self.store, families, **_now_of(self))
        body, content_type = metrics.exposition(request.headers.get("Accept"), families)
        return Response(body, status=200, content_type=content_type)

    # Werkzeug tries a rule with a path converter after every more specific one.
    @http("GET,POST,PUT,PATCH,DELETE", "/<path:unknown_path>")
    def unknown_route(self, request, unknown_path):
        """Unknown paths answer problem+json, like the edge, not werkzeug's HTML page."""
        return problem_response(404, "Not found", f"no route /{unknown_path} on the {self.name} service")
