"""Deliveries through the ledger on real SQLite and PostgreSQL, to a real HTTP receiver
on loopback that checks the signature: retries with backoff, one delivery, every attempt."""

import datetime as dt
import hashlib
import hmac
import json
import socketserver
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import SimpleNamespace
from unittest.mock import call

import eventlet
import pytest
from nameko.testing.services import entrypoint_hook, replace_dependencies, worker_factory

from services.notifications.acklinks import AckLinks
from services.notifications.channels import SIGNATURE_HEADER, EmailChannel, Page, channels_from
from services.notifications.delivery import CLAIM_LEASE_SECONDS, SEND_DEADLINE_SECONDS, Delivery
from services.notifications.noise import RateLimit
from services.notifications.requests import parse_notify
from services.notifications.retry import RetryPolicy
from services.notifications.service import NotificationsService
from services.notifications.store import NotificationStore
from services.shared.errors import NotFound
from tests.conftest import LOOPBACK
from tests.hooks import HookHandler, HookServer

T0 = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
SECRET = "endpoint-secret"


class Receiver(HookServer):
    """Answers the statuses of `script` in turn (then 200), recording what it got."""

    def __init__(self, script):
        self.script = list(script)
        super().__init__(Handler)

    @property
    def url(self):
        return f"http://127.0.0.1:{self.server_address[1]}/hook"


class Handler(HookHandler):
    def answer(self, body):
        expected = "sha256=" + hmac.new(SECRET.encode(), body, hashlib.sha256).hexdigest()
        genuine = hmac.compare_digest(self.headers.get(SIGNATURE_HEADER, ""), expected)
        status = self.server.script.pop(0) if self.server.script else 200
        self.server.received.append((json.loads(body), genuine, status))
        return status, []


@pytest.fixture
def receiver():
    server = Receiver([500, 500])
    yield server
    server.shutdown()
    server.server_close()


