"""What may be shown of an address or a URL: a webhook's path and a query's key can be
credentials (a Slack webhook's URL is one; so is `?integration_key=`)."""

import re
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

HIDDEN = "REDACTED"
# A sign-in's `state` and `nonce` bind its redirect to the browser that started it; a
# query filter of that name (maintenance windows' `state`) is hidden too, which costs nothing.
SECRET_QUERY_WORDS = ("key", "token", "secret", "password", "signature", "code", "state", "nonce")
# The API's routes whose path is a credential: /api/v1/calendars/{secret}.ics, /api/v1/ack/{token}.
SECRET_PATH = re.compile(r"^(/api/v1/(?:calendars|ack)/)[^/]+?(\.ics)?$")
# A request target inside a log line: after a space or a quote, from "/" to the next one.
TARGET_IN_TEXT = re.compile(r'(?<=[\s"])/[^\s"]*')


def hide_query_secrets(query):
    """`query` with the values of its secret-looking parameters (integration_key...) hidden."""
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(name, HIDDEN if is_secret_name(name) else value) for name, value in pairs], safe="/")


def hidden_path(path):
    """A path as it is, unless the path itself is a credential."""
    return SECRET_PATH.sub(lambda match: f"{match[1]}{HIDDEN}{match[2] or ''}", path or "")


def hidden_target(target):
    """A request target (`/path?query`) with its credentials hidden."""
    path, mark, query = (target or "").partition("?")
    return hidden_path(path) + (f"?{hide_query_secrets(query)}" if mark else "")


def hidden_url(url):
    """A full URL (a Referer, say) with its credentials hidden."""
    if not url or url == "-":
        return url
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path=hidden_path(parts.path), query=hide_query_secrets(parts.query)))


def hide_targets_in(text):
    """A log line with every request target in it hidden as `hidden_target` does."""
    return TARGET_IN_TEXT.sub(lambda match: hidden_target(match[0]), text)


def is_secret_name(name):
    return any(word in name.lower() for word in SECRET_QUERY_WORDS)


def masked_address(address):
    """An e-mail address as it is; a URL as its scheme and host only."""
    if not address or "://" not in address:
        return address
    parts = urlsplit(address)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/…"
