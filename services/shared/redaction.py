"""What may be shown of an address or a URL: a webhook's path and a query's key can be
credentials (a Slack webhook's URL is one; so is `?integration_key=`)."""

from urllib.parse import parse_qsl, urlencode, urlsplit

HIDDEN = "REDACTED"
SECRET_QUERY_WORDS = ("key", "token", "secret", "password", "signature", "code")


def hide_query_secrets(query):
    """`query` with the values of its secret-looking parameters (integration_key...) hidden."""
    pairs = parse_qsl(query, keep_blank_values=True)
    return urlencode([(name, HIDDEN if is_secret_name(name) else value) for name, value in pairs], safe="/")


def is_secret_name(name):
    return any(word in name.lower() for word in SECRET_QUERY_WORDS)


def masked_address(address):
    """An e-mail address as it is; a URL as its scheme and host only."""
    if not address or "://" not in address:
        return address
    parts = urlsplit(address)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}/…"
