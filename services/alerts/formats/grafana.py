"""Grafana Alerting's webhook (SPEC §1, examples/payloads/grafana-alerting-webhook.json).

It is Alertmanager's webhook plus Grafana's own keys (orgId, title, state, message, and per
alert values, valueString, dashboardURL, panelURL, silenceURL), so the same rules apply;
Grafana's per-alert links and values are kept in each alert's details.
"""

from services.alerts.formats.alertmanager import parse_webhook

SOURCE = "grafana"
LINKS = ("dashboardURL", "panelURL", "silenceURL", "valueString")


def parse_grafana(payload, default_service=None, now=None):
    """{"alerts": [NormalisedAlert], "group_key", "truncated_alerts", "receiver"}, or `ValidationFailed`."""
    return parse_webhook(
        payload, SOURCE, default_service=default_service, now=now, extra_details=grafana_details
    )


def grafana_details(raw):
    """Grafana's non-empty links and value text, and `values` when a non-empty object (it may be null)."""
    details = {key: raw[key].strip() for key in LINKS if isinstance(raw.get(key), str) and raw[key].strip()}
    values = raw.get("values")
    if isinstance(values, dict) and values:
        details["values"] = values
    return details
