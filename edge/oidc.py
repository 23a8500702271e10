"""Single sign-on with OpenID Connect: the authorization code flow with PKCE (Authlib).

`/api/v1/auth/oidc/login` sends the browser to the provider with a fresh state, nonce
and PKCE verifier, which travel in a short-lived signed cookie; the provider sends it
back to `/api/v1/auth/oidc/callback`, where the code is exchanged, the ID token checked
against the provider's keys, and the on-call service opens a session for that e-mail.
"""

import time
from dataclasses import dataclass, field

import falcon
import requests
from authlib.common.errors import AuthlibBaseError
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from authlib.oidc.core import CodeIDToken
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet

from edge.auth import source
from services.oncall import contracts as c
from services.shared import config
from services.shared.access import PUBLIC, RANK
from services.shared.errors import Forbidden
from services.shared.signing import Signer

FLOW_COOKIE = "klaxon_oidc_flow"
FLOW_SECONDS = 600
CALLBACK_PATH = "/api/v1/auth/oidc/callback"


@dataclass(frozen=True)
class OidcSettings:
    issuer: str
    client_id: str
    client_secret: str
    public_url: str
    scopes: str = "openid email profile"
    groups_claim: str = "groups"
    # {group: role}; the highest role any of a person's groups maps to applies.
    role_of_group: dict = field(default_factory=dict)
    # A provider that never sends `email_verified` (Azure AD) but whose addresses its
    # admins assign: its e-mail may link a Klaxon user who has not signed in through it yet.
    trust_email: bool = False

    @classmethod
    def from_env(cls, public_url):
        issuer = config.env("KLAXON_OIDC_ISSUER")
        if not issuer:
            return None
        return cls(
            issuer=issuer.rstrip("/"),
            client_id=config.env("KLAXON_OIDC_CLIENT_ID", ""),
            client_secret=config.env("KLAXON_OIDC_CLIENT_SECRET", ""),
            public_url=public_url.rstrip("/"),
            scopes=config.env("KLAXON_OIDC_SCOPES", "openid email profile"),
            groups_claim=config.env("KLAXON_OIDC_GROUPS_CLAIM", "groups"),
            role_of_group=parse_role_groups(config.env("KLAXON_OIDC_ROLE_GROUPS", "")),
            trust_email=config.env_flag("KLAXON_OIDC_TRUST_EMAIL"),
        )

    @property
    def redirect_uri(self):
        return self.public_url + CALLBACK_PATH


def parse_role_groups(text):
    """`admin=klaxon-admins,responder=sre,responder=dba` → {"klaxon-admins": "admin", ...}."""
    mapping = {}
    for pair in filter(None, (part.strip() for part in text.split(","))):
        role, _, group = pair.partition("=")
        if role.strip() not in RANK or not group.strip():
            raise ValueError(f"KLAXON_OIDC_ROLE_GROUPS: {pair!r} is not ROLE=GROUP with a known role")
        mapping[group.strip()] = role.strip()
    return mapping


def role_from_groups(groups, role_of_group):
    roles = [role_of_group[g] for g in (groups or []) if isinstance(g, str) and g in role_of_group]
    return max(roles, key=RANK.get) if roles else None


class OidcClient:
    """The provider's metadata and keys, fetched once and refreshed on an unknown key."""

    def __init__(self, settings, timeout=10):
        self.settings = settings
        self.timeout = timeout
        self._metadata = None
        self._keys = None

    def metadata(self):
        if self._metadata is None:
            url = f"{self.settings.issuer}/.well-known/openid-configuration"
            self._metadata = self._get_json(url)
        return self._metadata

    def keys(self, refresh=False):
        if self._keys is None or refresh:
            self._keys = KeySet.import_key_set(self._get_json(self.metadata()["jwks_uri"]))
        return self._keys

    def _get_json(self, url):
        answer = requests.get(url, timeout=self.timeout)
        answer.raise_for_status()
        return answer.json()

    def _session(self, **kwargs):
        s = self.settings
        return OAuth2Session(
            s.client_id,
            s.client_secret,
            scope=s.scopes,
            redirect_uri=s.redirect_uri,
            code_challenge_method="S256",
            **kwargs,
        )

    def start(self):
        """(authorization URL, the flow's state to keep until the callback)."""
        flow = {
            "verifier": generate_token(48),
            "nonce": generate_token(20),
            "exp": int(time.time()) + FLOW_SECONDS,
        }
        url, state = self._session().create_authorization_url(
            self.metadata()["authorization_endpoint"], code_verifier=flow["verifier"], nonce=flow["nonce"]
        )
        return url, {**flow, "state": state}

    def finish(self, callback_url, flow):
        """The verified ID token's claims for a callback of this flow."""
        token = self._session(state=flow["state"]).fetch_token(
            self.metadata()["token_endpoint"],
            authorization_response=callback_url,
            code_verifier=flow["verifier"],
            timeout=self.timeout,
        )
        return self._verified(token, flow["nonce"])

    def _verified(self, token, nonce):
        """The ID token's claims once its signature, issuer, audience, nonce and at_hash hold."""
        algorithms = self.metadata().get("id_token_signing_alg_values_supported", ["RS256"])
        try:
            decoded = jwt.decode(token["id_token"], self.keys(), algorithms=algorithms)
        except JoseError:  # perhaps a key the cached set does not hold: the provider rotated keys
            decoded = jwt.decode(token["id_token"], self.keys(refresh=True), algorithms=algorithms)
        claims = CodeIDToken(
            decoded.claims,
            decoded.header,
            {"iss": {"essential": True, "value": self.metadata()["issuer"]}},
            {"nonce": nonce, "client_id": self.settings.client_id, "access_token": token["access_token"]},
        )
        claims.validate(leeway=60)
        return dict(claims)


