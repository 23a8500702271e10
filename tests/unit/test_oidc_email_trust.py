"""Which ID tokens' e-mail may link an existing Klaxon user (edge/oidc.py)."""

import pytest

from edge.oidc import OidcSettings, email_is_verified, sso_claims


def settings(monkeypatch, trust=None):
    monkeypatch.setenv("KLAXON_OIDC_ISSUER", "https://idp.example")
    if trust is None:
        monkeypatch.delenv("KLAXON_OIDC_TRUST_EMAIL", raising=False)
    else:
        monkeypatch.setenv("KLAXON_OIDC_TRUST_EMAIL", trust)
    return OidcSettings.from_env("https://klaxon.example")


@pytest.mark.parametrize(
    "claim, trust, verified",
    [
        (True, None, True),
        (None, None, False),  # the claim left out, as Azure AD does
        ("true", None, False),  # a string is not the boolean the standard asks for
        (True, "true", True),
        (None, "true", True),
        (None, "false", False),
    ],
)
def test_only_a_verified_or_trusted_email_links(monkeypatch, claim, trust, verified):
    claims = {"sub": "s-1", "email": "ada@example.com"}
    if claim is not None:
        claims["email_verified"] = claim
    assert email_is_verified(claims, settings(monkeypatch, trust)) is verified


def test_the_on_call_service_is_told_whether_the_email_may_link():
    claims = {"sub": "s-1", "email": "ada@example.com", "name": "Ada", "groups": ["sre"]}
    assert sso_claims(claims, False) == {
        "sub": "s-1",
        "email": "ada@example.com",
        "name": "Ada",
        "email_verified": False,
    }
