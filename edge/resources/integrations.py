"""/api/v1/integrations: the keys monitoring systems send with their alerts."""

import falcon

from edge.auth import actor, source
from edge.requests import read_json
from services.alerts import contracts as c
from services.oncall import contracts as oncall
from services.shared.access import ADMIN


def audited(rpc, req, action, integration):
    """Key changes go on the audit log, with who made them and from where."""
    detail = {"id": integration["id"], "name": integration["name"], "kind": integration.get("kind")}
    rpc.call(
        oncall.SERVICE,
        oncall.RECORD_AUDIT,
        actor(req),
        action,
        f"integration:{integration['id']}",
        source(req),
        detail,
    )


class Integrations:
    access = {"GET": ADMIN, "POST": ADMIN}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp):
        resp.media = {"items": self.rpc.call(c.SERVICE, c.LIST_INTEGRATIONS)}

    def on_post(self, req, resp):
        resp.media = self.rpc.call(c.SERVICE, c.CREATE_INTEGRATION, read_json(req))
        resp.status = falcon.HTTP_201
        resp.location = f"/api/v1/integrations/{resp.media['id']}"
        audited(self.rpc, req, "integration_created", resp.media)


class Integration:
    access = {"DELETE": ADMIN}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_delete(self, req, resp, integration_id):
        resp.media = self.rpc.call(c.SERVICE, c.REVOKE_INTEGRATION, integration_id)
        audited(self.rpc, req, "integration_revoked", resp.media)
