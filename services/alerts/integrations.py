"""Integration keys: generated once, shown once, stored only as a hash.

Keys are 32 random bytes, so a plain SHA-256 is the right store for them: a slow
password KDF protects guessable secrets, and these are not guessable.
"""

import hashlib
import re
import secrets
import time

from pydantic import BaseModel, ConfigDict, Field, field_validator

from services.shared.errors import Forbidden
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


class KeyCache:
    """Each key's answer (its integration, or its revocation) for `seconds`, so that a
    sender posting to this service's own port costs no query per alert, as on the edge.
    A key revoked elsewhere is refused here within `seconds`; `forget()` (on a revoke in
    this process) makes it at once. Unknown keys are not remembered."""

    def __init__(self, seconds, clock=time.monotonic):
        self.seconds = seconds
        self.clock = clock
        self.entries = {}  # key hash -> (expires at, integration or Forbidden)

    def authenticate(self, key, load):
        """The integration of `key`, from the cache or else from `load(key)`."""
        digest = key_hash(key)
        hit = self.entries.get(digest)
        if hit is not None and hit[0] > self.clock():
            value = hit[1]
        else:
            try:
                value = load(key)
            except Forbidden as refused:
                value = refused
            self.entries[digest] = (self.clock() + self.seconds, value)
        if isinstance(value, Forbidden):
            raise value
        return value

    def forget(self):
        self.entries.clear()


def keyless_integration(rate_limit_per_minute):
    """Whom a keyless alert comes from: no integration (its dedup keys share one scope),
    accepting every format, at `rate_limit_per_minute` (KLAXON_KEYLESS_RATE_LIMIT)."""
    return {
        "id": None,
        "name": KEYLESS,
        "kind": "any",
        "default_service": None,
        "auto_resolve": True,
        "rate_limit_per_minute": rate_limit_per_minute,
    }


def held_to_kind(integration, kind):
    """`integration`, unless its key was made for another kind of sender (403)."""
    if integration["kind"] not in ("any", kind):
        name, made_for = integration["name"], integration["kind"]
        raise Forbidden(f"integration {name!r} is for {made_for} senders, not {kind}")
    return integration
