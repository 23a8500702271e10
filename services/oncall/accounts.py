"""Signing in, without I/O: password hashes, secrets, session expiry and the throttle.

Passwords are hashed with argon2id. Session cookies, API tokens and calendar URLs carry
random secrets of 256 bits; only their SHA-256 is stored, which is enough for secrets
that cannot be guessed (a slow hash is for what people choose).
"""

import datetime as dt
import hashlib
import secrets
import string
from dataclasses import dataclass

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from services.shared.access import TOKEN_PREFIX

HASHER = PasswordHasher()  # argon2id with the library's current recommended parameters
# Checked when the e-mail is unknown, so that a wrong e-mail takes as long as a wrong password.
UNKNOWN_USER_HASH = HASHER.hash(secrets.token_urlsafe(16))
MIN_PASSWORD_LENGTH = 12


def hash_password(password):
    return HASHER.hash(password)


def password_matches(password_hash, password):
    try:
        return HASHER.verify(password_hash or UNKNOWN_USER_HASH, password) and password_hash is not None
    except (VerificationError, InvalidHashError):
        return False


def one_time_password():
    """A generated first password, readable aloud: four groups of five letters and digits."""
    alphabet = string.ascii_lowercase + string.digits
    return "-".join("".join(secrets.choice(alphabet) for _ in range(5)) for _ in range(4))


def new_secret(prefix=""):
    return prefix + secrets.token_urlsafe(32)


def new_token():
    return new_secret(TOKEN_PREFIX)


def digest(secret):
    return hashlib.sha256(secret.encode()).hexdigest()


@dataclass(frozen=True)
class SessionPolicy:
    idle: dt.timedelta = dt.timedelta(hours=12)
    absolute: dt.timedelta = dt.timedelta(days=7)
    # last_seen_at is written at most this often, not on every request.
    touch_every: dt.timedelta = dt.timedelta(minutes=1)

    @classmethod
    def from_config(cls, config):
        return cls(
            idle=dt.timedelta(minutes=float(config.get("SESSION_IDLE_MINUTES", 720))),
            absolute=dt.timedelta(hours=float(config.get("SESSION_MAX_HOURS", 168))),
        )

    def alive(self, last_seen_at, expires_at, now):
        return now < expires_at and now - last_seen_at < self.idle

    def needs_touch(self, last_seen_at, now):
        return now - last_seen_at >= self.touch_every


@dataclass(frozen=True)
class Throttle:
    """Failures per account or per address within `window`: from `slow_after` each answer
    is delayed, from `lock_after` the key is refused for a while that doubles each time."""

    window: dt.timedelta = dt.timedelta(minutes=15)
    slow_after: int = 3
    lock_after: int = 5
    address_lock_after: int = 20
    first_lock: dt.timedelta = dt.timedelta(seconds=30)
    longest_lock: dt.timedelta = dt.timedelta(minutes=15)
    slowdown_seconds: float = 1.0

    @classmethod
    def from_config(cls, config):
        return cls(
            lock_after=int(config.get("LOGIN_MAX_FAILURES", 5)),
            address_lock_after=int(config.get("LOGIN_MAX_FAILURES_PER_ADDRESS", 20)),
            slowdown_seconds=float(config.get("LOGIN_SLOWDOWN_SECONDS", 1.0)),
        )

    def limit_of(self, key):
        return self.address_lock_after if key.startswith("address:") else self.lock_after

    def lock_for(self, key, failures):
        """How long `key` is refused after its `failures`-th failure (zero: not locked)."""
        over = failures - self.limit_of(key)
        if over < 0:
            return dt.timedelta(0)
        return min(self.first_lock * (2 ** min(over, 10)), self.longest_lock)

    def delay(self, failures):
        """Seconds to wait before answering a failed attempt."""
        if failures < self.slow_after:
            return 0.0
        return min(self.slowdown_seconds * (failures - self.slow_after + 1), 5.0)


def throttle_keys(email, source):
    keys = [f"account:{(email or '').strip().lower()}"]
    if source:
        keys.append(f"address:{source}")
    return keys
