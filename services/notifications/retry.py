"""When a failed delivery is tried again: exponential backoff with jitter, then give up."""

import datetime as dt
import random
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_seconds: float = 5.0
    cap_seconds: float = 600.0

    @classmethod
    def from_config(cls, config):
        return cls(
            max_attempts=int(config.get("NOTIFY_MAX_ATTEMPTS", 5)),
            base_seconds=float(config.get("NOTIFY_BACKOFF_SECONDS", 5.0)),
        )

    def delay(self, attempts, rng=random):
        """Seconds before the next try after `attempts` failures: base x 2^(n-1), capped,
        with jitter in [50 %, 100 %] so many failed pages do not retry in lockstep."""
        ceiling = min(self.cap_seconds, self.base_seconds * 2 ** (attempts - 1))
        return ceiling * (0.5 + rng.random() / 2)

    def next_attempt(self, attempts, now):
        """When to try again after `attempts` failed tries; None when it is time to give up."""
        if attempts >= self.max_attempts:
            return None
        return now + dt.timedelta(seconds=self.delay(attempts))
