"""/api/v1/notify, /api/v1/notifications and the acknowledge links of pages (/api/v1/ack)."""

import falcon

from edge.requests import filters, read_json
from edge.resources import ack_page
from services.notifications import contracts as c
from services.shared.access import PUBLIC, READ, RESPOND
from services.shared.errors import Conflict, Forbidden, NotFound
from services.shared.problems import problem_of

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
    """The link in an e-mail or Slack page. Opening it (GET) only shows what it would
    acknowledge, as whom, with a button: mail scanners and chat unfurlers fetch links, and
    must not acknowledge incidents (and so stop their escalation) for anyone. The button
    POSTs, which acknowledges the incident as the page's recipient, once. A browser gets a
    small page; any other client JSON."""

    access = {"GET": PUBLIC, "POST": PUBLIC}

    def __init__(self, rpc):
        self.rpc = rpc

    def on_get(self, req, resp, token):
        self._answer(req, resp, ack_page.preview, lambda: self.rpc.call(c.SERVICE, c.PREVIEW_ACK, token))

    def on_post(self, req, resp, token):
        self._answer(req, resp, ack_page.done, lambda: self.rpc.call(c.SERVICE, c.REDEEM_ACK, token))

    @staticmethod
    def _answer(req, resp, page, call):
        if not wants_html(req):
            resp.media = call()
            return
        try:
            body = page(call())
        except (Forbidden, Conflict, NotFound) as refused:
            status, title, _, _ = problem_of(refused)
            resp.status = falcon.code_to_http_status(status)
            body = ack_page.refused(title, str(refused))
        resp.content_type = falcon.MEDIA_HTML
        resp.set_header("Content-Security-Policy", ack_page.CONTENT_SECURITY_POLICY)
        resp.set_header("Cache-Control", "no-store")
        resp.text = body


def wants_html(req):
    """A browser (it asks for HTML before JSON), not an API client."""
    return req.client_prefers(("application/json", falcon.MEDIA_HTML)) == falcon.MEDIA_HTML
