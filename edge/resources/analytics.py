"""/api/v1/analytics: the SRE figures the console charts, over any time range, and
/api/v1/console/config: what the console needs to know of the edge's settings."""

import datetime as dt

from services.incidents import contracts as incidents
from services.notifications import contracts as notifications
from services.oncall import contracts as oncall
from services.oncall.requests import known_time_zone
from services.shared.access import READ
from services.shared.errors import invalid

DEFAULT_RANGE = dt.timedelta(days=7)
LONGEST_RANGE = dt.timedelta(days=366)


def instant(req, name, default):
    value = req.get_param(name)
    if not value:
        return default
    try:
        parsed = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise invalid(name, "must be an RFC 3339 instant, e.g. 2026-11-25T09:00:00Z") from None
    if parsed.tzinfo is None:
        raise invalid(name, "needs a time zone offset, e.g. 2026-11-25T09:00:00Z")
    return parsed


def time_range(req, now):
    until = instant(req, "until", now)
    since = instant(req, "since", until - DEFAULT_RANGE)
    if since >= until:
        raise invalid("since", "must be before until")
    if until - since > LONGEST_RANGE:
        raise invalid("since", "the range may span at most 366 days")
    return since, until


def zone_of(req):
    zone = req.get_param("time_zone") or "UTC"
    try:
        return known_time_zone(zone)
    except ValueError as error:
        raise invalid("time_zone", str(error)) from None


class Analytics:
    """MTTA/MTTR per day, acknowledge- and resolve-time distributions, incidents per service
    and team, and pages per person with those between 22:00 and 07:00 in their own zone."""

    access = {"GET": READ}

    def __init__(self, rpc, clock=lambda: dt.datetime.now(dt.UTC)):
        self.rpc = rpc
        self.clock = clock

    def on_get(self, req, resp):
        since, until = time_range(req, self.clock())
        filters = {name: req.get_param(name) for name in ("service", "team") if req.get_param(name)}
        span = (since.isoformat(), until.isoformat())
        figures = self.rpc.call(incidents.SERVICE, incidents.ANALYTICS, *span, filters, zone_of(req))
        zones = {
            user["email"]: user["time_zone"] for user in self.rpc.call(oncall.SERVICE, oncall.LIST_USERS)
        }
        figures["pages_by_person"] = self.rpc.call(
            notifications.SERVICE, notifications.PAGE_LOAD, *span, zones
        )
        resp.media = figures


class ConsoleConfig:
    access = {"GET": READ}

    def __init__(self, trace_url_template=None, logs_url_template=None):
        self.body = {"trace_url_template": trace_url_template, "logs_url_template": logs_url_template}

    def on_get(self, req, resp):
        resp.media = self.body
