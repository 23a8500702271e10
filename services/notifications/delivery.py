"""Sending through the ledger: claim, try, record; failed tries come back with backoff.

A request is claimed once (keyed by incident, step, recipient and channel), so a
redelivered request never pages twice; every try, first or retry, holds its delivery on
a lease and ends before the lease does. Every try is written down with its error and
latency; a failed one is retried after an exponential, jittered pause, and after the
last try the delivery is marked failed.
"""

import datetime as dt
import logging
import time

import eventlet
from opentelemetry.trace import SpanKind, Status, StatusCode

from services.notifications import metrics
from services.notifications.channels import Page
from services.notifications.contracts import is_ad_hoc
from services.notifications.noise import RateLimit, summary_of
from services.notifications.store import notification_dict
from services.shared.tracing import continuing

logger = logging.getLogger("klaxon.notifications")

NOT_NEEDED = "not sent: the incident was acknowledged or resolved first"
# A claimed page is taken over by the retry loop once its lease runs out, so a send must
# end well inside it: the channels' own timeouts bound each read or write, not the whole
# send, and a peer answering a byte at a time would otherwise outlast the lease and be
# paged twice.
CLAIM_LEASE_SECONDS = 60
SEND_DEADLINE_SECONDS = CLAIM_LEASE_SECONDS / 2


class SendDeadlineExceeded(Exception):
    pass


