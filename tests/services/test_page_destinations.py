"""Webhook and Slack pages go to public addresses and to the networks an operator allows,
checked as each connection is made: real HTTP receivers on loopback addresses."""

from types import SimpleNamespace

import pytest

from services.notifications.channels import DeliveryFailed, Page, SlackChannel, WebhookChannel, channels_from
from services.notifications.destinations import Destinations, RefusedDestination, allowed_networks
from services.shared.config import networks
from tests.hooks import HookHandler, HookServer


class Receiver(HookServer):
    """Records each POST's path; answers 200, or a redirect to `redirect_to`."""

    def __init__(self, host="127.0.0.1", redirect_to=None):
        self.redirect_to = redirect_to
        super().__init__(Handler, host)

    def url(self, host=None):
        return f"http://{host or self.server_address[0]}:{self.server_address[1]}/hook"


class Handler(HookHandler):
    def answer(self, body):
        self.server.received.append(self.path)
        if self.server.redirect_to:
            return 307, [("Location", self.server.redirect_to)]
        return 200, []


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.shutdown()


def page_to(address):
    row = SimpleNamespace(
        address=address,
        secret=None,
        recipient="alice",
        subject="checkout down",
        message="5xx",
        incident_id=3,
        step=0,
    )
    return Page(row, ack_url=None)


def allowing(*cidrs):
    return Destinations(allowed_networks(cidrs))


@pytest.mark.parametrize(
    "address",
    ["127.0.0.1", "10.1.2.3", "172.16.0.9", "192.168.1.1", "169.254.169.254", "0.0.0.0", "::1", "fd00::1"]
    + ["::ffff:127.0.0.1", "fe80::1%eth0", "100.64.0.1"],
)
def test_private_loopback_link_local_and_shared_addresses_are_refused(address):
    with pytest.raises(RefusedDestination, match="not a public address"):
        Destinations().check(address)


def test_public_addresses_and_allowed_networks_are_let_through():
    Destinations().check("93.184.216.34")
    Destinations().check("2606:4700::1111")
    allowing("10.0.0.0/8", "::1/128").check("10.200.0.1")
    allowing("10.0.0.0/8", "::1/128").check("::1")
    with pytest.raises(RefusedDestination):
        allowing("10.0.0.0/8").check("192.168.0.1")


@pytest.mark.parametrize("channel", [WebhookChannel, SlackChannel])
def test_a_page_to_loopback_is_refused_before_a_byte_is_sent(receiver, channel):
    with pytest.raises(
        DeliveryFailed, match=r"127\.0\.0\.1:\d+: refused, 127\.0\.0\.1 is not a public address"
    ):
        channel(destinations=Destinations()).send(page_to(receiver.url()))
    assert receiver.received == []


def test_an_https_page_is_checked_before_its_handshake(receiver):
    """The receiver speaks plain HTTP: had the connection gone on, TLS would have failed instead."""
    https = receiver.url().replace("http://", "https://")
    with pytest.raises(DeliveryFailed, match="refused, 127.0.0.1 is not a public address"):
        SlackChannel(destinations=Destinations()).send(page_to(https))
    with pytest.raises(DeliveryFailed, match="SSLError"):
        SlackChannel(destinations=allowing("127.0.0.1/32")).send(page_to(https))


def test_a_name_is_checked_by_the_address_it_connected_to(receiver):
    with pytest.raises(DeliveryFailed, match="refused"):
        WebhookChannel(destinations=Destinations()).send(page_to(receiver.url("localhost")))
    assert receiver.received == []


def test_a_page_goes_to_an_allowed_network(receiver):
    WebhookChannel(destinations=allowing("127.0.0.1/32")).send(page_to(receiver.url()))
    assert receiver.received == ["/hook"]


def test_a_redirect_to_an_address_outside_the_allowed_networks_is_refused():
    """127.0.0.2 is loopback too (all of 127/8 is), but only 127.0.0.1 is allowed."""
    elsewhere = Receiver(host="127.0.0.2")
    redirecting = Receiver(redirect_to=elsewhere.url())
    try:
        with pytest.raises(DeliveryFailed, match=r"refused, 127\.0\.0\.2 is not a public address"):
            WebhookChannel(destinations=allowing("127.0.0.1/32")).send(page_to(redirecting.url()))
        assert redirecting.received == ["/hook"] and elsewhere.received == []
        WebhookChannel(destinations=allowing("127.0.0.0/8")).send(page_to(redirecting.url()))
        assert elsewhere.received == ["/hook"]  # the same redirect, allowed: it is followed
    finally:
        redirecting.shutdown()
        elsewhere.shutdown()


def test_behind_a_proxy_the_page_s_own_host_is_checked(receiver, monkeypatch):
    """The receiver stands for a proxy the operator allowed; the page names a private host."""
    for name in ("NO_PROXY", "no_proxy"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HTTP_PROXY", receiver.url().removesuffix("/hook"))
    with pytest.raises(DeliveryFailed, match=r"refused, 10\.9\.8\.7 is not a public address"):
        WebhookChannel(destinations=allowing("127.0.0.1/32")).send(page_to("http://10.9.8.7/hook"))
    assert receiver.received == []


def test_the_configured_networks_reach_both_channels(receiver):
    channels = channels_from({"WEBHOOK_ALLOWED_NETWORKS": ["127.0.0.0/8"]})
    channels["webhook"].send(page_to(receiver.url()))
    channels["slack"].send(page_to(receiver.url()))
    assert receiver.received == ["/hook", "/hook"]
    with pytest.raises(DeliveryFailed, match="refused"):
        channels_from({})["webhook"].send(page_to(receiver.url()))


def test_a_setting_that_is_not_a_network_stops_the_start_with_its_name(monkeypatch):
    monkeypatch.setenv("KLAXON_WEBHOOK_ALLOWED_NETWORKS", "10.0.0.0/8, 127.0.0.1, ::1/128")
    assert networks("KLAXON_WEBHOOK_ALLOWED_NETWORKS") == ["10.0.0.0/8", "127.0.0.1/32", "::1/128"]
    monkeypatch.setenv("KLAXON_WEBHOOK_ALLOWED_NETWORKS", "10.0.0.0/8, office")
    with pytest.raises(ValueError, match="KLAXON_WEBHOOK_ALLOWED_NETWORKS: 'office' does not appear"):
        networks("KLAXON_WEBHOOK_ALLOWED_NETWORKS")
