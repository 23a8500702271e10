"""SRE figures over a time range, without I/O: MTTA and MTTR per day, how long acknowledging
and resolving took, and where incidents came from. Days are the caller's local days."""

import datetime as dt
import statistics
from collections import Counter
from zoneinfo import ZoneInfo

# Upper bounds (seconds) of the acknowledge- and resolve-time distributions; None: beyond.
ACK_BUCKETS = (60, 300, 900, 1800, 3600, 4 * 3600, None)
RESOLVE_BUCKETS = (300, 1800, 3600, 4 * 3600, 12 * 3600, 24 * 3600, 3 * 24 * 3600, None)


def analytics(rows, since, until, zone="UTC"):
    """`rows`: (created_at, service, team, mtta_seconds, mttr_seconds) of the incidents
    opened in [since, until)."""
    tz = ZoneInfo(zone)
    mtta = [row[3] for row in rows if row[3] is not None]
    mttr = [row[4] for row in rows if row[4] is not None]
    return {
        "since": since.isoformat(),
        "until": until.isoformat(),
        "time_zone": zone,
        "opened": len(rows),
        "mtta_seconds": _mean(mtta),
        "mttr_seconds": _mean(mttr),
        "daily": daily(rows, since, until, tz),
        "ack_time_buckets": buckets(mtta, ACK_BUCKETS),
        "resolve_time_buckets": buckets(mttr, RESOLVE_BUCKETS),
        "by_service": _ranked(Counter(row[1] for row in rows), "service"),
        "by_team": _ranked(Counter(row[2] or "(no team)" for row in rows), "team"),
    }


def daily(rows, since, until, tz):
    """One entry per local day of the range, empty days included, so charts have no gaps."""
    days = {}
    day, last = since.astimezone(tz).date(), (until - dt.timedelta(microseconds=1)).astimezone(tz).date()
    while day <= last and len(days) < 366:
        days[day] = {"opened": 0, "mtta": [], "mttr": []}
        day += dt.timedelta(days=1)
    for created_at, _, _, mtta, mttr in rows:
        bucket = days.get(created_at.astimezone(tz).date())
        if bucket is None:
            continue
        bucket["opened"] += 1
        if mtta is not None:
            bucket["mtta"].append(mtta)
        if mttr is not None:
            bucket["mttr"].append(mttr)
    return [
        {
            "day": day.isoformat(),
            "opened": bucket["opened"],
            "acknowledged": len(bucket["mtta"]),
            "resolved": len(bucket["mttr"]),
            "mtta_seconds": _mean(bucket["mtta"]),
            "mttr_seconds": _mean(bucket["mttr"]),
        }
        for day, bucket in days.items()
    ]


def buckets(values, bounds):
    counts = [0] * len(bounds)
    for value in values:
        counts[next(i for i, bound in enumerate(bounds) if bound is None or value <= bound)] += 1
    return [{"le": bound, "count": count} for bound, count in zip(bounds, counts, strict=True)]


def _mean(values):
    return round(statistics.fmean(values), 3) if values else None


def _ranked(counter, name):
    return [{name: key, "opened": count} for key, count in counter.most_common()]
