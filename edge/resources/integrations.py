"""/api/v1/integrations: the keys monitoring systems send with their alerts."""

import falcon

from edge.requests import read_json
from services.alerts import contracts as c


class Integrations:
    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp):
        resp.media = {"items": self.rpc.call(c.SERVICE, c.LIST_INTEGRATIONS)}

    def on_post(self, req, resp):
        resp.media = self.rpc.call(c.SERVICE, c.CREATE_INTEGRATION, read_json(req))
        resp.status = falcon.HTTP_201
        resp.location = f"/api/v1/integrations/{resp.media['id']}"


class Integration:
    def __init__(self, rpc):
        self.rpc = rpc

    def on_delete(self, req, resp, integration_id):
        resp.media = self.rpc.call(c.SERVICE, c.REVOKE_INTEGRATION, integration_id)
