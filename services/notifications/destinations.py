"""Where a webhook or Slack page may go: public addresses, and the networks an operator
allows (KLAXON_WEBHOOK_ALLOWED_NETWORKS).

Whoever may write a contact method or send a notification names the URL a page is posted
to. Unchecked, that is a way into whatever the notifications service can reach: the
broker's management API, a cloud's metadata endpoint, the database's host. So a page goes
only to a global address, unless the address is in an allowed network: a chat server on
the office network, a receiver on loopback in a test.

The address checked is the one the socket connected to, before a byte is sent: a name
that resolves to a public address when checked and a private one when used (DNS
rebinding) gains nothing, and a redirect is checked as its own connection is made. Behind
a proxy the operator set (HTTPS_PROXY and friends) the connection is to the proxy, and the
proxy resolves the page's host; that host is resolved here first and each of its addresses
checked, which leaves a name that changes its answer in between to the proxy's own rules.
"""

import ipaddress
import socket
from urllib.parse import urlsplit

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPConnection, HTTPSConnection
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool


class RefusedDestination(Exception):
    """The page's address is not one pages may go to."""


def allowed_networks(cidrs):
    """The networks of the service's WEBHOOK_ALLOWED_NETWORKS (services.shared.config's
    `networks`, checked when the platform starts): a list of CIDRs."""
    return tuple(ipaddress.ip_network(cidr, strict=False) for cidr in cidrs or ())


class Destinations:
    def __init__(self, allowed=()):
        self.allowed = tuple(allowed)

    def check(self, address):
        """Raise RefusedDestination unless pages may go to the IP `address`."""
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # an IPv6 scope id is no part of it
        if ip.version == 6 and ip.ipv4_mapped is not None:
            ip = ip.ipv4_mapped
        if not ip.is_global and not any(ip in network for network in self.allowed):
            raise RefusedDestination(
                f"{ip} is not a public address (allow its network with KLAXON_WEBHOOK_ALLOWED_NETWORKS)"
            )

    def check_host(self, url):
        """Every address the URL's host resolves to (for a page sent through a proxy)."""
        parts = urlsplit(url)
        try:
            found = socket.getaddrinfo(parts.hostname, None, proto=socket.IPPROTO_TCP)
        except (socket.gaierror, UnicodeError) as error:
            raise RefusedDestination(f"its host does not resolve ({error})") from None
        for *_, sockaddr in found:
            self.check(sockaddr[0])

    def session(self, url):
        """A requests session whose connections are checked; `url`'s host is checked now
        when the session would reach it through a proxy."""
        session = requests.Session()
        adapter = CheckedAdapter(self)
        session.mount("http://", adapter)
        session.mount("https://", adapter)
        if session.merge_environment_settings(url, {}, None, None, None)["proxies"].get(urlsplit(url).scheme):
            self.check_host(url)
        return session


def checked_pool(pool_class, connection_class, destinations):
    """A urllib3 pool class whose connections check their peer as they connect."""

    class CheckedConnection(connection_class):
        def _new_conn(self):
            sock = super()._new_conn()
            try:
                destinations.check(sock.getpeername()[0])
            except RefusedDestination:
                sock.close()
                raise
            return sock

    return type(f"Checked{pool_class.__name__}", (pool_class,), {"ConnectionCls": CheckedConnection})


class CheckedAdapter(HTTPAdapter):
    def __init__(self, destinations, **options):
        self.destinations = destinations
        super().__init__(**options)

    def init_poolmanager(self, *args, **kwargs):
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = {
            "http": checked_pool(HTTPConnectionPool, HTTPConnection, self.destinations),
            "https": checked_pool(HTTPSConnectionPool, HTTPSConnection, self.destinations),
        }
