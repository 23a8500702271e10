"""Which alerts belong together. Pure: no I/O, no clock of its own."""

import datetime as dt
import hashlib

MAX_KEY_LENGTH = 400  # the column holds 420


def correlation_key(alert):
    """Alerts of one sender's group (Alertmanager's groupKey) share an incident; other
    alerts fold by service and severity."""
    if alert.get("group_key"):
        key = f"group|{alert['group_key']}"
        if len(key) > MAX_KEY_LENGTH:
            key = "group|sha256:" + hashlib.sha256(alert["group_key"].encode()).hexdigest()
        return key
    return f"{alert['service']}|{alert['severity']}"


def is_group_key(key):
    """A group's incident takes its alerts for as long as it is open, window or not."""
    return key.startswith("group|")


def window_start(now, window_seconds):
    """The oldest creation instant an incident may have and still take new alerts."""
    return now - dt.timedelta(seconds=window_seconds)
