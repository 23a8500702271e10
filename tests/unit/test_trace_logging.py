"""Log lines name their trace, client errors are not logged as faults, and tracing is
configured only by the standard OTEL_* variables."""

import importlib.util
import json
import logging
import re
import sys
from pathlib import Path
from types import SimpleNamespace

import pytest
import yaml
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags

from services.notifications.channels import LogChannel, Page, logger
from services.shared import tracing
from services.shared.errors import Conflict, NotFound
from services.shared.logs import ClientErrorsAreInfo, JsonFormatter, setup_logging

GRAFANA = Path(__file__).resolve().parents[2] / "observability" / "grafana"
DATASOURCES = GRAFANA / "provisioning" / "datasources" / "datasources.yml"
TRACE_ID = 0x4BF92F3577B34DA6A3CE929D0E0E4736
SPAN_ID = 0x00F067AA0BA902B7


def a_span():
    return NonRecordingSpan(SpanContext(TRACE_ID, SPAN_ID, is_remote=False, trace_flags=TraceFlags(1)))


def record(level=logging.INFO, message="hello %s", args=("world",), exc=None):
    exc_info = None
    if exc is not None:
        try:
            raise exc
        except type(exc):
            exc_info = sys.exc_info()
    return logging.LogRecord("nameko.containers", level, __file__, 1, message, args, exc_info)


def test_a_line_inside_a_span_carries_its_trace_and_span_ids():
    formatter = JsonFormatter("alerts")
    with trace.use_span(a_span()):
        line = json.loads(formatter.format(record()))
    assert line["trace_id"] == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert line["span_id"] == "00f067aa0ba902b7"
    assert line["message"] == "hello world"
    outside = json.loads(formatter.format(record()))
    assert "trace_id" not in outside and "span_id" not in outside


def test_grafana_finds_the_trace_id_in_the_lines_klaxon_prints():
    """The Loki derived fields match the names the processes emit."""
    sources = {s["uid"]: s for s in yaml.safe_load(DATASOURCES.read_text())["datasources"]}
    fields = sources["loki"]["jsonData"]["derivedFields"]
    by_label = [f for f in fields if f["matcherType"] == "label"]
    by_regex = [f for f in fields if f["matcherType"] == "regex"]
    assert [f["matcherRegex"] for f in by_label] == ["trace_id"]  # OTLP structured metadata
    with trace.use_span(a_span()):
        line = JsonFormatter("edge").format(record())
    [found] = re.search(by_regex[0]["matcherRegex"], line).groups()
    assert found == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert "trace_id" in sources["jaeger"]["jsonData"]["tracesToLogsV2"]["query"]


@pytest.mark.parametrize("error", [NotFound("incident", 7), Conflict("already resolved")])
def test_a_client_error_is_one_info_line_without_a_traceback(error):
    logged = record(logging.ERROR, "error handling worker %s: %s", ("<worker>", error), exc=error)
    assert ClientErrorsAreInfo().filter(logged)
    assert (logged.levelno, logged.levelname) == (logging.INFO, "INFO")
    assert logged.exc_info is None
    line = json.loads(JsonFormatter("incidents").format(logged))
    assert line["level"] == "info" and "exception" not in line
    assert line["message"] == f"<worker> answered {type(error).__name__}: {error}"


def test_a_fault_stays_an_error_with_its_traceback():
    error = RuntimeError("boom")
    logged = record(logging.ERROR, "error handling worker %s: %s", ("<worker>", error), exc=error)
    assert ClientErrorsAreInfo().filter(logged)
    assert logged.levelno == logging.ERROR and logged.exc_info is not None
    assert "RuntimeError: boom" in json.loads(JsonFormatter("incidents").format(logged))["exception"]


