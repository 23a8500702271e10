"""A token bucket per integration: what every door for alerts (the edge and the alerts
service's own port) holds a sender to."""

import math
import threading
import time

from services.shared.errors import Throttled

KEYLESS_BUCKET = ("keyless",)  # never equal to an integration id


class RateLimited(Throttled):
    def __init__(self, integration, limit, retry_after):
        super().__init__(f"integration {integration!r} is limited to {limit} alerts per minute", retry_after)
        self.integration = integration
        self.limit = limit


class RateLimiter:
    """A token bucket per integration: `rate_limit_per_minute`, bursts of ten seconds' worth."""

    def __init__(self, clock=time.monotonic):
        self.clock = clock
        self.buckets = {}
        self.lock = threading.Lock()

    def take(self, integration, count=1):
        per_minute = integration["rate_limit_per_minute"]
        rate = per_minute / 60.0
        capacity = max(per_minute / 6.0, count)
        with self.lock:
            bucket = integration["id"] if integration["id"] is not None else KEYLESS_BUCKET
            tokens, then = self.buckets.get(bucket, (capacity, self.clock()))
            now = self.clock()
            tokens = min(capacity, tokens + (now - then) * rate)
            if tokens < count:
                self.buckets[bucket] = (tokens, now)
                raise RateLimited(integration["name"], per_minute, math.ceil((count - tokens) / rate))
            self.buckets[bucket] = (tokens - count, now)
