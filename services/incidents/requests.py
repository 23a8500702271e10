"""Validated shapes of what callers send to the incidents service."""

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.incidents.contracts import STATUSES
from services.shared.errors import ValidationFailed
from services.shared.severity import SEVERITIES, normalise_severity
from services.shared.validation import parse


class NewIncident(BaseModel):
    """An incident opened by hand (POST /api/v1/incidents)."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    title: str = Field(min_length=1, max_length=10_000)
    service: str = Field(min_length=1, max_length=200)
    severity: str = Field(description=f"One of {', '.join(SEVERITIES)} or a synonym")
    team: str | None = Field(default=None, max_length=200)
    assignee: str | None = Field(default=None, max_length=200)
    note: str | None = Field(default=None, max_length=10_000)

    @field_validator("severity", mode="before")
    @classmethod
    def known_severity(cls, value):
        severity = normalise_severity(value)
        if severity is None:
            raise ValueError(f"unknown severity {value!r}; use one of {', '.join(SEVERITIES)}")
        return severity


class IncidentChange(BaseModel):
    """A PATCH of an incident: a new status, assignee and/or a note."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    status: str | None = Field(default=None, description=f"One of {', '.join(STATUSES)}")
    assignee: str | None = Field(default=None, min_length=1, max_length=200)
    note: str | None = Field(default=None, min_length=1, max_length=10_000)

    @field_validator("status")
    @classmethod
    def known_status(cls, value):
        if value is not None and value not in STATUSES:
            raise ValueError(f"must be one of {', '.join(STATUSES)}")
        return value


def parse_change(payload):
    change = parse(IncidentChange, payload)
    if change.status is None and change.assignee is None and change.note is None:
        raise ValidationFailed([{"field": "body", "reason": "give at least one of status, assignee, note"}])
    return change
