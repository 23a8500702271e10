"""/api/v1/schedules, /api/v1/escalation_policies, /api/v1/overrides, /api/v1/oncall/*, /api/v1/escalate."""

import falcon

from edge.auth import actor, principal
from edge.requests import read_json
from services.oncall import contracts as c
from services.shared.access import MANAGE_TEAM, READ, RESPOND
from services.shared.errors import invalid
from services.shared.validation import count_param, required_id


def required_param(req, name):
    value = req.get_param(name)
    if not value:
        raise invalid(name, "is required (a query parameter)")
    return value


def upcoming_count(req):
    return count_param(req.get_param("count"))


class Schedules:
    access = {"GET": READ, "POST": MANAGE_TEAM}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp):
        resp.media = {"items": self.rpc.call(c.SERVICE, c.LIST_SCHEDULES)}

    def on_post(self, req, resp):
        schedule = self.rpc.call(c.SERVICE, c.CREATE_SCHEDULE, read_json(req), principal(req))
        resp.status = falcon.HTTP_201
        resp.media = schedule


class EscalationPolicies:
    access = {"GET": READ, "POST": MANAGE_TEAM}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp):
        resp.media = {"items": self.rpc.call(c.SERVICE, c.LIST_POLICIES)}

    def on_post(self, req, resp):
        resp.media = self.rpc.call(c.SERVICE, c.SAVE_POLICY, read_json(req), principal(req))
        resp.status = falcon.HTTP_201


class Overrides:
    access = {"GET": READ, "POST": RESPOND}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp):
        team = required_param(req, "team")
        resp.media = {"items": self.rpc.call(c.SERVICE, c.LIST_OVERRIDES, team, req.get_param("since"))}

    def on_post(self, req, resp):
        resp.media = self.rpc.call(c.SERVICE, c.ADD_OVERRIDE, read_json(req))
        resp.status = falcon.HTTP_201


class OverrideById:
    access = {"DELETE": RESPOND}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_delete(self, req, resp, override_id):
        self.rpc.call(c.SERVICE, c.DELETE_OVERRIDE, override_id)
        resp.status = falcon.HTTP_204


class OncallCurrent:
    access = {"GET": READ}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp):
        team = required_param(req, "team")
        resp.media = self.rpc.call(c.SERVICE, c.CURRENT, team, req.get_param("at"))


class OncallUpcoming:
    access = {"GET": READ}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp):
        team = required_param(req, "team")
        resp.media = self.rpc.call(c.SERVICE, c.UPCOMING, team, req.get_param("at"), upcoming_count(req))


class Escalate:
    access = {"POST": RESPOND}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_post(self, req, resp):
        incident_id = required_id(read_json(req), "incident_id")
        resp.media = self.rpc.call(c.SERVICE, c.ESCALATE, incident_id, actor(req))


class PersonResource:
    access = {"GET": READ, "PATCH": RESPOND}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp, email):
        resp.media = self.rpc.call(c.SERVICE, c.GET_PERSON, email, principal(req))

    def on_patch(self, req, resp, email):
        """A person's own name, time zone and contact methods (an admin: anyone's)."""
        resp.media = self.rpc.call(c.SERVICE, c.UPDATE_PROFILE, principal(req), email, read_json(req))


class PersonUpcoming:
    access = {"GET": READ}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp, email):
        count = upcoming_count(req)
        resp.media = {"items": self.rpc.call(c.SERVICE, c.PERSON_UPCOMING, email, req.get_param("at"), count)}


class TeamCalendar:
    access = {"GET": READ}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp, team):
        resp.content_type = "text/calendar; charset=utf-8"
        resp.text = self.rpc.call(c.SERVICE, c.CALENDAR, team, None)


class PersonCalendar:
    access = {"GET": READ}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp, email):
        resp.content_type = "text/calendar; charset=utf-8"
        resp.text = self.rpc.call(c.SERVICE, c.CALENDAR, None, email)
