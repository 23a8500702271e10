"""On-call load without I/O: pages per person, and the pages that woke them (22:00-07:00
in their own time zone)."""

from collections import Counter
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

NIGHT_STARTS, NIGHT_ENDS = 22, 7


def at_night(instant, zone):
    hour = instant.astimezone(zone).hour
    return hour >= NIGHT_STARTS or hour < NIGHT_ENDS


def page_load(pages, zones):
    """`pages`: (recipient, created_at) of each page; `zones`: {recipient: IANA zone}.
    People without a known zone count in UTC."""
    total, night = Counter(), Counter()
    cache = {}
    for recipient, created_at in pages:
        zone = cache.get(recipient) or cache.setdefault(recipient, _zone(zones.get(recipient)))
        total[recipient] += 1
        night[recipient] += at_night(created_at, zone)
    return [
        {"recipient": recipient, "pages": count, "night_pages": night[recipient]}
        for recipient, count in total.most_common()
    ]


def _zone(name):
    try:
        return ZoneInfo(name or "UTC")
    except (ZoneInfoNotFoundError, ValueError, OSError):
        return ZoneInfo("UTC")
