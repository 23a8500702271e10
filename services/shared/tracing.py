"""Traces and log export over OpenTelemetry, configured only by the standard OTEL_* variables.

Off unless an OTLP endpoint is set (`OTEL_EXPORTER_OTLP_ENDPOINT`, or the traces/logs
one) and `OTEL_SDK_DISABLED` is not true; off, every call here is a cheap no-op and the
W3C `traceparent` a request brought still travels on unchanged.

Across Nameko hops the `traceparent` is a message header: Nameko hands a worker the
headers of the message that started it as context data, and sends its context data
with every RPC the worker makes. `Tracing` opens a span per entrypoint from it;
`EventDispatcher` puts the span current at dispatch time on every event. Several alerts
handled in one batch keep their own traces: the batch span links to each, and the work
done for one alert continues that alert's trace (`Tracing`'s `continuing`).
"""

import contextlib
import contextvars
import logging
import os

from nameko.events import EventDispatcher as NamekoEventDispatcher
from nameko.extensions import DependencyProvider
from nameko.rpc import Rpc
from nameko.web.handlers import HttpRequestHandler
from opentelemetry import context as otel_context
from opentelemetry import propagate, trace
from opentelemetry.trace import Link, SpanKind, Status, StatusCode

from services.shared.errors import KlaxonError

TRACEPARENT = "traceparent"
TRACER = trace.get_tracer("klaxon")
logger = logging.getLogger("klaxon.tracing")
ENDPOINT_VARIABLES = (
    "OTEL_EXPORTER_OTLP_ENDPOINT",
    "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
    "OTEL_EXPORTER_OTLP_LOGS_ENDPOINT",
)


# -- turning it on ------------------------------------------------------------------------
def enabled(environ=os.environ):
    if environ.get("OTEL_SDK_DISABLED", "").lower() == "true":
        return False
    return any(environ.get(name) for name in ENDPOINT_VARIABLES)


def exporter_wanted(kind, environ=os.environ):
    """OTEL_TRACES_EXPORTER / OTEL_LOGS_EXPORTER: `otlp` (the default) or `none`."""
    return environ.get(f"OTEL_{kind.upper()}_EXPORTER", "otlp").lower() != "none"


def configure(service):
    """Export this process's spans and log records over OTLP/HTTP; False when off."""
    if not enabled():
        return False
    from opentelemetry.sdk.resources import Resource

    name = os.environ.get("OTEL_SERVICE_NAME") or f"klaxon-{service}"
    resource = Resource.create({"service.name": name, "service.namespace": "klaxon"})
    if exporter_wanted("traces"):
        _export_traces(resource)
    if exporter_wanted("logs"):
        _export_logs(resource)
    _instrument_libraries()
    return True


def _export_traces(resource):
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter
    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.export import BatchSpanProcessor

    provider = TracerProvider(resource=resource)
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    trace.set_tracer_provider(provider)


def _export_logs(resource):
    from opentelemetry._logs import set_logger_provider
    from opentelemetry.exporter.otlp.proto.http._log_exporter import OTLPLogExporter
    from opentelemetry.sdk._logs import LoggerProvider, LoggingHandler
    from opentelemetry.sdk._logs.export import BatchLogRecordProcessor

    provider = LoggerProvider(resource=resource)
    provider.add_log_record_processor(BatchLogRecordProcessor(OTLPLogExporter()))
    set_logger_provider(provider)
    handler = LoggingHandler(logger_provider=provider)
    # The exporter's own HTTP client must not log into the exporter.
    handler.addFilter(lambda record: not record.name.startswith(("opentelemetry", "urllib3")))
    logging.getLogger().addHandler(handler)


def _instrument_libraries():
    from opentelemetry.instrumentation.psycopg2 import Psycopg2Instrumentor
    from opentelemetry.instrumentation.requests import RequestsInstrumentor
    from opentelemetry.instrumentation.sqlite3 import SQLite3Instrumentor

    SQLite3Instrumentor().instrument()
    # psycopg2-binary is psycopg2 under another distribution name.
    Psycopg2Instrumentor().instrument(skip_dep_check=True)
    RequestsInstrumentor().instrument()


# -- reading and carrying the current trace ------------------------------------------------
def current_trace_id():
    """The hex trace id of the span current in this green thread, or None outside one."""
    return trace_id_of_span(trace.get_current_span())


def current_span_id():
    context = trace.get_current_span().get_span_context()
    return format(context.span_id, "016x") if context.is_valid else None


def trace_id_of_span(span):
    context = span.get_span_context()
    return format(context.trace_id, "032x") if context.is_valid else None


def current_traceparent():
    """The W3C `traceparent` of the current span, or None outside one."""
    carrier = {}
    propagate.inject(carrier)
    return carrier.get(TRACEPARENT)


def traceparent_of(span):
    carrier = {}
    propagate.inject(carrier, context=trace.set_span_in_context(span))
    return carrier.get(TRACEPARENT)


def trace_id_of(traceparent):
    """The trace id a `traceparent` header names, or None for a missing or malformed one."""
    span_context = trace.get_current_span(context_of(traceparent)).get_span_context()
    return format(span_context.trace_id, "032x") if span_context.is_valid else None


