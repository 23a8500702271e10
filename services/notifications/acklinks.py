"""Signed, expiring, single-use links that acknowledge an incident as one person.

A token is base64url(JSON claims) "." base64url(HMAC-SHA256(claims)) under the
platform's secret key. The claims name the incident, the person, the expiry and a nonce;
the ledger records a nonce once it is used, so the second click does nothing.
"""

import base64
import datetime as dt
import hashlib
import hmac
import json
import secrets

from services.shared.errors import Conflict, Forbidden


class AckLinks:
    def __init__(self, secret_key, base_url, ttl_seconds=24 * 3600):
        self.key = secret_key.encode()
        self.base_url = base_url.rstrip("/")
        self.ttl = dt.timedelta(seconds=ttl_seconds)

    def url(self, incident_id, recipient, now):
        claims = {
            "incident_id": incident_id,
            "recipient": recipient,
            "exp": int((now + self.ttl).timestamp()),
            "nonce": secrets.token_urlsafe(12),
        }
        body = _b64(json.dumps(claims, sort_keys=True, separators=(",", ":")).encode())
        return f"{self.base_url}/api/v1/ack/{body}.{self._sign(body)}"

    def verify(self, token, now):
        """The claims of a genuine, unexpired token; Forbidden otherwise."""
        body, _, signature = token.partition(".")
        if not signature or not hmac.compare_digest(signature, self._sign(body)):
            raise Forbidden("this acknowledge link is not genuine")
        try:
            claims = json.loads(_unb64(body))
        except ValueError:
            raise Forbidden("this acknowledge link is not genuine") from None
        if now.timestamp() > claims["exp"]:
            raise Forbidden("this acknowledge link has expired; acknowledge in Klaxon instead")
        return claims

    def _sign(self, body):
        return _b64(hmac.new(self.key, body.encode(), hashlib.sha256).digest())


def already_used():
    return Conflict("this acknowledge link was already used")


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
