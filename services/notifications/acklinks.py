"""Signed, expiring, single-use links that acknowledge an incident as one person.

A token is claims signed under the platform's secret key (`services.shared.signing`).
The claims name the incident, the person, the expiry and a nonce; the ledger records a
nonce once it is used, so the second click does nothing.
"""

import datetime as dt
import secrets

from services.shared.errors import Conflict, Forbidden
from services.shared.signing import Signer


class AckLinks:
    def __init__(self, secret_key, base_url, ttl_seconds=24 * 3600):
        self.signer = Signer(secret_key)
        self.base_url = base_url.rstrip("/")
        self.ttl = dt.timedelta(seconds=ttl_seconds)

    def url(self, incident_id, recipient, now):
        claims = {
            "incident_id": incident_id,
            "recipient": recipient,
            "exp": int((now + self.ttl).timestamp()),
            "nonce": secrets.token_urlsafe(12),
        }
        return f"{self.base_url}/api/v1/ack/{self.signer.dumps(claims)}"

    def verify(self, token, now):
        """The claims of a genuine, unexpired token; Forbidden otherwise."""
        claims = self.signer.loads(token)
        if not isinstance(claims, dict) or "exp" not in claims:
            raise Forbidden("this acknowledge link is not genuine")
        if now.timestamp() > claims["exp"]:
            raise Forbidden("this acknowledge link has expired; acknowledge in Klaxon instead")
        return claims


def already_used():
    return Conflict("this acknowledge link was already used")
