"""Prometheus Alertmanager's webhook, version 4 (SPEC §1, examples/payloads/alertmanager-webhook-*.json).

Every alert in `alerts[]` becomes one `NormalisedAlert`, tracked by its `fingerprint`; the
payload's `groupKey` travels on each alert so the caller can map the group to one incident.
Unknown keys are ignored and any `version` is accepted: newer Alertmanagers add fields.

The output always passes `parse_generic` again (the alerts service re-validates what
crosses a process boundary): service is cut to 200 characters and message to 10,000.
"""

import datetime as dt
import hashlib
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass

from services.shared.errors import ValidationFailed, invalid
from services.shared.severity import normalise_severity

SOURCE = "alertmanager"
STATUSES = ("firing", "resolved")
DEFAULT_SEVERITY = "high"
DEFAULT_SERVICE = "unknown"
DEFAULT_MESSAGE = "alert"
MAX_SERVICE = 200
MAX_MESSAGE = 10_000
MAX_DEDUP_KEY = 500


@dataclass(frozen=True)
class Group:
    """What the payload says once for all of its alerts."""

    source: str
    group_key: str | None
    status: str | None
    common_labels: dict
    external_url: str | None
    default_service: str | None
    now: dt.datetime | None
    extra_details: Callable[[dict], dict] | None = None


def parse_alertmanager(payload, default_service=None, now=None):
    """{"alerts": [NormalisedAlert], "group_key", "truncated_alerts", "receiver"}, or `ValidationFailed`."""
    return parse_webhook(payload, SOURCE, default_service=default_service, now=now)


def parse_webhook(payload, source, default_service=None, now=None, extra_details=None):
    """An Alertmanager-shaped webhook from `source`.

    `extra_details(raw_alert)`, when given, adds its keys to each alert's details.
    """
    alerts = alerts_of(payload)
    group = Group(
        source=source,
        group_key=text(payload.get("groupKey")),
        status=payload.get("status") if payload.get("status") in STATUSES else None,
        common_labels=string_map(payload.get("commonLabels")) or {},
        external_url=text(payload.get("externalURL")),
        default_service=text(default_service),
        now=now,
        extra_details=extra_details,
    )
    return {
        "alerts": normalise_all(alerts, group),
        "group_key": group.group_key,
        "truncated_alerts": count(payload.get("truncatedAlerts")),
        "receiver": text(payload.get("receiver")),
    }


def alerts_of(payload):
    if not isinstance(payload, dict):
        raise invalid("body", "must be a JSON object")
    alerts = payload.get("alerts")
    if alerts is None:
        raise invalid("alerts", "is required")
    if not isinstance(alerts, list):
        raise invalid("alerts", "must be a list")
    return alerts


def normalise_all(alerts, group):
    """Every alert, or one `ValidationFailed` naming the first problem of each bad alert."""
    normalised, errors = [], []
    for index, raw in enumerate(alerts):
        try:
            normalised.append(normalise_one(raw, f"alerts[{index}]", group))
        except ValidationFailed as error:
            errors.extend(error.errors)
    if errors:
        raise ValidationFailed(errors)
    return normalised


def normalise_one(raw, where, group):
    if not isinstance(raw, dict):
        raise invalid(where, "must be a JSON object")
    labels = string_map_field(raw, "labels", where)
    annotations = string_map_field(raw, "annotations", where)
    status = alert_status(raw, where, group)
    severity = labels.get("severity") or group.common_labels.get("severity")
    return {
        "alert_id": str(uuid.uuid4()),
        "source": group.source,
        "service": service_of(labels, group)[:MAX_SERVICE],
        "severity": normalise_severity(severity) or DEFAULT_SEVERITY,
        "message": message_of(labels, annotations)[:MAX_MESSAGE],
        "labels": labels,
        "timestamp": timestamp_of(raw, where, status, group.now),
        "dedup_key": dedup_key_of(raw, where, labels),
        "status": status,
        "group_key": group.group_key,
        "details": details_of(raw, annotations, group),
    }


def alert_status(raw, where, group):
    status = raw.get("status") or group.status or "firing"
    if status not in STATUSES:
        raise invalid(f"{where}.status", f"must be one of {', '.join(STATUSES)}")
    return status


def service_of(labels, group):
    candidates = (labels.get("service"), group.common_labels.get("service"), labels.get("job"))
    return first_text(*candidates, group.default_service) or DEFAULT_SERVICE


def message_of(labels, annotations):
    candidates = (annotations.get("summary"), annotations.get("description"), labels.get("alertname"))
    return first_text(*candidates) or DEFAULT_MESSAGE


def timestamp_of(raw, where, status, now):
    """endsAt for a resolved alert, else startsAt; Go's zero time counts as missing; then `now`."""
    starts = time_field(raw, "startsAt", where)
    ends = time_field(raw, "endsAt", where) if status == "resolved" else None
    chosen = ends or starts or now or dt.datetime.now(dt.UTC)
    return chosen.astimezone(dt.UTC).isoformat()


def time_field(raw, key, where):
    try:
        return parse_timestamp(raw.get(key))
    except ValueError as error:
        raise invalid(f"{where}.{key}", str(error)) from None


def parse_timestamp(value):
    """An aware datetime from ISO 8601 / RFC 3339 text (no offset means UTC).

    None when missing, blank or Go's zero time (year 1); `ValueError` when unreadable.
    """
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if not isinstance(value, str):
        raise ValueError("must be an RFC 3339 timestamp string")
    try:
        parsed = dt.datetime.fromisoformat(value.strip())
    except ValueError:
        raise ValueError(f"{value!r} is not an RFC 3339 timestamp, e.g. 2026-11-20T03:12:45Z") from None
    if parsed.year == 1:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.UTC)


def dedup_key_of(raw, where, labels):
    fingerprint = text(raw.get("fingerprint"))
    if fingerprint is None:
        return labels_fingerprint(labels)
    if len(fingerprint) > MAX_DEDUP_KEY:
        raise invalid(f"{where}.fingerprint", f"must be at most {MAX_DEDUP_KEY} characters")
    return fingerprint


def labels_fingerprint(labels):
    """A stable stand-in for a missing fingerprint: sha256 of the sorted labels, 16 hex digits."""
    canonical = json.dumps(sorted(labels.items()), separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def details_of(raw, annotations, group):
    details = {
        "annotations": annotations,
        "generatorURL": text(raw.get("generatorURL")),
        "externalURL": group.external_url,
    }
    if group.extra_details is not None:
        details.update(group.extra_details(raw))
    return {key: value for key, value in details.items() if value}


def string_map_field(raw, key, where):
    value = raw.get(key)
    if value is None:
        return {}
    found = string_map(value)
    if found is None:
        raise invalid(f"{where}.{key}", "must be a JSON object")
    return found


def string_map(value):
    """`value` with every value as text (null as ""), or None when it is not an object."""
    if not isinstance(value, dict):
        return None
    return {str(key): as_text(item) for key, item in value.items()}


def as_text(value):
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False) if isinstance(value, dict | list | bool) else str(value)


def text(value):
    """Non-blank text as is (stripped), else None."""
    return value.strip() if isinstance(value, str) and value.strip() else None


def first_text(*values):
    return next((found for found in map(text, values) if found is not None), None)


def count(value):
    return value if isinstance(value, int) and not isinstance(value, bool) and value >= 0 else 0
