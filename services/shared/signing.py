"""Tamper-proof claims for links and cookies: base64url(JSON) "." base64url(HMAC-SHA256)
under the platform's secret key. Expiry is the caller's claim to check."""

import base64
import hashlib
import hmac
import json


class Signer:
    def __init__(self, secret_key):
        self.key = secret_key.encode()

    def dumps(self, claims):
        body = _b64(json.dumps(claims, sort_keys=True, separators=(",", ":")).encode())
        return f"{body}.{self._sign(body)}"

    def loads(self, token):
        """The claims of a genuine token; None for a forged or garbled one."""
        body, _, signature = (token or "").partition(".")
        # Bytes, not str: compare_digest refuses non-ASCII text, which anyone can send.
        expected = self._sign(body).encode()
        if not signature or not hmac.compare_digest(signature.encode(), expected):
            return None
        try:
            return json.loads(_unb64(body))
        except (ValueError, UnicodeError):
            return None

    def _sign(self, body):
        return _b64(hmac.new(self.key, body.encode(errors="surrogatepass"), hashlib.sha256).digest())


def _b64(data):
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text):
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))
