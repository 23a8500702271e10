"""/api/v1/maintenance_windows and /api/v1/heartbeats: planned quiet, and monitors of silence."""

import falcon

from edge.auth import actor, source
from edge.ingestion import key_from
from edge.requests import read_json
from services.alerts import contracts as c
from services.oncall import contracts as oncall
from services.shared.access import ADMIN, INTEGRATION, READ, RESPOND
from services.shared.errors import Unauthorized

DEFAULT_STATES = ("active", "upcoming")


def audited(rpc, req, action, subject, detail):
    """Windows and monitors go on the audit log too, with who changed them and from where."""
    rpc.call(oncall.SERVICE, oncall.RECORD_AUDIT, actor(req), action, subject, source(req), detail)


class MaintenanceWindows:
    access = {"GET": READ, "POST": RESPOND}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp):
        # ?state=active,ended and ?state=active&state=ended alike
        states = [s for value in req.get_param_as_list("state") or [] for s in value.split(",") if s]
        states = states or list(DEFAULT_STATES)
        resp.media = {"items": self.rpc.call(c.SERVICE, c.LIST_WINDOWS, states)}

    def on_post(self, req, resp):
        resp.media = self.rpc.call(c.SERVICE, c.CREATE_WINDOW, read_json(req), actor(req))
        resp.status = falcon.HTTP_201
        resp.location = f"/api/v1/maintenance_windows/{resp.media['id']}"
        window = resp.media
        detail = {"reason": window["reason"], "matchers": window["matchers"]}
        audited(self.rpc, req, "maintenance_window_created", f"maintenance_window:{window['id']}", detail)


class MaintenanceWindow:
    access = {"GET": READ, "PATCH": RESPOND, "DELETE": RESPOND}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp, window_id):
        resp.media = self.rpc.call(c.SERVICE, c.GET_WINDOW, window_id)

    def on_patch(self, req, resp, window_id):
        resp.media = self.rpc.call(c.SERVICE, c.CHANGE_WINDOW, window_id, read_json(req), actor(req))
        change = resp.media["history"][-1]
        audited(
            self.rpc,
            req,
            f"maintenance_window_{change['action']}",
            f"maintenance_window:{window_id}",
            change["detail"],
        )

    def on_delete(self, req, resp, window_id):
        self.rpc.call(c.SERVICE, c.DELETE_WINDOW, window_id, actor(req))
        resp.status = falcon.HTTP_204
        audited(self.rpc, req, "maintenance_window_deleted", f"maintenance_window:{window_id}", {})


class Heartbeats:
    access = {"GET": READ, "POST": ADMIN}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp):
        resp.media = {"items": self.rpc.call(c.SERVICE, c.LIST_HEARTBEATS)}

    def on_post(self, req, resp):
        resp.media = self.rpc.call(c.SERVICE, c.CREATE_HEARTBEAT, read_json(req))
        resp.status = falcon.HTTP_201
        resp.location = f"/api/v1/heartbeats/{resp.media['id']}"
        monitor = resp.media
        detail = {"name": monitor["name"], "service": monitor["service"]}
        audited(self.rpc, req, "heartbeat_created", f"heartbeat:{monitor['id']}", detail)


class Heartbeat:
    access = {"GET": READ, "PATCH": ADMIN, "DELETE": ADMIN}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp, heartbeat_id):
        resp.media = self.rpc.call(c.SERVICE, c.GET_HEARTBEAT, heartbeat_id)

    def on_patch(self, req, resp, heartbeat_id):
        resp.media = self.rpc.call(c.SERVICE, c.CHANGE_HEARTBEAT, heartbeat_id, read_json(req))

    def on_delete(self, req, resp, heartbeat_id):
        monitor = self.rpc.call(c.SERVICE, c.DELETE_HEARTBEAT, heartbeat_id)
        resp.status = falcon.HTTP_204
        audited(self.rpc, req, "heartbeat_deleted", f"heartbeat:{heartbeat_id}", {"name": monitor["name"]})


class Beat:
    """A beat, with the monitor's key as an integration's (Bearer, header or query). Any body
    is accepted and ignored: Alertmanager's webhook of an always-firing Watchdog counts."""

    access = {"POST": INTEGRATION}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_post(self, req, resp, heartbeat_id):
        key = key_from(req)
        if not key:
            raise Unauthorized("a beat needs its monitor's key: send 'Authorization: Bearer <key>'")
        resp.media = self.rpc.call(c.SERVICE, c.BEAT, heartbeat_id, key)
