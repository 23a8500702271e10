"""/api/v1/maintenance_windows and /api/v1/heartbeats: planned quiet, and monitors of silence."""

import falcon

from edge.auth import actor
from edge.ingestion import key_from
from edge.requests import read_json
from services.alerts import contracts as c
from services.shared.access import ADMIN, INTEGRATION, READ, RESPOND
from services.shared.errors import Unauthorized

DEFAULT_STATES = ("active", "upcoming")


class MaintenanceWindows:
    access = {"GET": READ, "POST": RESPOND}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp):
        states = req.get_param_as_list("state") or list(DEFAULT_STATES)
        resp.media = {"items": self.rpc.call(c.SERVICE, c.LIST_WINDOWS, states)}

    def on_post(self, req, resp):
        resp.media = self.rpc.call(c.SERVICE, c.CREATE_WINDOW, read_json(req), actor(req))
        resp.status = falcon.HTTP_201
        resp.location = f"/api/v1/maintenance_windows/{resp.media['id']}"


class MaintenanceWindow:
    access = {"GET": READ, "PATCH": RESPOND, "DELETE": RESPOND}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp, window_id):
        resp.media = self.rpc.call(c.SERVICE, c.GET_WINDOW, window_id)

    def on_patch(self, req, resp, window_id):
        resp.media = self.rpc.call(c.SERVICE, c.CHANGE_WINDOW, window_id, read_json(req), actor(req))

    def on_delete(self, req, resp, window_id):
        self.rpc.call(c.SERVICE, c.DELETE_WINDOW, window_id, actor(req))
        resp.status = falcon.HTTP_204


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


class Heartbeat:
    access = {"GET": READ, "PATCH": ADMIN, "DELETE": ADMIN}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp, heartbeat_id):
        resp.media = self.rpc.call(c.SERVICE, c.GET_HEARTBEAT, heartbeat_id)

    def on_patch(self, req, resp, heartbeat_id):
        resp.media = self.rpc.call(c.SERVICE, c.CHANGE_HEARTBEAT, heartbeat_id, read_json(req))

    def on_delete(self, req, resp, heartbeat_id):
        self.rpc.call(c.SERVICE, c.DELETE_HEARTBEAT, heartbeat_id)
        resp.status = falcon.HTTP_204


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