class OidcLogin:
    access = {"GET": PUBLIC}

    def __init__(self, client, signer, secure):
        self.client = client
        self.signer = signer
        self.secure = secure

    def on_get(self, req, resp):
        url, flow = self.client.start()
        resp.set_cookie(
            FLOW_COOKIE,
            self.signer.dumps(flow),
            max_age=FLOW_SECONDS,
            path="/api/v1/auth/oidc",
            secure=self.secure,
            http_only=True,
            same_site="Lax",
        )
        resp.status = falcon.HTTP_302
        resp.location = url


class OidcCallback:
    access = {"GET": PUBLIC}

    def __init__(self, client, signer, rpc, cookie):
        self.client = client
        self.signer = signer
        self.rpc = rpc
        self.cookie = cookie

    def on_get(self, req, resp):
        flow = self.signer.loads(req.cookies.get(FLOW_COOKIE))
        if not isinstance(flow, dict) or flow.get("exp", 0) < time.time():
            raise Forbidden("this sign-in took too long or did not start here; sign in again")
        if req.get_param("error"):
            raise Forbidden(f"the identity provider refused: {req.get_param('error')}")
        if req.get_param("state") != flow["state"]:
            raise Forbidden("the sign-in's state does not match; sign in again")
        claims = self._claims(req, flow)
        groups = claims.get(self.client.settings.groups_claim)
        role = role_from_groups(groups, self.client.settings.role_of_group)
        verified = email_is_verified(claims, self.client.settings)
        opened = self.rpc.call(c.SERVICE, c.SSO_LOGIN, sso_claims(claims, verified), role, source(req))
        self.cookie.set(resp, opened["session"])
        resp.unset_cookie(FLOW_COOKIE, path="/api/v1/auth/oidc")
        resp.status = falcon.HTTP_302
        resp.location = "/"

    def _claims(self, req, flow):
        callback = self.client.settings.redirect_uri + "?" + req.query_string
        try:
            claims = self.client.finish(callback, flow)
        except (AuthlibBaseError, JoseError, requests.RequestException, KeyError) as error:
            raise Forbidden(f"single sign-on failed: {error}") from None
        if not claims.get("email") or claims.get("email_verified") is False:
            raise Forbidden("the identity provider gave no verified e-mail")
        return claims


def email_is_verified(claims, settings):
    """Whether an ID token's e-mail may link an existing user: the provider said it verified
    it, or the operator trusts every address the provider hands out."""
    return claims.get("email_verified") is True or settings.trust_email


def sso_claims(claims, email_verified):
    """What the on-call service needs of an ID token: `email_verified` says whether its
    e-mail may link a user who has not signed in through this provider before."""
    return {
        "sub": claims["sub"],
        "email": claims["email"],
        "name": claims.get("name"),
        "email_verified": email_verified,
    }


class AuthProviders:
    """What the sign-in page offers."""

    access = {"GET": PUBLIC}

    def __init__(self, enabled):
        self.enabled = enabled

    def on_get(self, req, resp):
        resp.media = {"password": True, "oidc": self.enabled, "oidc_login": "/api/v1/auth/oidc/login"}


def install(app, settings, rpc, cookie, secret_key):
    """The SSO routes, when an issuer is configured; returns the routes it added."""
    routes = {"/api/v1/auth/providers": AuthProviders(settings is not None)}
    if settings is not None:
        client, signer = OidcClient(settings), Signer(secret_key)
        callback = OidcCallback(client, signer, rpc, cookie)
        routes["/api/v1/auth/oidc/login"] = OidcLogin(client, signer, cookie.secure)
        routes[CALLBACK_PATH] = callback
    for path, resource in routes.items():
        app.add_route(path, resource)
    return routes
