"""Delivery channels. Each sends one ledger row and raises on failure.

`page` is what every channel needs: the ledger row and the link that acknowledges the
incident as the recipient (None for a message that is not about an incident).
"""

import hashlib
import hmac
import json
import logging
import smtplib
from dataclasses import dataclass
from email.message import EmailMessage
from html import escape
from urllib.parse import urlsplit

import requests
from opentelemetry import propagate
from opentelemetry.instrumentation.utils import suppress_http_instrumentation

from services.notifications.destinations import Destinations, RefusedDestination, allowed_networks

logger = logging.getLogger("klaxon.notifications.log_channel")
SIGNATURE_HEADER = "X-Klaxon-Signature"


class DeliveryFailed(Exception):
    """The receiver answered, but not with success."""


@dataclass(frozen=True)
class Page:
    """A ledger row with what a person needs to act on it: the incident as it stands now
    (severity, service, assignee; None when unknown), its address and the acknowledge link."""

    row: object
    ack_url: str | None
    incident: dict | None = None
    incident_url: str | None = None

    @property
    def facts(self):
        """ "Severity: critical · Service: checkout-api · Assignee: Alice", or ""."""
        if not self.incident:
            return ""
        incident = self.incident
        facts = [("Severity", incident.get("severity")), ("Service", incident.get("service"))]
        facts.append(("Assignee", incident.get("assignee") or "nobody yet"))
        return " · ".join(f"{name}: {value}" for name, value in facts if value)

    @property
    def text(self):
        lines = [self.row.subject, self.row.message, self.facts]
        if self.incident_url:
            lines.append(f"Incident: {self.incident_url}")
        if self.ack_url:
            lines.append(f"Acknowledge: {self.ack_url}")
        return "\n".join(line for line in lines if line)

    def payload(self):
        row = self.row
        return {
            "incident_id": row.incident_id,
            "step": row.step,
            "recipient": row.recipient,
            "subject": row.subject,
            "message": row.message,
            "incident": self.incident,
            "incident_url": self.incident_url,
            "acknowledge_url": self.ack_url,
        }


class LogChannel:
    """Writes the page to the process log: for development and first tries."""

    name = "log"

    def send(self, page):
        # One readable line in the platform's output; the whole page as a field of it.
        fields = {"page": page.payload()}
        logger.warning("page for %s: %s", page.row.recipient, page.row.subject, extra={"fields": fields})


class WebhookChannel:
    """POSTs the page as JSON, signed: X-Klaxon-Signature: sha256=HMAC(secret, body)."""

    name = "webhook"

    def __init__(self, timeout=5.0, default_secret="", destinations=None):
        self.timeout = timeout
        self.default_secret = default_secret
        self.destinations = destinations or Destinations()

    def send(self, page):
        body = json.dumps(page.payload(), sort_keys=True).encode()
        headers = {"Content-Type": "application/json"}
        secret = page.row.secret or self.default_secret
        if secret:
            headers[SIGNATURE_HEADER] = "sha256=" + sign(secret, body)
        post(page.row.address, body, headers, self.timeout, self.destinations)


class SlackChannel:
    """A Slack-compatible incoming webhook: a readable message with the acknowledge link."""

    name = "slack"

    def __init__(self, timeout=5.0, destinations=None):
        self.timeout = timeout
        self.destinations = destinations or Destinations()

    def send(self, page):
        body = json.dumps({"text": slack_text(page)}).encode()
        post(page.row.address, body, {"Content-Type": "application/json"}, self.timeout, self.destinations)


def slack_text(page):
    """The page in Slack's mrkdwn: what came from the alert as plain text, Klaxon's links as links."""
    row = page.row
    subject, message, facts = (slack_escaped(text) for text in (row.subject, row.message, page.facts))
    lines = [f"*{subject}*" if subject else "", message, facts, " · ".join(slack_links(page))]
    return "\n".join(line for line in lines if line)


def slack_links(page):
    row = page.row
    links = [f"<{page.incident_url}|Incident #{row.incident_id}>"] if page.incident_url else []
    if page.ack_url:
        links.append(f"<{page.ack_url}|Acknowledge as {slack_escaped(row.recipient)}>")
    return links


