"""Validated shapes of schedules as callers send them (examples/payloads/schedule.json)."""

import datetime as dt
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, field_validator

from services.oncall.rotation import KINDS
from services.shared.validation import parse

DEFAULT_START = dt.date(2024, 1, 1)  # a Monday: weekly rotations hand off on Mondays


def known_time_zone(value):
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError, OSError):  # OSError: a directory of the tz database
        raise ValueError(f"unknown time zone {value!r}; use an IANA name such as Europe/Paris") from None
    return value


class ContactMethod(BaseModel):
    """How to reach a person, and when: e-mail (their address unless another is given), a
    webhook URL or a Slack incoming-webhook URL, `delay_minutes` after the page if the
    incident is still unacknowledged by then ("e-mail at once, Slack after 2 minutes")."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    type: Literal["email", "webhook", "slack"]
    address: str | None = Field(default=None, min_length=3, max_length=2000, validate_default=True)
    secret: str | None = Field(default=None, max_length=500, description="Signs a webhook's body")
    delay_minutes: float = Field(default=0, ge=0, le=24 * 60)

    @field_validator("address")
    @classmethod
    def fits_the_type(cls, address, info):
        kind = info.data.get("type")
        if kind == "email" and address is not None and "@" not in address:
            raise ValueError("must be an e-mail address")
        if kind in ("webhook", "slack") and not (address or "").startswith(("https://", "http://")):
            raise ValueError("must be an http(s) URL")
        return address


class Member(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    email: EmailStr
    role: Literal["primary", "secondary"] = "primary"
    # Left out: what the person has stays (their profile's zone and methods; UTC and none
    # for someone new), so adding a person to a team never wipes how they are paged.
    time_zone: str | None = Field(default=None, max_length=64, description="IANA zone of the person")
    contact_methods: list[ContactMethod] | None = Field(
        default=None, max_length=20, description="Left out: the person's own stay as they are"
    )

    @field_validator("time_zone")
    @classmethod
    def known_zone(cls, value):
        return value if value is None else known_time_zone(value)


class ScheduleRequest(BaseModel):
    """A team's rotation: who is primary and secondary, and when they hand off."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    team: str = Field(min_length=1, max_length=200)
    rotation_type: str = Field(description=f"One of {', '.join(KINDS)}")
    interval: int = Field(default=1, ge=1, le=366, description="Hand off every N hours/days/weeks")
    handoff_time: dt.time = Field(default=dt.time(9, 0), description="Local wall-clock time, HH:MM")
    time_zone: str = Field(default="UTC", max_length=64, description="IANA zone, e.g. Europe/Paris")
    start_date: dt.date = Field(default=DEFAULT_START, description="First shift starts this day")
    members: list[Member] = Field(min_length=1)
    default_contact_methods: list[ContactMethod] | None = Field(
        default=None,
        max_length=20,
        description="For members without contact methods of their own; left out: the team's stay",
    )
    services: list[Annotated[str, Field(min_length=1, max_length=200)]] = Field(
        default_factory=list, description="Services this team answers for"
    )
    managers: list[EmailStr] | None = Field(
        default=None,
        max_length=50,
        description="Responders who edit this team's schedule, policy and overrides (set by an admin)",
    )

    @field_validator("rotation_type")
    @classmethod
    def known_kind(cls, value):
        if value not in KINDS:
            raise ValueError(f"must be one of {', '.join(KINDS)}")
        return value

    @field_validator("time_zone")
    @classmethod
    def known_zone(cls, value):
        return known_time_zone(value)

    @field_validator("members")
    @classmethod
    def has_primary(cls, members):
        if not any(member.role == "primary" for member in members):
            raise ValueError("at least one member needs the role primary")
        return members


class OverrideRequest(BaseModel):
    """Someone covers a layer of a team's schedule from `start` to `end`."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    team: str = Field(min_length=1, max_length=200)
    layer: Literal["primary", "secondary"] = "primary"
    email: EmailStr = Field(description="Who covers")
    name: str | None = Field(default=None, max_length=200, description="Needed when the person is new")
    start: AwareDatetime
    end: AwareDatetime

    @field_validator("end")
    @classmethod
    def ends_after_it_starts(cls, end, info):
        start = info.data.get("start")
        if start is not None and end <= start:
            raise ValueError("must be after start: this override ends before it begins")
        return end


def parse_override(payload):
    return parse(OverrideRequest, payload)


def parse_schedule(payload):
    return parse(ScheduleRequest, payload)
