"""Integration keys: generated once, shown once, stored only as a hash.

Keys are 32 random bytes, so a plain SHA-256 is the right store for them: a slow
password KDF protects guessable secrets, and these are not guessable.
"""

import hashlib
import secrets

from pydantic import BaseModel, ConfigDict, Field

from services.incidents.requests import parse

KEY_PREFIX = "klx_"
KINDS = ("any", "generic", "alertmanager", "grafana", "pagerduty")
DEFAULT_INTEGRATION = "default"


class NewIntegration(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200, pattern=r"^[\w.\-]+$")
    kind: str = Field(default="any", pattern="^(" + "|".join(KINDS) + ")$")
    default_service: str | None = Field(default=None, min_length=1, max_length=200)
    auto_resolve: bool = Field(default=True, description="resolve the incident when all its alerts resolve")
    rate_limit_per_minute: int = Field(default=6000, ge=1, le=10_000_000)


def parse_integration(payload):
    return parse(NewIntegration, payload)


def new_key():
    return KEY_PREFIX + secrets.token_urlsafe(32)


def key_hash(key):
    return hashlib.sha256(key.encode()).hexdigest()
