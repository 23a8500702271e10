"""A real OTLP/HTTP receiver on loopback: it decodes the protobuf the exporters send.

What the platform's processes export arrives here as `spans` and `logs`, each a plain
dict, so a test can follow one trace across processes.
"""

import contextlib
import gzip
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from opentelemetry.proto.collector.logs.v1 import logs_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2


class Received:
    def __init__(self):
        self.lock = threading.Lock()
        self.spans = []
        self.logs = []

    def add_traces(self, body):
        request = trace_service_pb2.ExportTraceServiceRequest.FromString(body)
        for resource_spans in request.resource_spans:
            service = _service_name(resource_spans.resource)
            for scope_spans in resource_spans.scope_spans:
                with self.lock:
                    self.spans += [_span(service, span) for span in scope_spans.spans]
        return trace_service_pb2.ExportTraceServiceResponse().SerializeToString()

    def add_logs(self, body):
        request = logs_service_pb2.ExportLogsServiceRequest.FromString(body)
        for resource_logs in request.resource_logs:
            service = _service_name(resource_logs.resource)
            for scope_logs in resource_logs.scope_logs:
                with self.lock:
                    self.logs += [_log(service, record) for record in scope_logs.log_records]
        return logs_service_pb2.ExportLogsServiceResponse().SerializeToString()

    def spans_of(self, trace_id):
        with self.lock:
            return [span for span in self.spans if span["trace_id"] == trace_id]


def _service_name(resource):
    for attribute in resource.attributes:
        if attribute.key == "service.name":
            return attribute.value.string_value
    return None


def _attributes(attributes):
    values = {}
    for attribute in attributes:
        value = attribute.value
        kind = value.WhichOneof("value")
        values[attribute.key] = getattr(value, kind) if kind and kind != "array_value" else value
    return values


def _span(service, span):
    return {
        "service": service,
        "name": span.name,
        "trace_id": span.trace_id.hex(),
        "span_id": span.span_id.hex(),
        "parent_span_id": span.parent_span_id.hex() or None,
        "links": [(link.trace_id.hex(), link.span_id.hex()) for link in span.links],
        "attributes": _attributes(span.attributes),
    }


def _log(service, record):
    return {
        "service": service,
        "trace_id": record.trace_id.hex() or None,
        "span_id": record.span_id.hex() or None,
        "severity": record.severity_text,
        "body": record.body.string_value,
    }


def _handler(received):
    routes = {"/v1/traces": received.add_traces, "/v1/logs": received.add_logs}

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802 (the http.server interface)
            body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
            if self.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            route = routes.get(self.path)
            if route is None:
                self.send_error(404)
                return
            answer = route(body)
            self.send_response(200)
            self.send_header("Content-Type", "application/x-protobuf")
            self.send_header("Content-Length", str(len(answer)))
            self.end_headers()
            self.wfile.write(answer)

        def log_message(self, *args):
            pass

    return Handler


@contextlib.contextmanager
def otlp_receiver():
    """Yields (endpoint URL, Received) for a receiver listening on a free loopback port."""
    received = Received()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(received))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", received
    finally:
        server.shutdown()
        server.server_close()