def slack_escaped(text):
    """`text` as Slack shows it literally: &, < and > escaped, as Slack documents
    (https://api.slack.com/reference/surfaces/formatting#escaping). Whoever holds an
    integration key writes an alert's text; escaped, it cannot mention @channel or
    show a link of its own, such as a forged Acknowledge."""
    return (text or "").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


class EmailChannel:
    """SMTP, with a plain-text and an HTML part; STARTTLS and login when configured."""

    name = "email"

    def __init__(
        self, host, port=25, sender="klaxon@localhost", starttls=False, username=None, password=None
    ):
        self.host, self.port, self.sender = host, port, sender
        self.starttls, self.username, self.password = starttls, username, password

    def send(self, page):
        if not self.host:
            raise DeliveryFailed("no SMTP server is configured (KLAXON_SMTP_HOST)")
        smtp = smtplib.SMTP(self.host, self.port, timeout=10)
        try:
            if self.starttls:
                smtp.starttls()
            if self.username:
                smtp.login(self.username, self.password or "")
            smtp.send_message(self.message(page))
        except BaseException:
            # No QUIT: a send cut off by its deadline must not wait on the server again.
            smtp.close()
            raise
        smtp.quit()

    def message(self, page):
        row = page.row
        message = EmailMessage()
        message["Subject"] = row.subject or "Klaxon"
        message["From"] = self.sender
        message["To"] = row.address or row.recipient
        message.set_content(page.text)
        message.add_alternative(html_of(page), subtype="html")
        return message


def html_of(page):
    row = page.row
    parts = [f"<h2>{escape(row.subject)}</h2>", f"<p>{escape(row.message)}</p>"]
    if page.facts:
        parts.append(f"<p>{escape(page.facts)}</p>")
    if page.incident_url:
        parts.append(f'<p><a href="{escape(page.incident_url)}">Incident #{row.incident_id}</a></p>')
    if page.ack_url:
        parts.append(f'<p><a href="{escape(page.ack_url)}">Acknowledge</a></p>')
    return f"<html><body>{''.join(parts)}</body></html>"


def sign(secret, body):
    return hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def post(url, body, headers, timeout, destinations):
    """POST `body` to `url`, if `destinations` (services.notifications.destinations) let it go there."""
    if not url:
        raise DeliveryFailed("no address to send to")
    # The ledger and traces name the host only: a webhook's path can be its credential.
    # The send's own span (notifications.send) stands for the request, whose span would
    # record the whole URL; the trace still travels on, in `traceparent`.
    host = urlsplit(url).netloc.rpartition("@")[2]
    propagate.inject(headers)
    try:
        with suppress_http_instrumentation(), destinations.session(url) as session:
            answer = session.post(url, data=body, headers=headers, timeout=timeout)
    except RefusedDestination as error:
        raise DeliveryFailed(f"{host}: refused, {error}") from None
    except requests.RequestException as error:  # its text holds the whole URL
        raise DeliveryFailed(f"{host}: {type(error).__name__}") from None
    if answer.status_code >= 300:
        raise DeliveryFailed(f"{host} answered {answer.status_code}")


def channels_from(config):
    """Every channel, configured from the service's config (KLAXON_SMTP_*, KLAXON_WEBHOOK_*)."""
    timeout = float(config.get("WEBHOOK_TIMEOUT_SECONDS", 5.0))
    destinations = Destinations(allowed_networks(config.get("WEBHOOK_ALLOWED_NETWORKS")))
    email = EmailChannel(
        host=config.get("SMTP_HOST"),
        port=int(config.get("SMTP_PORT", 25)),
        sender=config.get("SMTP_FROM") or "klaxon@localhost",
        starttls=bool(config.get("SMTP_STARTTLS")),
        username=config.get("SMTP_USERNAME"),
        password=config.get("SMTP_PASSWORD"),
    )
    found = (
        LogChannel(),
        WebhookChannel(timeout, config.get("WEBHOOK_SECRET") or "", destinations),
        SlackChannel(timeout, destinations),
        email,
    )
    return {channel.name: channel for channel in found}
