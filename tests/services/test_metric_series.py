"""Series a dashboard reads exist at 0 before their first event (else rate() and increase()
miss that event); held-back pages are counted; escalation lag; OpenMetrics with exemplars."""

import datetime as dt

import pytest
from nameko.testing.services import entrypoint_hook
from opentelemetry import trace
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags
from prometheus_client import CollectorRegistry, Histogram

from services.incidents.service import IncidentsService
from services.notifications import metrics as notification_metrics
from services.notifications.acklinks import AckLinks
from services.notifications.channels import channels_from
from services.notifications.delivery import Delivery
from services.notifications.noise import RateLimit
from services.notifications.retry import RetryPolicy
from services.notifications.service import NotificationsService
from services.notifications.store import NotificationStore
from services.oncall import metrics as oncall_metrics
from services.oncall.models import Escalation
from services.oncall.store import OncallStore
from services.shared.metrics import exposition, observe
from tests.conftest import LOOPBACK
from tests.services.test_delivery import Receiver, webhook_page

T0 = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
OPENMETRICS = "application/openmetrics-text;version=1.0.0,text/plain;version=0.0.4;q=0.5"


@pytest.fixture
def web_service_config(service_config, web_config):
    return {**service_config, **web_config}


def test_a_fresh_notifications_service_exports_every_channel_and_outcome_at_zero(
    web_service_config, container_factory, web_session
):
    # The registry is the test process's: forget what earlier tests counted.
    notification_metrics.NOTIFICATIONS_SENT.clear()
    notification_metrics.ONCALL_NOTIFICATIONS_SENT.clear()
    container_factory(NotificationsService, web_service_config).start()
    text = web_session.get("/metrics").text
    assert (
        'http_requests_total{code="500",method="POST",route="/api/v1/notify",service="notifications"} 0.0'
        in text
    )
    for channel in ("log", "webhook", "slack", "email"):
        assert f'oncall_notifications_sent_total{{channel="{channel}"}} 0.0' in text
        for status in ("sent", "retrying", "failed"):
            assert f'notifications_sent_total{{channel="{channel}",status="{status}"}} 0.0' in text


def test_an_incident_brings_its_mtta_mttr_and_every_status_at_zero(
    web_service_config, container_factory, web_session
):
    container = container_factory(IncidentsService, web_service_config)
    container.start()
    with entrypoint_hook(container, "correlate") as correlate:
        correlate(
            {
                "alert_id": "z-1",
                "service": "zeroed-api",
                "severity": "high",
                "message": "queue full",
                "timestamp": "2026-11-20T03:12:45+00:00",
            }
        )
    text = web_session.get("/metrics").text
    assert 'incident_mtta_seconds_count{service="zeroed-api",team=""} 0.0' in text
    assert 'incident_mttr_seconds_count{service="zeroed-api",team=""} 0.0' in text
    assert 'incidents_total{service="zeroed-api",severity="high",status="open",team=""} 1.0' in text
    assert 'incidents_total{service="zeroed-api",severity="high",status="acknowledged",team=""} 0.0' in text
    assert 'incidents_total{service="zeroed-api",severity="low",status="resolved",team=""} 0.0' in text


def test_metrics_are_openmetrics_only_when_the_scraper_asks(
    web_service_config, container_factory, web_session
):
    container_factory(IncidentsService, web_service_config).start()
    plain = web_session.get("/metrics")
    assert plain.headers["Content-Type"].startswith("text/plain")
    assert "# EOF" not in plain.text
    asked = web_session.get("/metrics", headers={"Accept": OPENMETRICS})
    assert asked.headers["Content-Type"].startswith("application/openmetrics-text")
    assert asked.text.endswith("# EOF\n")
    assert asked.text.count("# EOF") == 1, "the store's gauges are in the same exposition"
    assert "# TYPE incident_mtta_seconds histogram" in asked.text


def test_an_observation_inside_a_trace_carries_its_trace_id_as_exemplar():
    registry = CollectorRegistry()
    latency = Histogram("traced_seconds", "latency", registry=registry)
    context = SpanContext(0x4BF92F3577B34DA6A3CE929D0E0E4736, 0x00F067AA0BA902B7, False, TraceFlags(1))
    with trace.use_span(NonRecordingSpan(context)):
        observe(latency, 0.2)
    observe(latency, 0.3)  # outside a trace: no exemplar, and no error
    body, _ = exposition(OPENMETRICS, registry=registry)
    text = body.decode()
    assert '# {trace_id="4bf92f3577b34da6a3ce929d0e0e4736"} 0.2' in text
    assert text.count("trace_id") == 1
    plain, content_type = exposition(None, registry=registry)
    assert content_type.startswith("text/plain") and b"trace_id" not in plain


def sent_count(channel, status):
    return notification_metrics.NOTIFICATIONS_SENT.labels(channel, status)._value.get()


def test_pages_sent_in_a_held_back_summary_are_counted(bound):
    receiver = Receiver([])
    db = bound("notifications")
    try:
        with db.connection_context():
            delivery = Delivery(
                NotificationStore(db, {}),
                channels_from({"WEBHOOK_TIMEOUT_SECONDS": 5, "WEBHOOK_ALLOWED_NETWORKS": LOOPBACK}),
                RetryPolicy(max_attempts=4, base_seconds=10),
                AckLinks("k" * 32, "http://x"),
                rate_limit=RateLimit(1, 60),
            )
            before = sent_count("webhook", "sent")
            pages_before = notification_metrics.ONCALL_NOTIFICATIONS_SENT.labels("webhook")._value.get()
            for n in range(1, 4):
                delivery.deliver(webhook_page(receiver, incident_id=n), T0)
            assert sent_count("webhook", "sent") == before + 1, "two pages are held"
            delivery.retry_due(T0 + dt.timedelta(seconds=60), lambda entry: None)
            assert len(receiver.received) == 2, "one page, then one summary of two"
            assert sent_count("webhook", "sent") == before + 3
            pages = notification_metrics.ONCALL_NOTIFICATIONS_SENT.labels("webhook")._value.get()
            assert pages == pages_before + 3
    finally:
        receiver.shutdown()
        receiver.server_close()


def test_escalation_lag_is_the_age_of_the_oldest_due_step_and_zero_when_none(bound):
    db = bound("oncall")
    with db.connection_context():
        store = OncallStore(db, {})

        def lag(now):
            (family,) = [
                f for f in oncall_metrics.prime(store, [], now) if f.name == "escalation_lag_seconds"
            ]
            return family.samples[0].value

        assert lag(T0) == 0.0
        for incident_id, due, state in (
            (1, T0 - dt.timedelta(seconds=90), "active"),
            (2, T0 - dt.timedelta(seconds=30), "active"),
            (3, T0 - dt.timedelta(seconds=600), "acknowledged"),
            (4, T0 + dt.timedelta(seconds=60), "active"),
        ):
            Escalation.create(
                incident_id=incident_id,
                team="t",
                service="s",
                step=0,
                state=state,
                updated_at=T0,
                next_at=due,
            )
        assert lag(T0) == 90.0
        assert lag(T0 - dt.timedelta(seconds=100)) == 0.0, "nothing due yet"
