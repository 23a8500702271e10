"""/api/v1/notify, /api/v1/notifications and the acknowledge links of pages (/api/v1/ack)."""

import falcon

from edge.requests import filters, read_json
from services.notifications import contracts as c
from services.shared.access import PUBLIC, READ, RESPOND

NOTIFICATION_FILTERS = ("incident_id", "recipient", "channel", "status")


class Notify:
    access = {"POST": RESPOND}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_post(self, req, resp):
        resp.media = self.rpc.call(c.SERVICE, c.NOTIFY, read_json(req))
        resp.status = falcon.HTTP_201


class Notifications:
    access = {"GET": READ}

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


class Attempts:
    access = {"GET": READ}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp, notification_id):
        resp.media = {"items": self.rpc.call(c.SERVICE, c.ATTEMPTS, notification_id)}


class AcknowledgeLink:
    """The link in an e-mail or Slack page: acknowledges the incident as its recipient, once."""

    access = {"GET": PUBLIC}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp, token):
        resp.media = self.rpc.call(c.SERVICE, c.REDEEM_ACK, token)
