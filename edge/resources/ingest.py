"""Where monitoring systems post: Alertmanager, Grafana and PagerDuty Events v2.

Each answers the way its sender expects, always after the alerts are durably queued.
"""

import datetime as dt
import uuid

import falcon

from edge.requests import read_json
from services.alerts.formats.alertmanager import parse_alertmanager
from services.alerts.formats.grafana import parse_grafana
from services.alerts.formats.pagerduty import pagerduty_success, parse_pagerduty
from services.alerts.queue import acknowledge_message
from services.shared.access import INTEGRATION


class WebhookBatch:
    """Alertmanager's webhook v4, and Grafana Alerting's webhook which has its shape."""

    access = {"POST": INTEGRATION}

    def __init__(self, ingestion, parse, kind):
        self.ingestion = ingestion
        self.parse = parse
        self.kind = kind

    def on_post(self, req, resp):
        integration = self.ingestion.sender(req, self.kind)
        batch = self.parse(read_json(req), default_service=integration["default_service"])
        if batch["truncated_alerts"]:
            for alert in batch["alerts"]:
                alert["details"]["truncated_alerts"] = batch["truncated_alerts"]
        alert_ids = self.ingestion.enqueue(integration, batch["alerts"])
        resp.status = falcon.HTTP_202
        resp.media = {
            "status": "accepted",
            "alert_ids": alert_ids,
            "truncated_alerts": batch["truncated_alerts"],
        }


def alertmanager(ingestion):
    return WebhookBatch(ingestion, parse_alertmanager, "alertmanager")


def grafana(ingestion):
    return WebhookBatch(ingestion, parse_grafana, "grafana")


class PagerDutyEvents:
    """PagerDuty Events API v2: point a PagerDuty client at Klaxon by its base URL."""

    access = {"POST": INTEGRATION}

    def __init__(self, ingestion):
        self.ingestion = ingestion

    def on_post(self, req, resp):
        event = parse_pagerduty(read_json(req))
        integration = self.ingestion.sender(req, "pagerduty", key=event["routing_key"])
        action = event["event_action"]
        if action == "acknowledge":
            actor = f"pagerduty-events:{integration['name']}"
            self.ingestion.publish(
                integration, acknowledge_message(event["dedup_key"], integration["id"], actor)
            )
        else:
            alert = event["alert"] or resolve_alert(event["dedup_key"], integration)
            if integration["default_service"]:
                alert["service"] = integration["default_service"]
            self.ingestion.enqueue(integration, [alert])
        resp.status = falcon.HTTP_202
        resp.media = pagerduty_success(event["dedup_key"])


def resolve_alert(dedup_key, integration):
    return {
        "alert_id": str(uuid.uuid4()),
        "source": "pagerduty",
        "service": integration["default_service"] or "unknown",
        "severity": "low",
        "message": f"resolved by a PagerDuty event for {dedup_key}",
        "labels": {},
        "timestamp": dt.datetime.now(dt.UTC).isoformat(),
        "dedup_key": dedup_key,
        "status": "resolved",
    }
