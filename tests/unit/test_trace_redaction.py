"""What spans may say of a URL: no integration key from a query, no webhook path."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from services.shared.redaction import hide_query_secrets

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("query", "shown"),
    [
        ("integration_key=klx_abc&status=open", "integration_key=REDACTED&status=open"),
        ("service=checkout&limit=5", "service=checkout&limit=5"),
        ("code=xyz&state=s1&nonce=n1", "code=REDACTED&state=REDACTED&nonce=REDACTED"),
        ("api_token=t&password=p", "api_token=REDACTED&password=REDACTED"),
        ("", ""),
    ],
)
def test_a_query_keeps_its_names_and_hides_secret_values(query, shown):
    assert hide_query_secrets(query) == shown


# Run in a process of its own: it installs a global tracer provider and instruments requests.
WEBHOOK_SPANS = r"""
import http.server, json, threading
from opentelemetry import trace
from opentelemetry.instrumentation.requests import RequestsInstrumentor
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from services.notifications.channels import post
from services.notifications.destinations import Destinations, allowed_networks

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
RequestsInstrumentor().instrument()
carried = []


class Refusing(http.server.BaseHTTPRequestHandler):
    def do_POST(self):
        carried.append(self.headers.get("traceparent"))
        self.send_response(500)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


server = http.server.HTTPServer(("127.0.0.1", 0), Refusing)
threading.Thread(target=server.serve_forever, daemon=True).start()
errors = []
for url in (f"http://127.0.0.1:{server.server_port}/T0/s3cr3t", "http://127.0.0.1:1/T0/s3cr3t"):
    with trace.get_tracer("check").start_as_current_span("notifications.send"):
        try:
            post(url, b"{}", {}, 2, Destinations(allowed_networks(["127.0.0.0/8"])))
        except Exception as error:
            errors.append(str(error))
spans = [
    {"name": s.name, "attributes": dict(s.attributes), "events": [dict(e.attributes) for e in s.events],
     "status": s.status.description}
    for s in exporter.get_finished_spans()
]
print(json.dumps({"errors": errors, "carried": carried, "spans": spans}))
"""


def test_a_webhook_send_leaves_its_path_out_of_every_span_and_still_carries_the_trace():
    ran = subprocess.run(
        [sys.executable, "-c", WEBHOOK_SPANS],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert ran.returncode == 0, ran.stderr
    seen = json.loads(ran.stdout.splitlines()[-1])
    assert "s3cr3t" not in ran.stdout, seen
    assert [span["name"] for span in seen["spans"]] == ["notifications.send", "notifications.send"]
    assert len(seen["errors"]) == 2 and seen["carried"][0].startswith("00-"), seen