class DrippingReceiver(ThreadingHTTPServer):
    """Answers 200 but sends its body a byte at a time, each within the client's read
    timeout: only a deadline on the whole send stops it."""

    def __init__(self, body_bytes=40, pause_seconds=0.25):
        self.body_bytes, self.pause_seconds = body_bytes, pause_seconds
        self.dripped = 0
        super().__init__(("127.0.0.1", 0), DrippingHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    url = Receiver.url


class DrippingHandler(BaseHTTPRequestHandler):
    def do_POST(self):
        self.rfile.read(int(self.headers["Content-Length"]))
        self.send_response(200)
        self.send_header("Content-Length", str(self.server.body_bytes))
        self.end_headers()
        for _ in range(self.server.body_bytes):
            time.sleep(self.server.pause_seconds)  # the peer's pace, not a wait on the test
            try:
                self.wfile.write(b".")
                self.wfile.flush()
            except OSError:
                return  # the sender gave up, as it should
            self.server.dripped += 1

    def log_message(self, *args):
        pass


@pytest.fixture
def make_delivery(bound):
    """make_delivery(**options): a Delivery over a real ledger, to the loopback receiver."""
    db = bound("notifications")
    with db.connection_context():

        def make(retry_policy=None, **options):
            policy = retry_policy or RetryPolicy(max_attempts=4, base_seconds=10)
            channels = channels_from({"WEBHOOK_TIMEOUT_SECONDS": 5, "WEBHOOK_ALLOWED_NETWORKS": LOOPBACK})
            return Delivery(
                NotificationStore(db, {}), channels, policy, AckLinks("k" * 32, "http://x"), **options
            )

        yield make


@pytest.fixture
def delivery(make_delivery):
    return make_delivery()


def webhook_page(receiver, **changes):
    payload = {
        "incident_id": 9,
        "step": 0,
        "recipient": "alice@example.com",
        "channel": "webhook",
        "address": receiver.url,
        "secret": SECRET,
        "subject": "[HIGH] checkout: 5xx",
        "message": "Incident #9 needs you (step 0).",
    }
    return parse_notify({**payload, **changes}).model_dump()


def test_500_twice_then_200_is_three_attempts_one_delivery_with_backoff_between(delivery, receiver):
    entry, created = delivery.deliver(webhook_page(receiver), T0)
    assert created and entry["status"] == "retrying"
    announced = []
    now = T0
    for _ in range(2):
        now = dt.datetime.fromisoformat(delivery.store.list({})["items"][0]["next_attempt_at"])
        assert delivery.retry_due(now - dt.timedelta(microseconds=1), announced.append) == 0, (
            "not before its time"
        )
        delivery.retry_due(now, announced.append)

    [row] = delivery.store.list({})["items"]
    assert (row["status"], row["attempts"], row["error"]) == ("sent", 3, None)
    attempts = delivery.store.attempts(row["id"])
    assert [a["status"] for a in attempts] == ["retrying", "retrying", "sent"]
    gaps = [
        (dt.datetime.fromisoformat(b["at"]) - dt.datetime.fromisoformat(a["at"])).total_seconds()
        for a, b in zip(attempts, attempts[1:], strict=False)
    ]
    assert 5 <= gaps[0] <= 10 and 10 <= gaps[1] <= 20, f"exponential backoff with jitter: {gaps}"
    assert [(status, genuine) for _, genuine, status in receiver.received] == [
        (500, True),
        (500, True),
        (200, True),
    ]
    assert receiver.received[0][0]["incident_id"] == 9
    assert [entry["status"] for entry in announced] == ["sent"]


def test_the_same_request_again_pages_once(delivery, receiver):
    receiver.script = []
    delivery.deliver(webhook_page(receiver), T0)
    again, created = delivery.deliver(webhook_page(receiver, message="redelivered"), T0)
    assert not created and again["attempts"] == 1
    assert len(receiver.received) == 1


def test_after_the_last_try_the_delivery_is_failed_and_announced(delivery, receiver):
    receiver.script = [500] * 10
    delivery.deliver(webhook_page(receiver), T0)
    announced = []
    for _ in range(3):
        due = dt.datetime.fromisoformat(delivery.store.list({})["items"][0]["next_attempt_at"])
        delivery.retry_due(due, announced.append)
    [row] = delivery.store.list({})["items"]
    assert (row["status"], row["attempts"], row["next_attempt_at"]) == ("failed", 4, None)
    assert "answered 500" in row["error"]
    assert [entry["status"] for entry in announced] == ["failed"]
    assert delivery.retry_due(T0 + dt.timedelta(days=1), announced.append) == 0


def test_a_delivery_whose_sender_died_is_taken_over_after_its_lease(delivery, receiver):
    receiver.script = []
    row, created = delivery.store.claim(webhook_page(receiver), T0)  # claimed, never tried
    assert created and row.status == "pending"
    assert delivery.retry_due(T0 + dt.timedelta(seconds=59), lambda entry: None) == 0
    assert delivery.retry_due(T0 + dt.timedelta(seconds=60), lambda entry: None) == 1
    assert delivery.store.list({})["items"][0]["status"] == "sent" and len(receiver.received) == 1


def test_a_slack_page_is_readable_and_carries_the_acknowledge_link(make_delivery, receiver):
    receiver.script = []
    incident = {"id": 9, "severity": "high", "service": "checkout", "assignee": "Alice", "title": "5xx"}
    delivery = make_delivery(describe=lambda incident_id: incident if incident_id == 9 else None)
    delivery.deliver(webhook_page(receiver, channel="slack", secret=None), T0)
    [(body, _, status)] = receiver.received
    assert status == 200
    lines = body["text"].splitlines()
    assert lines[:3] == [
        "*[HIGH] checkout: 5xx*",
        "Incident #9 needs you (step 0).",
        "Severity: high · Service: checkout · Assignee: Alice",
    ]
    assert lines[3].startswith("<http://x/api/v1/incidents/9|Incident #9> · <http://x/api/v1/ack/")
    assert lines[3].endswith("|Acknowledge as alice@example.com>")


def test_a_slack_page_shows_an_alerts_text_as_text_and_only_klaxons_links_as_links(make_delivery, receiver):
    receiver.script = []
    forged = "<!channel> <https://evil.example|Acknowledge> & more"
    escaped = "&lt;!channel&gt; &lt;https://evil.example|Acknowledge&gt; &amp; more"
    incident = {"id": 9, "severity": "high", "service": "<!here>", "assignee": "A & B", "title": "5xx"}
    delivery = make_delivery(describe=lambda incident_id: incident)
    page = webhook_page(receiver, channel="slack", secret=None, subject=f"[HIGH] {forged}", message=forged)
    delivery.deliver(page, T0)
    [(body, _, status)] = receiver.received
    assert status == 200
    lines = body["text"].splitlines()
    assert lines[:3] == [
        f"*[HIGH] {escaped}*",
        escaped,
        "Severity: high · Service: &lt;!here&gt; · Assignee: A &amp; B",
    ]
    assert lines[3].startswith("<http://x/api/v1/incidents/9|Incident #9> · <http://x/api/v1/ack/")
    assert lines[3].endswith("|Acknowledge as alice@example.com>")
    assert body["text"].count("<") == 2, "a link or mention other than Klaxon's two links"


def test_a_page_goes_out_without_its_facts_when_the_incident_cannot_be_described(make_delivery, receiver):
    receiver.script = []
    make_delivery(describe=lambda incident_id: None).deliver(
        webhook_page(receiver, channel="slack", secret=None), T0
    )
    [(body, _, status)] = receiver.received
    assert status == 200 and "Severity" not in body["text"] and "Acknowledge as" in body["text"]


def test_a_page_carrying_its_facts_is_sent_without_asking_and_a_retry_asks(make_delivery, receiver):
    receiver.script = [500]
    asked = []
    now_facts = {"id": 9, "severity": "high", "service": "checkout", "assignee": "Bob", "title": "5xx"}
    delivery = make_delivery(describe=lambda incident_id: asked.append(incident_id) or now_facts)
    facts = {**now_facts, "assignee": "Alice", "status": "open"}
    delivery.deliver(webhook_page(receiver, incident=facts), T0)
    assert asked == [], "the request told the incident's facts"
    assert receiver.received[0][0]["incident"] == facts
    due = dt.datetime.fromisoformat(delivery.store.list({})["items"][0]["next_attempt_at"])
    delivery.retry_due(due, lambda entry: None)
    assert asked == [9], "a retry tells the incident as it is then"
    assert receiver.received[1][0]["incident"]["assignee"] == "Bob"


@pytest.mark.parametrize(("still_open", "outcome", "sent"), [(True, "sent", 1), (False, "cancelled", 0)])
def test_a_delayed_page_goes_later_only_if_the_incident_still_needs_it(
    make_delivery, receiver, still_open, outcome, sent
):
    receiver.script = []
    asked = []

    def still_needed(row):
        asked.append(row.incident_id)
        return still_open

    delivery = make_delivery(still_needed=still_needed)
    store = delivery.store
    entry, created = delivery.deliver(webhook_page(receiver, delay_minutes=2), T0)
    assert created and entry["status"] == "scheduled" and receiver.received == []
    assert delivery.retry_due(T0 + dt.timedelta(seconds=119), lambda entry: None) == 0
    delivery.retry_due(T0 + dt.timedelta(minutes=2), lambda entry: None)
    assert asked == [9]
    assert store.list({})["items"][0]["status"] == outcome
    assert len(receiver.received) == sent


def test_beyond_the_rate_limit_pages_are_held_then_sent_as_one_summary(make_delivery, receiver):
    receiver.script = []
    delivery = make_delivery(rate_limit=RateLimit(2, 60))
    store = delivery.store
    entries = [delivery.deliver(webhook_page(receiver, incident_id=n), T0)[0] for n in range(1, 6)]
    assert [e["status"] for e in entries] == ["sent", "sent", "held", "held", "held"]
    assert len(receiver.received) == 2

    announced = []
    assert delivery.retry_due(T0 + dt.timedelta(seconds=59), announced.append) == 0
    delivery.retry_due(T0 + dt.timedelta(seconds=60), announced.append)
    assert len(receiver.received) == 3, "three held pages, one summary"
    summary = receiver.received[-1][0]
    assert summary["subject"] == "3 pages held back while you were paged often"
    assert [line.split("(")[1] for line in summary["message"].splitlines()] == [
        f"incident #{n}, step 0)" for n in (3, 4, 5)
    ]
    assert sorted(e["incident_id"] for e in announced) == [3, 4, 5]
    assert {item["status"] for item in store.list({})["items"]} == {"sent"}


def test_another_contact_method_has_its_own_limit(make_delivery, receiver):
    receiver.script = []
    delivery = make_delivery(rate_limit=RateLimit(1, 60))
    first, _ = delivery.deliver(webhook_page(receiver, incident_id=1), T0)
    other, _ = delivery.deliver(webhook_page(receiver, incident_id=2, address=receiver.url + "?b"), T0)
    assert (first["status"], other["status"]) == ("sent", "sent")


def started_service(service_config, container_factory, incident_id, severity):
    """The notifications service running, its incidents service a stand-in that describes
    one open incident."""
    container = container_factory(NotificationsService, service_config)
    incidents = replace_dependencies(container, "incidents")
    summary = {"id": incident_id, "severity": severity, "service": "s", "status": "open"}
    incidents.incident_summary.return_value = summary
    container.start()
    return container, incidents


def test_the_service_pages_from_the_requests_facts_without_asking_incidents(
    service_config, container_factory, receiver
):
    receiver.script = []
    container, incidents = started_service(service_config, container_factory, 10, "low")
    facts = {"id": 9, "title": "5xx", "service": "checkout", "severity": "high", "status": "open"}
    page = webhook_page(receiver, channel="slack", secret=None, incident={**facts, "assignee": "Alice"})
    with entrypoint_hook(container, "on_notification_requested") as requested:
        requested(page)
        assert incidents.mock_calls == [], "the page told its incident"
        requested({**page, "incident_id": 10, "incident": None})  # e.g. POST /api/v1/notify
    assert [line for body, _, _ in receiver.received for line in body["text"].splitlines()[2:3]] == [
        "Severity: high · Service: checkout · Assignee: Alice",
        "Severity: low · Service: s · Assignee: nobody yet",
    ]
    assert incidents.mock_calls == [call.incident_summary(10)], "asked once, and not for the timeline"


def test_a_send_that_outlasts_its_deadline_is_a_failed_try_retried_later_not_a_second_page(
    make_delivery,
):
    slow = DrippingReceiver()
    try:
        delivery = make_delivery(send_deadline_seconds=1)
        entry, created = delivery.deliver(webhook_page(slow), T0)
        assert created and entry["status"] == "retrying", entry
        assert entry["error"] == "SendDeadlineExceeded: the send took longer than 1 s"
        assert slow.dripped < slow.body_bytes, "the send was cut off, not waited out"
        next_try = dt.datetime.fromisoformat(entry["next_attempt_at"])
        assert next_try > T0, "the retry loop tries again after backoff, as for any failure"
    finally:
        slow.shutdown()
        slow.server_close()


def test_the_first_send_must_end_well_inside_the_lease_that_guards_it():
    assert SEND_DEADLINE_SECONDS <= CLAIM_LEASE_SECONDS / 2


def delivered_once_then_failing_try(make_delivery, receiver):
    """A retrying page to incident 1, and a delayed page to incident 2 whose check fails."""

    def still_needed(row):
        if row.incident_id == 2:
            raise RuntimeError("the incidents service is down")
        return True

    delivery = make_delivery(still_needed=still_needed)
    receiver.script = [500]
    delivery.deliver(webhook_page(receiver, incident_id=1), T0)
    delivery.deliver(webhook_page(receiver, incident_id=2, delay_minutes=1), T0)
    return delivery


def test_a_try_that_fails_unrecorded_costs_the_other_deliveries_nothing(make_delivery, receiver):
    delivery = delivered_once_then_failing_try(make_delivery, receiver)
    announced = []
    assert delivery.retry_due(T0 + dt.timedelta(minutes=2), announced.append) == 1
    by_incident = {row["incident_id"]: row for row in delivery.store.list({})["items"]}
    assert (by_incident[1]["status"], by_incident[1]["attempts"]) == ("sent", 2)
    assert [entry["incident_id"] for entry in announced] == [1]
    assert by_incident[2]["status"] == "scheduled", "left for after its lease"
    for minutes in (2, 3, 5):  # the failing one again, and again: incident 1 is not paged again
        delivery.retry_due(T0 + dt.timedelta(minutes=minutes), announced.append)
    assert [status for _, _, status in receiver.received] == [500, 200]


def test_no_retry_starts_so_late_that_it_could_outlast_its_lease(make_delivery):
    slow = DrippingReceiver(body_bytes=3, pause_seconds=0.25)  # each send takes 0.75 s
    try:
        # A deadline 0.6 s short of the lease: only a send started in the first 0.6 s may go.
        delivery = make_delivery(send_deadline_seconds=CLAIM_LEASE_SECONDS - 0.6)
        for incident_id in (1, 2):
            delivery.store.claim(webhook_page(slow, incident_id=incident_id), T0)  # never tried
        assert delivery.retry_due(T0 + dt.timedelta(seconds=60), lambda entry: None) == 1
        rows = sorted(delivery.store.list({})["items"], key=lambda row: row["attempts"])
        assert [(row["status"], row["attempts"]) for row in rows] == [("pending", 0), ("sent", 1)]
        assert delivery.retry_due(T0 + dt.timedelta(seconds=119), lambda entry: None) == 0, "leased"
        assert delivery.retry_due(T0 + dt.timedelta(seconds=120), lambda entry: None) == 1
    finally:
        slow.shutdown()
        slow.server_close()


def test_a_new_page_goes_out_while_a_slow_retry_is_still_sending(make_delivery, receiver):
    slow = DrippingReceiver(body_bytes=12, pause_seconds=0.25)
    try:
        delivery = make_delivery()
        delivery.store.claim(webhook_page(slow, incident_id=1), T0)  # its sender died
        retrying = eventlet.spawn(delivery.retry_due, T0 + dt.timedelta(seconds=60), lambda entry: None)
        deadline = time.monotonic() + 10
        while slow.dripped == 0:
            assert time.monotonic() < deadline, "the retry never reached the slow peer"
            eventlet.sleep(0.01)
        receiver.script = []
        entry, created = delivery.deliver(
            webhook_page(receiver, incident_id=2), T0 + dt.timedelta(seconds=60)
        )
        assert created and entry["status"] == "sent"
        assert slow.dripped < slow.body_bytes, "the new page did not wait for the retry to finish"
        assert retrying.wait() == 1
    finally:
        slow.shutdown()
        slow.server_close()


class Incidents:
    """The incidents service as the retry loop asks it: `answer(incident_id)` answers."""

    def __init__(self, answer):
        self.incident_summary = answer


def unreachable(incident_id):
    raise RuntimeError("RemoteError: the incidents database is down")


def wedged(incident_id):
    eventlet.sleep(3600)


def gone(incident_id):
    raise NotFound("incident", incident_id)


@pytest.mark.parametrize(
    ("answer", "goes"),
    [
        (lambda incident_id: {"status": "open"}, True),
        (lambda incident_id: {"status": "acknowledged"}, False),
        (gone, False),
        (unreachable, True),
        (wedged, True),
    ],
    ids=["open", "acknowledged", "gone", "unreachable", "wedged"],
)
def test_a_delayed_page_goes_unless_its_incident_is_known_to_need_nobody(answer, goes):
    service = worker_factory(NotificationsService, incidents=Incidents(answer))
    waiting = eventlet.spawn(service._still_open, type("Row", (), {"incident_id": 7})())
    with eventlet.Timeout(10):
        assert waiting.wait() is goes


class StallingSmtpPeer(socketserver.ThreadingTCPServer):
    """An SMTP server that takes a message and then never answers it; records commands."""

    daemon_threads = True

    def __init__(self):
        self.commands = []
        self.closed = threading.Event()
        super().__init__(("127.0.0.1", 0), StallingSmtpHandler)
        threading.Thread(target=self.serve_forever, daemon=True).start()


class StallingSmtpHandler(socketserver.StreamRequestHandler):
    ANSWERS = {b"EHLO": b"250-peer\r\n250 OK\r\n", b"MAIL": b"250 OK\r\n", b"RCPT": b"250 OK\r\n"}

    def handle(self):
        self.wfile.write(b"220 peer ESMTP\r\n")
        in_data = False
        for line in iter(self.rfile.readline, b""):
            if in_data:
                in_data = line != b".\r\n"  # the message's end: answered never
                continue
            verb = line[:4].upper()
            self.server.commands.append(verb.decode())
            if verb == b"DATA":
                self.wfile.write(b"354 go ahead\r\n")
                in_data = True
            elif verb in self.ANSWERS:
                self.wfile.write(self.ANSWERS[verb])
        self.server.closed.set()


def test_an_email_cut_off_by_its_deadline_hangs_up_without_waiting_on_the_server_again():
    peer = StallingSmtpPeer()
    try:
        channel = EmailChannel("127.0.0.1", peer.server_address[1])
        delivery = Delivery(None, {"email": channel}, None, None, send_deadline_seconds=1)
        row = SimpleNamespace(
            channel="email", subject="s", message="m", recipient="a@example.com", address="a@example.com"
        )
        error, _ = delivery._send(Page(row, None))
        assert error == "SendDeadlineExceeded: the send took longer than 1 s"
        assert peer.closed.wait(5), "the connection was closed"
        assert peer.commands == ["EHLO", "MAIL", "RCPT", "DATA"], "no QUIT after the cut-off"
    finally:
        peer.shutdown()
        peer.server_close()


def test_the_ledger_names_a_failing_webhooks_host_but_not_its_path_which_can_be_its_secret(
    delivery, receiver
):
    receiver.script = [500]
    entry, _ = delivery.deliver(webhook_page(receiver, address=receiver.url + "/T0/B0/s3cr3t"), T0)
    host = receiver.url.split("/")[2]
    assert entry["error"] == f"DeliveryFailed: {host} answered 500"
    closed = "http://127.0.0.1:1/T0/B0/s3cr3t"  # nobody listens on port 1
    entry, _ = delivery.deliver(webhook_page(receiver, address=closed, incident_id=10), T0)
    assert entry["error"] == "DeliveryFailed: 127.0.0.1:1: ConnectionError"


def test_a_message_asked_for_by_hand_carries_no_ack_link_and_leaves_the_escalations_page_alone(
    service_config, container_factory, receiver
):
    receiver.script = []
    container, _ = started_service(service_config, container_factory, 9, "high")
    page = webhook_page(receiver, channel="slack", secret=None)  # incident 9, step 0, alice
    with entrypoint_hook(container, "notify") as notify:
        by_hand = notify({**page, "message": "written by someone"})
    with entrypoint_hook(container, "on_notification_requested") as requested:
        requested(page)
    texts = [body["text"] for body, _, _ in receiver.received]
    assert len(texts) == 2, "the escalation's page went out although a hand-written one came first"
    assert "written by someone" in texts[0] and "Acknowledge as" not in texts[0]
    assert "Acknowledge as alice@example.com" in texts[1]
    assert by_hand["key"].startswith("adhoc:")


def test_a_summary_that_fails_is_retried_as_one_summary_not_as_the_pages_it_holds(make_delivery, receiver):
    receiver.script = [200, 200, 500]  # the two pages within the limit, then the summary fails
    delivery = make_delivery(rate_limit=RateLimit(2, 60))
    for n in range(1, 6):
        delivery.deliver(webhook_page(receiver, incident_id=n), T0)
    delivery.retry_due(T0 + dt.timedelta(seconds=60), lambda entry: None)
    held = [item for item in delivery.store.list({})["items"] if item["status"] != "sent"]
    assert [(item["status"], item["attempts"]) for item in held] == [("held", 1)] * 3
    [due] = {dt.datetime.fromisoformat(item["next_attempt_at"]) for item in held}  # one time for all
    announced = []
    delivery.retry_due(due, announced.append)
    subjects = [body["subject"] for body, _, _ in receiver.received[2:]]
    assert subjects == ["3 pages held back while you were paged often"] * 2, subjects
    assert sorted(entry["incident_id"] for entry in announced) == [3, 4, 5]


def test_a_failed_page_is_not_retried_once_its_incident_needs_nobody(make_delivery, receiver):
    receiver.script = [500, 500]
    open_incidents = {1, 2}
    delivery = make_delivery(still_needed=lambda row: row.incident_id in open_incidents)
    delivery.deliver(webhook_page(receiver, incident_id=1), T0)
    delivery.deliver(webhook_page(receiver, incident_id=2), T0)
    open_incidents.discard(1)  # acknowledged meanwhile
    delivery.retry_due(T0 + dt.timedelta(minutes=1), lambda entry: None)
    by_incident = {row["incident_id"]: row for row in delivery.store.list({})["items"]}
    assert by_incident[1]["status"] == "cancelled" and "acknowledged" in by_incident[1]["error"]
    assert by_incident[2]["status"] == "sent"
    assert [body["incident_id"] for body, _, _ in receiver.received] == [1, 2, 2]


def test_a_held_page_whose_incident_needs_nobody_is_left_out_of_the_summary(make_delivery, receiver):
    receiver.script = []
    open_incidents = {1, 2, 3, 4}
    delivery = make_delivery(
        rate_limit=RateLimit(1, 60), still_needed=lambda r: r.incident_id in open_incidents
    )
    for n in range(1, 5):
        delivery.deliver(webhook_page(receiver, incident_id=n), T0)  # 1 sent, 2-4 held
    open_incidents.discard(3)
    delivery.retry_due(T0 + dt.timedelta(seconds=60), lambda entry: None)
    summary = receiver.received[-1][0]
    assert summary["subject"] == "2 pages held back while you were paged often"
    statuses = {row["incident_id"]: row["status"] for row in delivery.store.list({})["items"]}
    assert statuses == {1: "sent", 2: "sent", 3: "cancelled", 4: "sent"}