def context_of(traceparent):
    """The OpenTelemetry context a `traceparent` continues (an empty one without it)."""
    return propagate.extract({TRACEPARENT: traceparent} if traceparent else {})


def link_to(traceparent):
    span_context = trace.get_current_span(context_of(traceparent)).get_span_context()
    return Link(span_context) if span_context.is_valid else None


def start_span(traceparent, name, kind=SpanKind.INTERNAL, links=(), **attributes):
    """A span continuing the trace `traceparent` names; without one, the current trace's."""
    parent = context_of(traceparent) if traceparent else None
    return TRACER.start_span(name, context=parent, kind=kind, links=list(links), attributes=clean(attributes))


@contextlib.contextmanager
def continuing(traceparent, name, kind=SpanKind.INTERNAL, links=(), **attributes):
    """`start_span`'s span, current for the block."""
    with trace.use_span(start_span(traceparent, name, kind, links, **attributes), end_on_exit=True) as span:
        yield span


@contextlib.contextmanager
def spans_for(items, name, attributes_of):
    """One span per item (a dict that may carry a `traceparent`), each continuing that
    item's trace; none of them current; all ended when the block ends."""
    spans = [start_span(item.get(TRACEPARENT), name, **attributes_of(item)) for item in items]
    try:
        yield spans
    finally:
        for span in spans:
            span.end()


def run_in_current_context(function):
    """`function` wrapped to run in a copy of the caller's context (the current span), for
    a green thread spawned by the caller: a new green thread starts with an empty one."""
    copied = contextvars.copy_context()
    # A context is entered by one thread at a time: each call runs in a copy of its own.
    return lambda *args, **kwargs: copied.copy().run(function, *args, **kwargs)


def clean(attributes):
    return {f"klaxon.{key}": value for key, value in attributes.items() if value is not None}


def annotate(**attributes):
    """Set `klaxon.*` attributes (alert_id, incident_id, team, integration...) on the current span."""
    trace.get_current_span().set_attributes(clean(attributes))


# -- Nameko -------------------------------------------------------------------------------
class Tracing(DependencyProvider):
    """A span per entrypoint, continuing the trace of the message that started the worker.

    An entrypoint that handles many messages at once says which traces it serves with a
    `traceparents(args)` method: its span starts a trace of its own, linked to each."""

    def __init__(self):
        self.active = {}

    def worker_setup(self, worker_ctx):
        entrypoint = worker_ctx.entrypoint
        links, parent = self._origin(worker_ctx)
        span = TRACER.start_span(
            f"{worker_ctx.service_name}.{entrypoint.method_name}",
            context=parent,
            kind=span_kind_of(entrypoint),
            links=links,
            attributes={
                "rpc.system": "nameko",
                "rpc.service": worker_ctx.service_name,
                "rpc.method": entrypoint.method_name,
            },
        )
        token = otel_context.attach(trace.set_span_in_context(span))
        self.active[worker_ctx] = (span, token)
        # Every RPC this worker makes carries its span as the caller.
        traceparent = traceparent_of(span)
        if traceparent:
            worker_ctx.data[TRACEPARENT] = traceparent

    def _origin(self, worker_ctx):
        traceparents = getattr(worker_ctx.entrypoint, "traceparents", None)
        if traceparents is None:
            return [], context_of(worker_ctx.data.get(TRACEPARENT))
        links = [link_to(tp) for tp in traceparents(worker_ctx.args)]
        return [link for link in links if link is not None], otel_context.Context()

    def worker_result(self, worker_ctx, result=None, exc_info=None):
        span, _ = self.active.get(worker_ctx, (None, None))
        if span is None or not exc_info:
            return
        error = exc_info[1]
        if isinstance(error, KlaxonError):  # the caller's mistake, answered as such
            span.set_attribute("klaxon.outcome", type(error).__name__)
            return
        span.record_exception(error)
        span.set_status(Status(StatusCode.ERROR, str(error)))

    def worker_teardown(self, worker_ctx):
        span, token = self.active.pop(worker_ctx, (None, None))
        if span is None:
            return
        otel_context.detach(token)
        span.end()


def span_kind_of(entrypoint):
    """A call someone waits on (RPC, HTTP, and their subclasses) is served; the rest
    (events, queues, timers) are consumed."""
    if isinstance(entrypoint, (Rpc, HttpRequestHandler)):
        return SpanKind.SERVER
    return SpanKind.CONSUMER


class EventDispatcher(NamekoEventDispatcher):
    """Nameko's dispatcher, carrying the span current when an event is dispatched (not the
    one when the worker began): work done for one alert of a batch continues its trace."""

    def get_dependency(self, worker_ctx):
        worker_headers = self.get_message_headers(worker_ctx)
        header = self._get_header_name(TRACEPARENT)

        def dispatch(event_type, event_data):
            headers = dict(worker_headers)
            traceparent = current_traceparent()
            if traceparent:
                headers[header] = traceparent
            self.publisher.publish(
                event_data, exchange=self.exchange, routing_key=event_type, extra_headers=headers
            )

        return dispatch
