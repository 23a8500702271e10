"""Heartbeat monitors: a system that stops reporting pages someone. Pure.

A monitor expects a beat every `interval_seconds`, and waits `grace_seconds` more before
it says the system has gone silent. Its silence is an alert like any other (source
`heartbeat`, the monitor's service and severity, dedup key `heartbeat:<id>`), so it opens
an incident, pages and escalates as any incident does; the next beat resolves it. The
alert's id is derived from the instant the monitor expired, so every replica that sees
the same silence raises the same alert, and ingestion (idempotent by id) keeps one.
"""

import datetime as dt

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.alerts.integrations import NAME
from services.shared.severity import SEVERITIES
from services.shared.validation import parse

SOURCE = "heartbeat"
MAX_SECONDS = 31 * 24 * 3600


class HeartbeatRequest(BaseModel):
    """POST /api/v1/heartbeats."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    service: str = Field(min_length=1, max_length=200, description="The service whose team is paged")
    interval_seconds: int = Field(ge=10, le=MAX_SECONDS, description="A beat is expected this often")
    grace_seconds: int = Field(default=60, ge=0, le=MAX_SECONDS, description="Extra wait before paging")
    severity: str = Field(default="critical", description=f"One of {', '.join(SEVERITIES)}")

    @field_validator("name")
    @classmethod
    def simple_name(cls, value):
        if not NAME.fullmatch(value):
            raise ValueError("use letters, digits, '.', '-' or '_' only")
        return value

    @field_validator("severity")
    @classmethod
    def known_severity(cls, value):
        if value not in SEVERITIES:
            raise ValueError(f"must be one of {', '.join(SEVERITIES)}")
        return value


class HeartbeatChange(BaseModel):
    """PATCH /api/v1/heartbeats/{id}."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    service: str | None = Field(default=None, min_length=1, max_length=200)
    interval_seconds: int | None = Field(default=None, ge=10, le=MAX_SECONDS)
    grace_seconds: int | None = Field(default=None, ge=0, le=MAX_SECONDS)
    severity: str | None = None

    _severity = field_validator("severity")(HeartbeatRequest.known_severity.__func__)


def parse_heartbeat(payload):
    return parse(HeartbeatRequest, payload)


def parse_heartbeat_change(payload):
    return parse(HeartbeatChange, payload)


def expiry(since, interval_seconds, grace_seconds):
    return since + dt.timedelta(seconds=interval_seconds + grace_seconds)


def dedup_key(monitor):
    return f"heartbeat:{monitor['id']}"


def silence_alert(monitor):
    """The alert a silent monitor raises; the same for every replica that notices."""
    expired = dt.datetime.fromisoformat(monitor["expires_at"])
    last = monitor["last_beat_at"] or "never"
    return {
        "alert_id": f"heartbeat-{monitor['id']}-{int(expired.timestamp() * 1000)}",
        "source": SOURCE,
        "service": monitor["service"],
        "severity": monitor["severity"],
        "message": f"Heartbeat '{monitor['name']}' is silent: no beat since {last}",
        "labels": {"heartbeat": monitor["name"], "alertname": "HeartbeatMissed"},
        "timestamp": expired.isoformat(),
        "dedup_key": dedup_key(monitor),
        "status": "firing",
    }


def recovery_alert(monitor, down_alert_id, now):
    """The resolve the first beat after a silence sends; one per silence."""
    return {
        "alert_id": f"{down_alert_id}-resolved",
        "source": SOURCE,
        "service": monitor["service"],
        "severity": monitor["severity"],
        "message": f"Heartbeat '{monitor['name']}' beats again",
        "labels": {"heartbeat": monitor["name"], "alertname": "HeartbeatMissed"},
        "timestamp": now.isoformat(),
        "dedup_key": dedup_key(monitor),
        "status": "resolved",
    }
