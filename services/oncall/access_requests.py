"""Validated shapes of what people send to sign in and manage their access."""

from typing import Literal

from pydantic import AwareDatetime, BaseModel, ConfigDict, EmailStr, Field, field_validator, model_validator

from services.oncall.accounts import MIN_PASSWORD_LENGTH
from services.oncall.requests import ContactMethod, known_time_zone

Role = Literal["viewer", "responder", "admin"]


class Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)


class LoginRequest(Strict):
    """POST /api/v1/auth/login."""

    email: str = Field(min_length=1, max_length=320)
    password: str = Field(min_length=1, max_length=1000)


class PasswordChange(Strict):
    """POST /api/v1/auth/password: the current password, and the new one."""

    current_password: str = Field(min_length=1, max_length=1000)
    new_password: str = Field(min_length=MIN_PASSWORD_LENGTH, max_length=1000)


class TokenRequest(Strict):
    """POST /api/v1/tokens: a named API token, optionally expiring, optionally with a lower role."""

    name: str = Field(min_length=1, max_length=200)
    role: Role | None = Field(default=None, description="At most the owner's role; default: the owner's")
    expires_at: AwareDatetime | None = None


class NewUser(Strict):
    """POST /api/v1/users (admin): the user gets a one-time password."""

    email: EmailStr
    name: str | None = Field(default=None, min_length=1, max_length=200)
    role: Role = "responder"
    time_zone: str = Field(default="UTC", max_length=64)

    @field_validator("time_zone")
    @classmethod
    def known_zone(cls, value):
        return known_time_zone(value)


class UserChange(Strict):
    """PATCH /api/v1/users/{email} (admin)."""

    role: Role | None = None
    disabled: bool | None = None
    name: str | None = Field(default=None, min_length=1, max_length=200)


class ProfileChange(Strict):
    """PATCH /api/v1/people/{email}: a person's own name, time zone and contact methods."""

    name: str | None = Field(default=None, min_length=1, max_length=200)
    time_zone: str | None = Field(default=None, max_length=64)
    contact_methods: list[ContactMethod] | None = Field(default=None, max_length=20)

    @field_validator("time_zone")
    @classmethod
    def known_zone(cls, value):
        return None if value is None else known_time_zone(value)


class CalendarFeedRequest(Strict):
    """POST /api/v1/calendar_feeds: a secret iCalendar URL for a team or a person."""

    team: str | None = Field(default=None, min_length=1, max_length=200)
    email: EmailStr | None = None

    @model_validator(mode="after")
    def one_subject(self):
        if (self.email is None) == (self.team is None):
            raise ValueError("give exactly one of team and email")
        return self
