"""Secret calendar feed URLs on real SQLite and PostgreSQL: which ones still answer."""

import datetime as dt

import pytest

from services.oncall.access_requests import CalendarFeedRequest, NewUser, UserChange
from services.oncall.accounts_store import AccountStore
from services.shared.errors import NotFound

NOW = dt.datetime(2026, 12, 3, 9, 0, tzinfo=dt.UTC)


@pytest.fixture
def store(bound):
    return AccountStore(bound("oncall"), {"LOGIN_SLOWDOWN_SECONDS": 0})


def feed_secret(store, email):
    """A new user's team feed, by the secret of its URL /api/v1/calendars/<secret>.ics."""
    store.create_user(NewUser(email=email, role="responder"), "root@example.com", "", NOW)
    feed = store.create_feed(email, CalendarFeedRequest(team="ops"), NOW)
    return feed["id"], feed["url"].removeprefix("/api/v1/calendars/").removesuffix(".ics")


def refusal(store, secret):
    with pytest.raises(NotFound) as refused:
        store.feed_subject(secret)
    return str(refused.value)


def test_a_disabled_owners_feed_answers_as_a_revoked_one_until_they_are_enabled_again(store):
    _, secret = feed_secret(store, "ada@example.com")
    revoked_id, revoked = feed_secret(store, "bo@example.com")
    store.revoke_feed("bo@example.com", revoked_id, NOW)
    assert store.feed_subject(secret) == ("ops", None)
    store.update_user("ada@example.com", UserChange(disabled=True), "root@example.com", "", NOW)
    assert refusal(store, secret) == refusal(store, revoked), "nothing tells the two apart"
    store.update_user("ada@example.com", UserChange(disabled=False), "root@example.com", "", NOW)
    assert store.feed_subject(secret) == ("ops", None)