@pytest.mark.parametrize(
    ("environ", "on"),
    [
        ({}, False),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318"}, True),
        ({"OTEL_EXPORTER_OTLP_TRACES_ENDPOINT": "http://collector:4318/v1/traces"}, True),
        ({"OTEL_EXPORTER_OTLP_ENDPOINT": "http://collector:4318", "OTEL_SDK_DISABLED": "true"}, False),
        ({"OTEL_SERVICE_NAME": "klaxon-alerts"}, False),
    ],
)
def test_tracing_is_on_only_where_an_otlp_endpoint_is_set(environ, on):
    assert tracing.enabled(environ) is on


def test_traceparents_are_read_and_carried():
    header = "00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01"
    assert tracing.trace_id_of(header) == "4bf92f3577b34da6a3ce929d0e0e4736"
    assert tracing.trace_id_of("not a traceparent") is None
    assert tracing.trace_id_of(None) is None
    assert tracing.link_to("garbage") is None
    with trace.use_span(a_span()):
        assert tracing.current_traceparent() == header
    assert tracing.current_traceparent() is None


def test_the_logs_panel_selects_the_names_the_processes_export_under():
    """OTLP's service.name becomes Loki's service_name label: klaxon-<process>."""
    dashboards = [json.loads(path.read_text()) for path in (GRAFANA / "dashboards").glob("*.json")]
    logs = [p for d in dashboards for p in d["panels"] if p["type"] == "logs"]
    assert logs
    for panel in logs:
        expr = panel["targets"][0]["expr"]
        assert 'service_name=~"klaxon-' in expr and "severity_text" in expr


def test_a_page_on_the_log_channel_is_a_readable_line_with_the_page_as_a_field(capsys):
    """What the README tells a newcomer to look for in `make run`'s output."""
    row = SimpleNamespace(
        incident_id=7,
        step=0,
        recipient="bob@example.com",
        subject="[high] frontend-api: 5xx > 10%",
        message="",
    )
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter("notifications"))
    logger.addHandler(handler)
    try:
        LogChannel().send(Page(row, ack_url="http://ack", incident={"severity": "high"}))
    finally:
        logger.removeHandler(handler)
    line = json.loads(capsys.readouterr().out.splitlines()[-1])
    assert line["message"] == "page for bob@example.com: [high] frontend-api: 5xx > 10%"
    assert line["page"]["incident_id"] == 7 and line["page"]["acknowledge_url"] == "http://ack"
    assert line["level"] == "warning"


@pytest.fixture
def restored_logging():
    root, access = logging.getLogger(), logging.getLogger("nameko.web.server")
    handlers, root_level, access_level = root.handlers[:], root.level, access.level
    yield access
    root.handlers[:] = handlers
    root.setLevel(root_level)
    access.setLevel(access_level)


@pytest.mark.parametrize("flag, logged", [(None, False), ("true", True), ("0", False)])
def test_a_services_port_writes_an_access_line_only_when_asked(monkeypatch, restored_logging, flag, logged):
    """Off by default, as on the edge: the request metrics count every request already."""
    if flag is None:
        monkeypatch.delenv("KLAXON_ACCESS_LOG", raising=False)
    else:
        monkeypatch.setenv("KLAXON_ACCESS_LOG", flag)
    setup_logging("alerts")
    assert restored_logging.isEnabledFor(logging.INFO) is logged
    assert logging.getLogger("klaxon.alerts").isEnabledFor(logging.INFO)


@pytest.mark.parametrize("flag, accesslog", [(None, None), ("true", "-")])
def test_the_edge_writes_an_access_line_only_when_asked(monkeypatch, flag, accesslog):
    if flag is None:
        monkeypatch.delenv("KLAXON_ACCESS_LOG", raising=False)
    else:
        monkeypatch.setenv("KLAXON_ACCESS_LOG", flag)
    path = Path(__file__).resolve().parents[2] / "edge" / "gunicorn_conf.py"
    spec = importlib.util.spec_from_file_location("gunicorn_conf_under_test", path)
    settings = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(settings)
    assert settings.accesslog == accesslog
