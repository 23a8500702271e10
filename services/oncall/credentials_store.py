"""Queries for people's credentials other than passwords and sessions: API tokens,
calendar feeds, and the audit log they write to. A part of `AccountStore`
(services/oncall/accounts_store.py)."""

import datetime as dt
import json

from services.oncall import accounts
from services.oncall.models import ApiToken, AuditEntry, CalendarFeed, Person
from services.shared.access import lower_role
from services.shared.errors import Conflict, NotFound
from services.shared.paging import keyset_page, page_limit


class CredentialStore:
    """Mixed into `AccountStore`, whose `_person` it uses."""

    # -- API tokens ------------------------------------------------------------------------
    def create_token(self, email, request, source, now):
        person = self._person(email)
        if request.expires_at is not None and request.expires_at <= now:
            raise Conflict("expires_at is in the past")
        secret = accounts.new_token()
        token = ApiToken.create(
            secret_hash=accounts.digest(secret),
            prefix=secret[:9],
            person_id=person.id,
            name=request.name,
            role=request.role and lower_role(person.role, request.role),
            created_at=now,
            expires_at=request.expires_at,
        )
        self.record(email, "token_created", email, source, {"id": token.id, "name": token.name}, now)
        return {**token_dict(token), "token": secret}

    def tokens(self, email):
        person = self._person(email)
        rows = ApiToken.select().where(ApiToken.person_id == person.id).order_by(ApiToken.id)
        return [token_dict(row) for row in rows]

    def revoke_token(self, email, token_id, source, now):
        person = self._person(email)
        token = ApiToken.get_or_none(ApiToken.id == token_id, ApiToken.person_id == person.id)
        if token is None:
            raise NotFound("API token", token_id)
        if token.revoked_at is None:
            ApiToken.update(revoked_at=now).where(ApiToken.id == token.id).execute()
            self.record(email, "token_revoked", email, source, {"id": token.id, "name": token.name}, now)
        return token_dict(ApiToken.get_by_id(token.id))

    # -- calendar feeds ------------------------------------------------------------------
    def create_feed(self, email, request, now):
        person = self._person(email)
        secret = accounts.new_secret()
        feed = CalendarFeed.create(
            secret_hash=accounts.digest(secret),
            person_id=person.id,
            team=request.team,
            email=request.email,
            created_at=now,
        )
        return {**feed_dict(feed), "url": f"/api/v1/calendars/{secret}.ics"}

    def feeds(self, email):
        person = self._person(email)
        rows = CalendarFeed.select().where(CalendarFeed.person_id == person.id).order_by(CalendarFeed.id)
        return [feed_dict(row) for row in rows]

    def revoke_feed(self, email, feed_id, now):
        person = self._person(email)
        updated = (
            CalendarFeed.update(revoked_at=now)
            .where(CalendarFeed.id == feed_id, CalendarFeed.person_id == person.id)
            .execute()
        )
        if not updated:
            raise NotFound("calendar feed", feed_id)

    def feed_subject(self, secret):
        """(team, email) of a live calendar URL; NotFound for a revoked or unknown one, and
        while its owner is disabled (as their sessions and tokens are refused)."""
        feed = CalendarFeed.get_or_none(CalendarFeed.secret_hash == accounts.digest(secret))
        if feed is None or feed.revoked_at is not None or not self._enabled(feed.person_id):
            raise NotFound("calendar feed", "at this URL")
        return feed.team, feed.email

    def _enabled(self, person_id):
        owner = Person.get_or_none(Person.id == person_id)
        return owner is not None and not owner.disabled

    # -- audit ---------------------------------------------------------------------------
    def record(self, actor, action, subject, source, detail, now):
        AuditEntry.create(
            at=now,
            actor=(actor or "")[:320],
            action=action,
            subject=(subject or "")[:400] or None,
            source=(source or "")[:100] or None,
            detail=json.dumps(detail) if detail is not None else None,
        )

    def audit_log(self, action=None, cursor=None, limit=None):
        query = AuditEntry.select()
        if action:
            query = query.where(AuditEntry.action == action)
        rows, next_cursor = keyset_page(
            query, AuditEntry.at, AuditEntry.id, cursor, page_limit(limit), id_type=int
        )
        return {"items": [audit_dict(row) for row in rows], "next_cursor": next_cursor}


def token_dict(token):
    return {
        "id": token.id,
        "name": token.name,
        "prefix": token.prefix,
        "role": token.role,
        "created_at": token.created_at.isoformat(),
        "expires_at": _iso(token.expires_at),
        "revoked_at": _iso(token.revoked_at),
        "last_used_at": _iso(token.last_used_at),
    }


def feed_dict(feed):
    return {
        "id": feed.id,
        "team": feed.team,
        "email": feed.email,
        "created_at": feed.created_at.isoformat(),
        "revoked_at": _iso(feed.revoked_at),
    }


def audit_dict(row):
    return {
        "id": row.id,
        "at": row.at.isoformat(),
        "actor": row.actor,
        "action": row.action,
        "subject": row.subject,
        "source": row.source,
        "detail": json.loads(row.detail) if row.detail else None,
    }


def _iso(value):
    return value.isoformat() if isinstance(value, dt.datetime) else None
