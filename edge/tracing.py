"""Traces of the edge's requests: names, attributes and the `traceresponse` header.

The WSGI middleware (opentelemetry-instrumentation-wsgi) opens the request's span, or
continues the caller's `traceparent`; this Falcon middleware names it after the route
template and answers the trace id in W3C's `traceresponse` header, so a sender can find
its alert's trace.
"""

from opentelemetry import trace
from opentelemetry.instrumentation.wsgi import OpenTelemetryMiddleware

from services.shared import redaction, tracing


def traced(application):
    """`application` behind the WSGI tracing middleware when tracing is on."""
    if not tracing.configure("edge"):
        return application
    return OpenTelemetryMiddleware(application)


class RequestTracing:
    """Names each request's span after its route, keeps secrets (an integration key in the
    query, a calendar's secret path) out of its attributes, and answers `traceresponse`."""

    def process_request(self, req, resp):
        span = trace.get_current_span()
        if req.query_string and span.is_recording():
            query = redaction.hide_query_secrets(req.query_string)
            span.set_attributes({"http.target": f"{req.path}?{query}", "url.query": query})

    def process_resource(self, req, resp, resource, params):
        span = trace.get_current_span()
        if req.uri_template and span.is_recording():
            span.update_name(f"{req.method} {req.uri_template}")
            span.set_attribute("http.route", req.uri_template)
            if any(redaction.is_secret_name(name) for name in params):
                query = redaction.hide_query_secrets(req.query_string)
                target = req.uri_template + (f"?{query}" if query else "")
                span.set_attributes({"http.target": target, "url.path": req.uri_template})

    def process_response(self, req, resp, resource, req_succeeded):
        context = trace.get_current_span().get_span_context()
        if context.is_valid:
            flags = format(int(context.trace_flags), "02x")
            resp.set_header("traceresponse", f"00-{context.trace_id:032x}-{context.span_id:016x}-{flags}")