class Delivery:
    def __init__(
        self,
        store,
        channels,
        retry_policy,
        ack_links,
        still_needed=None,
        rate_limit=None,
        describe=None,
        send_deadline_seconds=SEND_DEADLINE_SECONDS,
    ):
        self.store = store
        self.channels = channels
        self.retry_policy = retry_policy
        self.ack_links = ack_links
        # Whether a delayed page still has a reason to go (its incident unacknowledged).
        self.still_needed = still_needed or (lambda row: True)
        self.rate_limit = rate_limit or RateLimit()
        # The incident as it stands now, for the page's facts; None when it cannot be told.
        self.describe = describe or (lambda incident_id: None)
        self.send_deadline_seconds = send_deadline_seconds

    def deliver(self, request, now):
        """First try of `request` unless the ledger holds it already: (entry, created).

        A request with `delay_minutes` is only scheduled: the retry loop sends it then,
        unless its incident was acknowledged meanwhile."""
        delay = request.get("delay_minutes") or 0
        if delay:
            row, created = self.store.claim(request, now, lease_seconds=delay * 60, status="scheduled")
            return notification_dict(row), created
        row, created = self.store.claim(request, now, lease_seconds=CLAIM_LEASE_SECONDS)
        if not created:
            return notification_dict(row), False
        if self._over_limit(row, now):
            return notification_dict(self.store.hold(row, now + self._window)), True
        return notification_dict(self.attempt(row, now, request.get("incident"))), True

    @property
    def _window(self):
        return dt.timedelta(seconds=self.rate_limit.window_seconds)

    def _over_limit(self, row, now):
        if row.incident_id is None or row.channel == "log":
            return False
        return self.store.sends_since(row.channel, row.address, now - self._window) >= self.rate_limit.limit

    def attempt(self, row, now, facts=None):
        """One try of a claimed row; returns the row as the ledger now has it. `facts`: the
        incident as the request told it; without them (a retry, a delayed page) it is asked."""
        error, latency_ms = self._send(self._page(row, now, facts))
        retry_at = self.retry_policy.next_attempt(row.attempts + 1, now) if error else None
        row = self.store.record_attempt(row, error, latency_ms, now, retry_at)
        metrics.count_attempt(row)
        return row

    def retry_due(self, now, announce):
        """Try every delivery that is due again; `announce(entry)` each settled one.

        Each is leased first, as a first send is. A try that fails in a way the ledger
        cannot record (the ledger itself down, say) leaves its delivery to come due again
        when the lease ends, and costs the others nothing. No send starts so late that it
        could outlast the lease: the rest wait for the next tick."""
        due = self.store.lease_due(now, CLAIM_LEASE_SECONDS)
        leased_at = time.monotonic()
        settled = []
        for row in due:
            if row.status != "held" and self._inside_lease(leased_at):
                settled += guarded(self._retry, [row], now)
        for rows in held_by_contact_method(due).values():
            if self._inside_lease(leased_at):
                settled += guarded(self._send_held, rows, now)
        for row in settled:
            if row.status in ("sent", "failed"):
                announce(notification_dict(row))
        return len(settled)

    def _inside_lease(self, leased_at):
        """Whether a send started now ends (by its deadline) before the lease does."""
        return time.monotonic() - leased_at <= CLAIM_LEASE_SECONDS - self.send_deadline_seconds

    def _send_held(self, rows, now):
        """Everything held for one contact method goes out as one summary; a summary that
        fails stays one, held until its retry (never split into the pages it holds). Pages
        whose incident was acknowledged meanwhile are left out, and cancelled."""
        cancelled = [self.store.cancel(row, NOT_NEEDED) for row in rows if self._no_longer_needed(row)]
        rows = [row for row in rows if row.id not in {gone.id for gone in cancelled}]
        if not rows:
            return cancelled
        error, latency_ms = self._send(Page(summary_of(rows), None))
        tries = max(row.attempts for row in rows) + 1
        retry_at = self.retry_policy.next_attempt(tries, now) if error else None  # one time for all
        settled = cancelled
        for row in rows:
            settled.append(self.store.record_attempt(row, error, latency_ms, now, retry_at, waiting="held"))
            metrics.count_attempt(settled[-1])
        return settled

    def _retry(self, rows, now):
        [row] = rows
        return [self._retry_one(row, now)]

    def _retry_one(self, row, now):
        if self._no_longer_needed(row):
            return self.store.cancel(row, NOT_NEEDED)
        return self.attempt(row, now)

    def _no_longer_needed(self, row):
        """A delayed page, or an escalation's page still to be (re)tried, whose incident
        was acknowledged or resolved meanwhile: nobody needs waking any more."""
        if row.status != "scheduled" and (row.incident_id is None or is_ad_hoc(row.key)):
            return False  # a message asked for by hand goes as asked
        return not self.still_needed(row)

    def _send(self, page):
        """(error or None, latency in ms) of one send."""
        started = time.perf_counter()
        error = None
        name = f"notifications.send {page.row.channel}"
        with continuing(None, name, SpanKind.CLIENT, **sent(page)) as span:
            try:
                with eventlet.Timeout(self.send_deadline_seconds, self._deadline_exceeded()):
                    self.channels[page.row.channel].send(page)
            except Exception as exc:  # a channel may fail in any way; the ledger records how
                error = f"{type(exc).__name__}: {exc}"
                span.set_status(Status(StatusCode.ERROR, error))
        return error, round((time.perf_counter() - started) * 1000, 3)

    def _deadline_exceeded(self):
        return SendDeadlineExceeded(f"the send took longer than {self.send_deadline_seconds:g} s")

    def _page(self, row, now, facts=None):
        if row.incident_id is None or row.channel == "log":
            return Page(row, None)
        linked = row.channel != "webhook" and not is_ad_hoc(row.key)
        ack_url = self.ack_links.url(row.incident_id, row.recipient, now) if linked else None
        incident_url = f"{self.ack_links.base_url}/api/v1/incidents/{row.incident_id}"
        return Page(row, ack_url, facts or self.describe(row.incident_id), incident_url)


def guarded(tries, rows, now):
    """What `tries(rows, now)` settled; nothing when it failed in a way the ledger could
    not record."""
    try:
        return tries(rows, now)
    except Exception:  # one delivery's trouble must not stop the others' tries
        logger.exception("retrying deliveries %s failed; due again when the lease ends", [r.id for r in rows])
        return []


def held_by_contact_method(rows):
    groups = {}
    for row in rows:
        if row.status == "held":
            groups.setdefault((row.channel, row.address), []).append(row)
    return groups


def sent(page):
    """What a page's span says of it (its recipient's address stays out of traces)."""
    row = page.row  # a held-back summary's row is not in the ledger: it has no id of its own
    return {name: getattr(row, field, None) for name, field in SPAN_FIELDS}


SPAN_FIELDS = (("incident_id", "incident_id"), ("channel", "channel"), ("notification_id", "id"))
