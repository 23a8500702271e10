"""Integration keys: generated once, shown once, stored only as a hash.

Keys are 32 random bytes, so a plain SHA-256 is the right store for them: a slow
password KDF protects guessable secrets, and these are not guessable.
"""

import hashlib
import re
import secrets

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.shared.validation import parse

KEY_PREFIX = "klx_"
KINDS = ("any", "generic", "alertmanager", "grafana", "pagerduty")
KEYLESS = "default"  # the name keyless senders are rate-limited under
NAME = re.compile(r"[\w.\-]+")


class NewIntegration(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200)
    kind: str = Field(default="any", description=f"One of {', '.join(KINDS)}")
    default_service: str | None = Field(default=None, min_length=1, max_length=200)
    auto_resolve: bool = Field(default=True, description="resolve the incident when all its alerts resolve")
    rate_limit_per_minute: int = Field(default=6000, ge=1, le=10_000_000)

    @field_validator("name")
    @classmethod
    def simple_name(cls, value):
        if not NAME.fullmatch(value):
            raise ValueError("use letters, digits, '.', '-' or '_' only")
        return value

    @field_validator("kind")
    @classmethod
    def known_kind(cls, value):
        if value not in KINDS:
            raise ValueError(f"must be one of {', '.join(KINDS)}")
        return value


def parse_integration(payload):
    return parse(NewIntegration, payload)


def new_key():
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_hash(key):
    return hashlib.sha256(key.encode()).hexdigest()
