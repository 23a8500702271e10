"""Klaxon's own format (SPEC §1, examples/payloads/generic-alert.json)."""

import datetime as dt
import uuid
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.shared.errors import ValidationFailed
from services.shared.severity import SEVERITIES, normalise_severity
from services.shared.validation import parse


class GenericAlert(BaseModel):
    """An alert as `curl` or any script sends it."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    service: str = Field(min_length=1, max_length=200, description="Service the alert is about")
    severity: str = Field(description=f"One of {', '.join(SEVERITIES)} or a documented synonym")
    message: str = Field(min_length=1, max_length=10_000)
    labels: dict[str, str] = Field(default_factory=dict)
    timestamp: dt.datetime | None = Field(default=None, description="RFC 3339; default now")
    dedup_key: str | None = Field(default=None, max_length=500)
    fingerprint: str | None = Field(default=None, max_length=500)
    status: Literal["firing", "resolved"] = "firing"

    @field_validator("severity", mode="before")
    @classmethod
    def known_severity(cls, value):
        severity = normalise_severity(value)
        if severity is None:
            raise ValueError(f"unknown severity {value!r}; use one of {', '.join(SEVERITIES)}")
        return severity

    @field_validator("timestamp")
    @classmethod
    def zone_aware(cls, value):
        if value is not None and value.tzinfo is None:
            raise ValueError("timestamp needs a time zone offset (RFC 3339), e.g. 2026-03-08T15:30:00Z")
        return value


def parse_generic(payload, alert_id=None, now=None):
    """A validated `NormalisedAlert` from a generic payload, or `ValidationFailed`."""
    alert = parse(GenericAlert, payload)
    if alert.status == "resolved" and not (alert.dedup_key or alert.fingerprint):
        raise ValidationFailed(
            [{"field": "dedup_key", "reason": "a resolved alert needs the dedup_key it resolves"}]
        )
    timestamp = alert.timestamp or now or dt.datetime.now(dt.UTC)
    return {
        "alert_id": alert_id or str(uuid.uuid4()),
        "source": "generic",
        "service": alert.service,
        "severity": alert.severity,
        "message": alert.message,
        "labels": alert.labels,
        "timestamp": timestamp.astimezone(dt.UTC).isoformat(),
        "dedup_key": alert.dedup_key or alert.fingerprint,
        "status": alert.status,
    }
