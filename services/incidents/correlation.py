"""Which alerts belong together. Pure: no I/O, no clock of its own."""

import datetime as dt


def correlation_key(service, severity):
    """Alerts of the same service and severity fold into one incident."""
    return f"{service}|{severity}"


def window_start(now, window_seconds):
    """The oldest creation instant an incident may have and still take new alerts."""
    return now - dt.timedelta(seconds=window_seconds)
