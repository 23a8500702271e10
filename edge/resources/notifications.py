"""/api/v1/notify and /api/v1/notifications."""

import falcon

from edge.requests import filters, read_json
from services.notifications import contracts as c

NOTIFICATION_FILTERS = ("incident_id", "recipient", "channel", "status")


class Notify:
    def __init__(self, rpc):
        self.rpc = rpc

    def on_post(self, req, resp):
        resp.media = self.rpc.call(c.SERVICE, c.NOTIFY, read_json(req))
        resp.status = falcon.HTTP_201


class Notifications:
    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp):
        resp.media = self.rpc.call(
            c.SERVICE,
            c.LIST,
            filters(req, NOTIFICATION_FILTERS),
            req.get_param("cursor"),
            req.get_param("limit"),
        )
