"""Validated shape of a notification request (POST /api/v1/notify and the event)."""

import uuid

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.notifications.contracts import CHANNELS
from services.shared.validation import LARGEST_INT, parse


class IncidentFacts(BaseModel):
    """What a page says of its incident, as its sender knew it (oncall's IncidentFacts)."""

    model_config = ConfigDict(extra="ignore")

    id: int | None = None
    title: str | None = Field(default=None, max_length=1000)
    service: str | None = Field(default=None, max_length=200)
    severity: str | None = Field(default=None, max_length=32)
    status: str | None = Field(default=None, max_length=32)
    assignee: str | None = Field(default=None, max_length=200)


class NotifyRequest(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    recipient: str = Field(min_length=1, max_length=320, description="E-mail or address for the channel")
    recipient_name: str | None = Field(default=None, max_length=200)
    channel: str = Field(default="log", description=f"One of {', '.join(CHANNELS)}")
    # Both are stored in INTEGER columns: a larger number is a bad request, not a failed write.
    incident_id: int | None = Field(default=None, ge=0, le=LARGEST_INT)
    step: int = Field(default=0, ge=0, le=LARGEST_INT)
    subject: str = Field(default="", max_length=1000)
    message: str = Field(min_length=1, max_length=10_000)
    request_id: str = Field(default_factory=lambda: str(uuid.uuid4()), max_length=64)
    address: str | None = Field(
        default=None, max_length=2000, validate_default=True, description="URL of a webhook or Slack channel"
    )
    secret: str | None = Field(default=None, max_length=500, description="Signs a webhook's body")
    delay_minutes: float = Field(
        default=0,
        ge=0,
        le=24 * 60,
        description="Send this much later, if the incident is still unacknowledged",
    )
    incident: IncidentFacts | None = Field(
        default=None,
        description="The incident's facts for the page; without them the incidents service is asked",
    )

    @field_validator("channel")
    @classmethod
    def known_channel(cls, value):
        if value not in CHANNELS:
            raise ValueError(f"must be one of {', '.join(CHANNELS)}")
        return value

    @field_validator("address")
    @classmethod
    def fits_the_channel(cls, address, info):
        channel = info.data.get("channel")
        if channel == "email":
            return address or info.data.get("recipient")
        if channel in ("webhook", "slack") and not (address or "").startswith(("http://", "https://")):
            raise ValueError(f"a {channel} notification needs an http(s) URL here")
        return address


def parse_notify(payload):
    return parse(NotifyRequest, payload)
