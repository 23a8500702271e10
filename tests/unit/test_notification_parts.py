"""Acknowledge links, the retry schedule and the channels' messages, without a network."""

import datetime as dt
import hashlib
import hmac
import random
from types import SimpleNamespace

import pytest

from services.notifications.acklinks import AckLinks
from services.notifications.channels import EmailChannel, Page, sign
from services.notifications.requests import parse_notify
from services.notifications.retry import RetryPolicy
from services.shared.errors import Forbidden, ValidationFailed

NOW = dt.datetime(2026, 11, 25, 12, tzinfo=dt.UTC)
LINKS = AckLinks("k" * 32, "https://klaxon.example/")


def token_of(url):
    return url.rsplit("/", 1)[1]


def test_a_link_names_its_incident_and_person_and_verifies():
    url = LINKS.url(42, "alice@example.com", NOW)
    assert url.startswith("https://klaxon.example/api/v1/ack/")
    claims = LINKS.verify(token_of(url), NOW + dt.timedelta(hours=23))
    assert (claims["incident_id"], claims["recipient"]) == (42, "alice@example.com")
    assert token_of(LINKS.url(42, "alice@example.com", NOW)) != token_of(url), "each link is its own"


@pytest.mark.parametrize(
    "forge",
    [
        lambda t: t[:-2] + ("AA" if not t.endswith("AA") else "BB"),
        lambda t: "eyJpbmNpZGVudF9pZCI6MX0" + t[t.index(".") :],
        lambda t: t.split(".")[0],
        lambda t: "not-a-token",
    ],
)
def test_a_forged_link_is_refused(forge):
    token = token_of(LINKS.url(42, "alice@example.com", NOW))
    with pytest.raises(Forbidden):
        LINKS.verify(forge(token), NOW)


def test_a_link_from_another_key_is_refused():
    other = AckLinks("x" * 32, "https://klaxon.example")
    with pytest.raises(Forbidden):
        LINKS.verify(token_of(other.url(42, "alice@example.com", NOW)), NOW)


def test_an_expired_link_is_refused():
    token = token_of(LINKS.url(42, "alice@example.com", NOW))
    with pytest.raises(Forbidden, match="expired"):
        LINKS.verify(token, NOW + dt.timedelta(hours=24, seconds=1))


def test_backoff_doubles_with_jitter_and_gives_up_after_the_last_try():
    policy = RetryPolicy(max_attempts=4, base_seconds=2, cap_seconds=5)
    rng = random.Random(7)
    for attempts, ceiling in ((1, 2), (2, 4), (3, 5), (4, 5)):
        delays = [policy.delay(attempts, rng) for _ in range(200)]
        assert ceiling / 2 <= min(delays) and max(delays) <= ceiling
        assert max(delays) - min(delays) > ceiling / 4, "jittered, not in lockstep"
    assert policy.next_attempt(3, NOW) > NOW
    assert policy.next_attempt(4, NOW) is None


def test_the_email_has_a_plain_and_an_html_part_with_the_link():
    row = SimpleNamespace(
        subject="[HIGH] checkout: 5xx <above> 5%",
        message="Incident #3 needs you.",
        recipient="a@example.com",
        address="a@example.com",
    )
    message = EmailChannel("smtp.example").message(Page(row, "https://klaxon.example/api/v1/ack/t.s"))
    plain = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    assert "Acknowledge: https://klaxon.example/api/v1/ack/t.s" in plain
    assert 'href="https://klaxon.example/api/v1/ack/t.s"' in html and "&lt;above&gt;" in html
    assert message["To"] == "a@example.com"


def test_signatures_are_hmac_sha256_hex():
    expected = hmac.new(b"s3cret", b"{}", hashlib.sha256).hexdigest()
    assert sign("s3cret", b"{}") == expected
    assert sign("other", b"{}") != expected


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"recipient": "a@example.com", "channel": "webhook", "message": "m"}, "address"),
        ({"recipient": "a@example.com", "channel": "slack", "address": "ftp://x", "message": "m"}, "address"),
        ({"recipient": "a@example.com", "channel": "pigeon", "message": "m"}, "channel"),
    ],
)
def test_a_notification_needs_an_address_its_channel_can_use(payload, field):
    with pytest.raises(ValidationFailed) as refused:
        parse_notify(payload)
    assert field in [e["field"] for e in refused.value.errors]


def test_an_email_goes_to_the_recipient_unless_told_otherwise():
    assert (
        parse_notify({"recipient": "a@example.com", "channel": "email", "message": "m"}).address
        == "a@example.com"
    )
