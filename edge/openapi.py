"""The edge's OpenAPI 3.1 document, built from the pydantic models that validate requests.

`OPERATIONS` describes each (path, method) once: its id, summary, tag, body, parameters,
answers and the errors it can give. `build_document(routes)` walks the routes the app
really serves and fails when a responder is undescribed or a description has no route,
so the document cannot drift from the code. An operation marked `optional` (single
sign-on, served only when an issuer is configured) may have no route. Auth comes from each resource's `access`
(method → permission) when it declares one, else from the table's default.
"""

import copy
import json
import re
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel

from services.alerts.formats.generic import GenericAlert
from services.alerts.heartbeats import HeartbeatChange, HeartbeatRequest
from services.alerts.integrations import NewIntegration
from services.alerts.maintenance import WindowChange, WindowRequest
from services.incidents.requests import IncidentChange, NewIncident
from services.notifications.requests import NotifyRequest
from services.oncall.access_requests import (
    CalendarFeedRequest,
    LoginRequest,
    NewUser,
    PasswordChange,
    ProfileChange,
    TokenRequest,
    UserChange,
)
from services.oncall.policy import PolicyRequest
from services.oncall.requests import OverrideRequest, ScheduleRequest
from services.shared.paging import MAX_LIMIT
from services.shared.problems import PROBLEM_TYPE

EXAMPLES = Path(__file__).resolve().parent / "static" / "docs" / "examples"
REF = "#/components/schemas/{model}"
METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")
STATE_CHANGING = {"POST", "PUT", "PATCH", "DELETE"}
JSON = "application/json"


class DocumentError(Exception):
    """The table and the routes disagree: a responder undescribed, or a description without route."""


def ref(name):
    return {"$ref": REF.format(model=name)}


def nullable(schema):
    return {"anyOf": [schema, {"type": "null"}]}


def obj(properties, required=(), extra=True):
    schema = {"type": "object", "properties": properties, "required": list(required)}
    if not extra:
        schema["additionalProperties"] = False
    return schema


def items_of(schema):
    return obj({"items": {"type": "array", "items": schema}}, ["items"])


def page_of(schema):
    cursor = nullable({"type": "string", "description": "Pass as `cursor` for the next page"})
    return obj({"items": {"type": "array", "items": schema}, "next_cursor": cursor}, ["items", "next_cursor"])


STR = {"type": "string"}
INT = {"type": "integer"}
NUM = {"type": "number"}
BOOL = {"type": "boolean"}
TIME = {"type": "string", "format": "date-time"}
OPT_STR, OPT_INT, OPT_NUM, OPT_TIME = nullable(STR), nullable(INT), nullable(NUM), nullable(TIME)

# What the resources answer, read from the stores' serialisers (`as_dict`, `incident_dict`,
# `schedule_dict`...). Required lists only what is always there; extra members are allowed.
PERSON = obj({"name": STR, "email": STR}, ["name", "email"])
CONTACT = obj({"type": STR, "address": OPT_STR, "delay_minutes": NUM}, ["type"])
PROFILE = obj(
    {
        **PERSON["properties"],
        "time_zone": STR,
        "contact_methods": {"type": "array", "items": ref("ContactShown")},
    },
    ["name", "email", "time_zone", "contact_methods"],
)
SHIFT = obj({"start": TIME, "end": TIME, "name": STR, "email": STR}, ["start", "end", "name", "email"])
INCIDENT_FIELDS = {
    "id": INT,
    "title": STR,
    "service": STR,
    "severity": STR,
    "status": STR,
    "team": OPT_STR,
    "assignee": OPT_STR,
    "alert_count": INT,
    "created_at": TIME,
    "updated_at": TIME,
    "acknowledged_at": OPT_TIME,
    "resolved_at": OPT_TIME,
    "mtta_seconds": OPT_NUM,
    "mttr_seconds": OPT_NUM,
}
TIMELINE_ENTRY = obj(
    {
        "kind": STR,
        "actor": STR,
        "at": TIME,
        "detail": {},
        "trace_id": {**nullable(STR), "description": "The trace that wrote it, when tracing is on"},
    },
    ["kind", "actor", "at", "detail"],
)
NOTE = obj({"note": {}, "actor": STR, "at": TIME}, ["note", "actor", "at"])
INCIDENT_DETAIL = obj(
    {
        **INCIDENT_FIELDS,
        "timeline": {"type": "array", "items": TIMELINE_ENTRY},
        "notes": {"type": "array", "items": NOTE},
        "alerts": {
            "type": "array",
            "items": ref("Alert"),
            "description": "Only on GET: its first 100 alerts",
        },
    },
    ["id", "title", "status", "timeline", "notes"],
)
ALERT = obj(
    {
        "alert_id": STR,
        "source": STR,
        "service": STR,
        "severity": STR,
        "message": STR,
        "labels": {"type": "object"},
        "timestamp": TIME,
        "received_at": TIME,
        "dedup_key": OPT_STR,
        "status": STR,
        "incident_id": OPT_INT,
        "action": OPT_STR,
        "duplicate_of": OPT_STR,
        "duplicate_count": INT,
        "resolved_at": OPT_TIME,
        "integration_id": OPT_INT,
        "group_key": OPT_STR,
        "details": {"type": "object"},
        "suppressed_by": {**OPT_INT, "description": "The maintenance window that held it back"},
        "suppressed_until": {**OPT_TIME, "description": "Replayed then if still firing; null once replayed"},
    },
    ["alert_id", "source", "service", "severity", "message", "status", "timestamp"],
)
INTEGRATION = obj(
    {
        "id": INT,
        "name": STR,
        "kind": STR,
        "key_prefix": OPT_STR,
        "default_service": OPT_STR,
        "auto_resolve": BOOL,
        "rate_limit_per_minute": INT,
        "created_at": TIME,
        "revoked_at": OPT_TIME,
        "key": {"type": "string", "description": "Only when created: shown once, stored as a hash"},
    },
    ["id", "name", "kind", "created_at", "revoked_at"],
)
SCHEDULE = obj(
    {
        "id": INT,
        "team": STR,
        "rotation_type": STR,
        "interval": INT,
        "handoff_time": {"type": "string", "description": "HH:MM"},
        "time_zone": STR,
        "start_date": {"type": "string", "format": "date"},
        "members": {"type": "array", "items": {"allOf": [PROFILE, obj({"role": STR}, ["role"])]}},
        "default_contact_methods": {"type": "array", "items": ref("ContactShown")},
        "services": {"type": "array", "items": STR},
    },
    ["id", "team", "rotation_type", "members"],
)
POLICY = obj(
    {
        "team": STR,
        "name": STR,
        "repeat": INT,
        "steps": {"type": "array", "items": {"type": "object"}},
        "default": {"type": "boolean", "description": "True while the team has not set its own"},
    },
    ["team", "name", "repeat", "steps", "default"],
)
OVERRIDE = obj(
    {"id": INT, "team": STR, "layer": STR, "name": STR, "email": STR, "start": TIME, "end": TIME},
    ["id", "team", "layer", "email", "start", "end"],
)
NOTIFICATION = obj(
    {
        "id": INT,
        "key": STR,
        "incident_id": OPT_INT,
        "step": OPT_INT,
        "recipient": STR,
        "channel": STR,
        "subject": STR,
        "message": STR,
        "status": STR,
        "attempts": INT,
        "error": OPT_STR,
        "latency_ms": OPT_NUM,
        "created_at": TIME,
        "delivered_at": OPT_TIME,
        "address": OPT_STR,
        "next_attempt_at": OPT_TIME,
    },
    ["id", "recipient", "channel", "status"],
)
ATTEMPT = obj(
    {"number": INT, "status": STR, "error": OPT_STR, "latency_ms": NUM, "at": TIME},
    ["number", "status", "at"],
)
BATCH_ACCEPTED = obj(
    {"status": {"const": "accepted"}, "alert_ids": {"type": "array", "items": STR}, "truncated_alerts": INT},
    ["status", "alert_ids", "truncated_alerts"],
)
ALERT_ANSWER = obj(
    {
        "alert_id": STR,
        "incident_id": OPT_INT,
        "status": STR,
        "action": STR,
        "suppressed_by": {**INT, "description": "When a maintenance window held it back (action suppressed)"},
    },
    ["alert_id", "status"],
)
ALERT_QUEUED = obj({"alert_id": STR, "status": {"const": "queued"}}, ["alert_id", "status"])
PAGERDUTY_SUCCESS = obj(
    {"status": {"const": "success"}, "message": STR, "dedup_key": STR}, ["status", "message", "dedup_key"]
)
PAGERDUTY_INVALID = obj(
    {"status": {"const": "invalid event"}, "message": STR, "errors": {"type": "array", "items": STR}},
    ["status", "message", "errors"],
)
PROBLEM = obj(
    {
        "type": {"type": "string", "description": "A URI reference; about:blank for Klaxon's problems"},
        "title": STR,
        "status": INT,
        "detail": STR,
        "errors": {
            "type": "array",
            "description": "The invalid fields (422)",
            "items": obj({"field": STR, "reason": STR}, ["field", "reason"]),
        },
    },
    ["type", "title", "status"],
)
# People as users (services/oncall/accounts_store.py: user_dict, token_dict, feed_dict,
# audit_dict; the principal is a user_dict with how it signed in).
ROLE = {"type": "string", "enum": ["viewer", "responder", "admin"]}
USER = obj(
    {
        "email": STR,
        "name": STR,
        "role": ROLE,
        "time_zone": STR,
        "contact_methods": {"type": "array", "items": ref("ContactShown")},
        "disabled": BOOL,
        "has_login": {"type": "boolean", "description": "A password or a single sign-on account is set"},
        "must_change_password": BOOL,
        "managed_teams": {"type": "array", "items": STR},
    },
    [
        "email",
        "name",
        "role",
        "time_zone",
        "contact_methods",
        "disabled",
        "has_login",
        "must_change_password",
    ],
)
PRINCIPAL = {
    "allOf": [
        ref("User"),
        obj(
            {
                "via": {"type": "string", "enum": ["session", "token"]},
                "csrf_token": {
                    "type": "string",
                    "description": "Only for a session: send it as X-CSRF-Token on state-changing requests",
                },
            },
            ["via"],
        ),
    ],
    "description": "Who is signed in; through a token, `role` is the token's (at most its owner's)",
}
API_TOKEN = obj(
    {
        "id": INT,
        "name": STR,
        "prefix": {"type": "string", "description": "The token's first characters, to recognise it"},
        "role": nullable({**ROLE, "description": "A lower role chosen at creation; null: the owner's"}),
        "created_at": TIME,
        "expires_at": OPT_TIME,
        "revoked_at": OPT_TIME,
        "last_used_at": OPT_TIME,
    },
    ["id", "name", "prefix", "role", "created_at", "expires_at", "revoked_at", "last_used_at"],
)
CALENDAR_FEED = obj(
    {"id": INT, "team": OPT_STR, "email": OPT_STR, "created_at": TIME, "revoked_at": OPT_TIME},
    ["id", "team", "email", "created_at", "revoked_at"],
)
AUDIT_ENTRY = obj(
    {
        "id": INT,
        "at": TIME,
        "actor": STR,
        "action": STR,
        "subject": OPT_STR,
        "source": {**OPT_STR, "description": "The client's address"},
        "detail": {"description": "What changed, by action; null when nothing more"},
    },
    ["id", "at", "actor", "action", "subject", "source", "detail"],
)
MATCHER = obj(
    {"name": STR, "op": {"type": "string", "enum": ["=", "!=", "=~", "!~"]}, "value": STR},
    ["name", "op", "value"],
)
WINDOW = obj(
    {
        "id": INT,
        "reason": STR,
        "author": STR,
        "matchers": {"type": "array", "items": MATCHER},
        "starts_at": TIME,
        "ends_at": OPT_TIME,
        "ended_at": {**OPT_TIME, "description": "When it was ended early or deleted"},
        "recurrence": nullable({"type": "object"}),
        "replay": BOOL,
        "state": {"type": "string", "enum": ["active", "upcoming", "ended"]},
        "next_starts_at": {**OPT_TIME, "description": "The occurrence in force, or the next one"},
        "next_ends_at": OPT_TIME,
        "created_at": TIME,
        "updated_at": TIME,
        "history": {
            "type": "array",
            "description": "The audit trail (one window only): created, extended, ended_early, deleted…",
            "items": obj({"at": TIME, "actor": STR, "action": STR, "detail": {"type": "object"}}),
        },
    },
    ["id", "reason", "author", "matchers", "starts_at", "state", "replay"],
)
HEARTBEAT = obj(
    {
        "id": INT,
        "name": STR,
        "service": STR,
        "severity": STR,
        "interval_seconds": INT,
        "grace_seconds": INT,
        "key_prefix": STR,
        "state": {"type": "string", "enum": ["up", "down"]},
        "last_beat_at": OPT_TIME,
        "expires_at": {**TIME, "description": "No beat by then (interval + grace): the monitor pages"},
        "down_alert_id": OPT_STR,
        "created_at": TIME,
        "key": {"type": "string", "description": "Only when created: shown once, stored as a hash"},
    },
    ["id", "name", "service", "state", "expires_at"],
)
ONE_TIME_PASSWORD = obj(
    {
        "user": ref("User"),
        "one_time_password": {
            "type": "string",
            "description": "Shown once; the user must set a new password after signing in with it",
        },
    },
    ["user", "one_time_password"],
)

RESPONSE_SCHEMAS = {
    "Problem": PROBLEM,
    "PagerDutyInvalid": PAGERDUTY_INVALID,
    "PagerDutySuccess": PAGERDUTY_SUCCESS,
    "Alert": ALERT,
    "AlertAnswer": ALERT_ANSWER,
    "AlertQueued": ALERT_QUEUED,
    "BatchAccepted": BATCH_ACCEPTED,
    "Integration": INTEGRATION,
    "Incident": obj(INCIDENT_FIELDS, ["id", "title", "service", "severity", "status", "created_at"]),
    "IncidentDetail": INCIDENT_DETAIL,
    "Person": PERSON,
    "ContactShown": CONTACT,
    "Shift": SHIFT,
    "Schedule": SCHEDULE,
    "EscalationPolicy": POLICY,
    "Override": OVERRIDE,
    "Notification": NOTIFICATION,
    "Attempt": ATTEMPT,
    "User": USER,
    "Principal": PRINCIPAL,
    "ApiToken": API_TOKEN,
    "CalendarFeed": CALENDAR_FEED,
    "AuditEntry": AUDIT_ENTRY,
    "MaintenanceWindow": WINDOW,
    "Heartbeat": HEARTBEAT,
}

# Request bodies the resources read without a pydantic model of their own: the senders'
# formats, checked field by field by their parsers (services/alerts/formats/*).
WEBHOOK_ALERT = obj(
    {
        "status": {"type": "string", "enum": ["firing", "resolved"]},
        "labels": {"type": "object", "additionalProperties": STR},
        "annotations": {"type": "object", "additionalProperties": STR},
        "startsAt": STR,
        "endsAt": STR,
        "generatorURL": STR,
        "fingerprint": STR,
    },
    ["labels"],
)
ALERTMANAGER_WEBHOOK = obj(
    {
        "version": STR,
        "groupKey": STR,
        "truncatedAlerts": INT,
        "status": STR,
        "receiver": STR,
        "groupLabels": {"type": "object"},
        "commonLabels": {"type": "object"},
        "commonAnnotations": {"type": "object"},
        "externalURL": STR,
        "alerts": {"type": "array", "items": WEBHOOK_ALERT},
    },
    ["alerts"],
)
PAGERDUTY_EVENT = obj(
    {
        "routing_key": {"type": "string", "maxLength": 200, "description": "An integration key"},
        "event_action": {"type": "string", "enum": ["trigger", "acknowledge", "resolve"]},
        "dedup_key": {
            "type": "string",
            "maxLength": 255,
            "description": "Required to acknowledge or resolve",
        },
        "payload": obj(
            {
                "summary": {"type": "string", "maxLength": 1024},
                "source": {"type": "string", "maxLength": 1024},
                "severity": {"type": "string", "enum": ["critical", "error", "warning", "info"]},
                "timestamp": TIME,
                "component": STR,
                "group": STR,
                "class": STR,
                "custom_details": {},
            },
            ["summary", "source", "severity"],
        ),
        "links": {"type": "array"},
        "images": {"type": "array"},
        "client": STR,
        "client_url": STR,
    },
    ["routing_key", "event_action"],
)
ESCALATE_BODY = obj({"incident_id": INT}, ["incident_id"])
ESCALATED = obj(
    {
        "incident_id": INT,
        "team": STR,
        "step": INT,
        "target": {"type": "string", "description": "Who the step pages, in short"},
        "targets": {"type": "array", "items": ref("Person")},
        "actor": STR,
    },
    ["incident_id", "team", "step", "targets"],
)
HEALTH = obj(
    {
        "service": STR,
        "status": {"type": "string", "enum": ["ok", "unavailable"]},
        "checks": {"type": "object"},
    },
    ["service", "status", "checks"],
)

ERROR_TEXT = {
    400: "Malformed JSON",
    401: "No credentials, or unknown ones",
    403: "Known credentials that may not do this",
    404: "Not found",
    409: "The current state forbids it",
    413: "The body is larger than 1 MiB",
    415: "The body is not application/json",
    422: "A field is missing or invalid; `errors` names each",
    429: "Too many requests; see Retry-After",
    503: "A service or the broker cannot be reached; see Retry-After",
}
RETRY_AFTER = {"Retry-After": {"description": "Seconds to wait", "schema": INT}}
WWW_AUTHENTICATE = {"WWW-Authenticate": {"schema": STR}}
ERROR_HEADERS = {401: WWW_AUTHENTICATE, 429: RETRY_AFTER, 503: RETRY_AFTER}

SECURITY_SCHEMES = {
    "integrationKey": {
        "type": "http",
        "scheme": "bearer",
        "description": "An integration key (klx_...); also accepted as the header X-Klaxon-Integration-Key "
        "(integrationKeyHeader) or the query parameter integration_key (integrationKeyQuery). "
        "An edge started with KLAXON_KEYLESS_INGEST accepts alerts without a key.",
    },
    "integrationKeyHeader": {"type": "apiKey", "in": "header", "name": "X-Klaxon-Integration-Key"},
    "integrationKeyQuery": {"type": "apiKey", "in": "query", "name": "integration_key"},
    "bearerToken": {"type": "http", "scheme": "bearer", "description": "An API token (klxt_...)"},
    "session": {
        "type": "apiKey",
        "in": "cookie",
        "name": "klaxon_session",
        "description": "The web UI's session; state-changing requests also send csrfToken",
    },
    "csrfToken": {"type": "apiKey", "in": "header", "name": "X-CSRF-Token"},
}
INTEGRATION_SECURITY = [{"integrationKey": []}, {"integrationKeyHeader": []}, {"integrationKeyQuery": []}]


@dataclass(frozen=True)
class Param:
    name: str
    schema: dict = field(default_factory=lambda: dict(STR))
    description: str = ""
    required: bool = False
    where: str = "query"


@dataclass(frozen=True)
class Reply:
    status: int
    description: str
    schema: object = None  # a component name, a pydantic model, a JSON schema, or None (no body)
    media: str = JSON
    example: str | None = None  # a file of tests/payloads, shipped in edge/static/docs/examples
    headers: dict | None = None  # {name: header object} the answer sets


@dataclass(frozen=True)
class Op:
    operation_id: str
    summary: str
    tag: str
    replies: tuple
    errors: tuple = ()
    body: object = None  # a pydantic model or a JSON schema
    example: str | None = None
    params: tuple = ()
    access: str = "read"  # used while the resource declares no `access` of its own
    description: str = ""
    error_text: dict = field(default_factory=dict)  # {status: what it means here}, over ERROR_TEXT
    optional: bool = False  # served only in some configurations (single sign-on)


CURSOR = Param("cursor", description="`next_cursor` of the previous page")
LIMIT = Param("limit", {"type": "integer", "minimum": 1, "maximum": MAX_LIMIT, "default": 50}, "Page size")
TEAM = Param("team", description="The team's name", required=True)
AT = Param("at", TIME, "The instant to look at (RFC 3339 with an offset); default now")
COUNT = Param("count", {"type": "integer", "minimum": 1, "maximum": 100, "default": 5}, "How many shifts")
PREFER = Param(
    "Prefer",
    {"type": "string", "enum": ["respond-async"]},
    "RFC 7240: answer 202 once queued instead of waiting for the incident",
    where="header",
)

RPC = (503,)
BODY = (400, 413, 415, 422, 503)
INGEST = (400, 413, 415, 422, 429, 503)


def _filters(*names, integers=()):
    return tuple(
        Param(name, INT if name in integers else STR, f"Only those whose {name} is this") for name in names
    )


def _pagerduty(operation_id):
    return Op(
        operation_id,
        "Send a PagerDuty Events API v2 event",
        "Ingestion",
        (
            Reply(202, "Queued", "PagerDutySuccess", example="pagerduty-events-v2-response.json"),
            Reply(
                400,
                "An invalid event, in PagerDuty's own shape (malformed JSON is a problem)",
                "PagerDutyInvalid",
            ),
        ),
        (400, 413, 415, 429, 503),
        body=PAGERDUTY_EVENT,
        example="pagerduty-events-v2-trigger.json",
        access="integration",
        description="Point a PagerDuty client at Klaxon by its base URL; routing_key is the integration key.",
    )


def _webhook(operation_id, summary, example):
    return Op(
        operation_id,
        summary,
        "Ingestion",
        (Reply(202, "Every alert of the batch is queued", "BatchAccepted"),),
        INGEST,
        body=ALERTMANAGER_WEBHOOK,
        example=example,
        access="integration",
    )


CALENDAR = Reply(200, "An iCalendar feed of the next shifts", {"type": "string"}, media="text/calendar")

SESSION_SET = {
    "Set-Cookie": {
        "description": "klaxon_session=<secret>; HttpOnly; SameSite=Lax; Path=/ (Secure behind https)",
        "schema": STR,
    }
}
REDIRECT = {"Location": {"description": "Where the browser goes next", "schema": STR}}
EMAIL = Param("email", description="The user's e-mail address", where="path")
FEED = obj({**CALENDAR_FEED["properties"], "url": STR}, [*CALENDAR_FEED["required"], "url"])

ACCESS_OPERATIONS = {
    ("/api/v1/auth/login", "POST"): Op(
        "login",
        "Sign in with an e-mail address and a password",
        "Access",
        (
            Reply(
                200,
                "Signed in; the session cookie is set",
                obj(
                    {
                        "user": ref("Principal"),
                        "csrf_token": {
                            "type": "string",
                            "description": "Send as X-CSRF-Token with the cookie",
                        },
                        "expires_at": {**TIME, "description": "When the session ends at the latest"},
                    },
                    ["user", "csrf_token", "expires_at"],
                ),
                headers=SESSION_SET,
            ),
        ),
        (*BODY, 401, 429),
        body=LoginRequest,
        access="public",
        error_text={
            401: "Wrong e-mail or password",
            429: "Too many failed sign-ins for this address or client; see Retry-After",
        },
    ),
    ("/api/v1/auth/logout", "POST"): Op(
        "logout",
        "Sign out: end this session and clear its cookie",
        "Access",
        (
            Reply(
                204,
                "Signed out",
                headers={"Set-Cookie": {"description": "Clears klaxon_session", "schema": STR}},
            ),
        ),
        RPC,
        access="self",
        description="With an API token nothing ends; revoke the token instead.",
    ),
    ("/api/v1/auth/password", "POST"): Op(
        "changePassword",
        "Change one's own password",
        "Access",
        (Reply(200, "The user, no longer asked to change it", "User"),),
        BODY,
        body=PasswordChange,
        access="self",
        error_text={403: "The current password is wrong, or the credentials may not do this"},
    ),
    ("/api/v1/auth/providers", "GET"): Op(
        "authProviders",
        "The ways to sign in this edge offers",
        "Access",
        (
            Reply(
                200,
                "Password sign-in, and whether single sign-on is configured",
                obj(
                    {
                        "password": BOOL,
                        "oidc": BOOL,
                        "oidc_login": {"type": "string", "description": "Its path"},
                    },
                    ["password", "oidc", "oidc_login"],
                ),
            ),
        ),
        access="public",
    ),
    ("/api/v1/auth/oidc/login", "GET"): Op(
        "oidcLogin",
        "Start single sign-on: off to the OpenID provider",
        "Access",
        (Reply(302, "To the provider's authorization endpoint", headers=REDIRECT),),
        access="public",
        optional=True,
        description="Served only when KLAXON_OIDC_ISSUER is set. Sets a short-lived signed cookie "
        "holding the flow's state, nonce and PKCE verifier.",
    ),
    ("/api/v1/auth/oidc/callback", "GET"): Op(
        "oidcCallback",
        "Where the OpenID provider sends the browser back",
        "Access",
        (
            Reply(
                302, "Signed in: to the UI, with the session cookie set", headers={**REDIRECT, **SESSION_SET}
            ),
        ),
        (403, 503),
        params=(
            Param("code", description="The authorization code"),
            Param("state", description="The flow's state, as sent to the provider"),
            Param("error", description="The provider's refusal, instead of a code"),
        ),
        access="public",
        optional=True,
        description="Served only when KLAXON_OIDC_ISSUER is set.",
        error_text={
            403: "The flow expired or did not start here, or the provider refused or gave no verified e-mail"
        },
    ),
    ("/api/v1/me", "GET"): Op(
        "me", "Who is signed in", "Access", (Reply(200, "The principal", "Principal"),), access="self"
    ),
    ("/api/v1/tokens", "GET"): Op(
        "listTokens",
        "One's own API tokens, revoked ones too",
        "Access",
        (Reply(200, "The tokens, without their secrets", items_of(ref("ApiToken"))),),
        RPC,
        access="self",
    ),
    ("/api/v1/tokens", "POST"): Op(
        "createToken",
        "Make an API token",
        "Access",
        (
            Reply(
                201,
                "The token, with its secret shown this once",
                {
                    "allOf": [
                        ref("ApiToken"),
                        obj({"token": {"type": "string", "description": "klxt_..."}}, ["token"]),
                    ]
                },
            ),
        ),
        (*BODY, 409),
        body=TokenRequest,
        access="self",
        error_text={
            403: "An API token cannot make API tokens (sign in), or the credentials may not do this",
            409: "expires_at is in the past",
        },
    ),
    ("/api/v1/tokens/{token_id}", "DELETE"): Op(
        "revokeToken",
        "Revoke one of one's own API tokens",
        "Access",
        (Reply(200, "The revoked token", "ApiToken"),),
        (404, 503),
        access="self",
    ),
    ("/api/v1/users", "GET"): Op(
        "listUsers", "List users", "Access", (Reply(200, "Every user", items_of(ref("User"))),), RPC
    ),
    ("/api/v1/users", "POST"): Op(
        "createUser",
        "Create a user with a one-time password",
        "Access",
        (Reply(201, "The user and its one-time password", ONE_TIME_PASSWORD),),
        (*BODY, 409),
        body=NewUser,
        error_text={409: "This e-mail already has a login"},
    ),
    ("/api/v1/users/{email}", "GET"): Op(
        "getUser", "Read a user", "Access", (Reply(200, "The user", "User"),), (404, 503), params=(EMAIL,)
    ),
    ("/api/v1/users/{email}", "PATCH"): Op(
        "updateUser",
        "Change a user's role or name, or disable them",
        "Access",
        (Reply(200, "The user", "User"),),
        (*BODY, 404, 409),
        body=UserChange,
        params=(EMAIL,),
        description="Disabling a user ends their sessions.",
        error_text={409: "The last admin cannot be demoted or disabled"},
    ),
    ("/api/v1/users/{email}/password_reset", "POST"): Op(
        "resetPassword",
        "Give a user a new one-time password",
        "Access",
        (Reply(200, "The user and its one-time password", ONE_TIME_PASSWORD),),
        (404, 503),
        params=(EMAIL,),
    ),
    ("/api/v1/audit", "GET"): Op(
        "auditLog",
        "The audit log, newest first",
        "Access",
        (Reply(200, "A page of entries", page_of(ref("AuditEntry"))),),
        (422, 503),
        params=(Param("action", description="Only entries of this action, e.g. login"), CURSOR, LIMIT),
    ),
    ("/api/v1/calendar_feeds", "GET"): Op(
        "listCalendarFeeds",
        "One's own secret calendar URLs",
        "Access",
        (Reply(200, "The feeds, without their URLs", items_of(ref("CalendarFeed"))),),
        RPC,
        access="self",
    ),
    ("/api/v1/calendar_feeds", "POST"): Op(
        "createCalendarFeed",
        "Make a secret iCalendar URL for a team or a person",
        "Access",
        (Reply(201, "The feed, with its URL shown this once", FEED),),
        (*BODY, 404),
        body=CalendarFeedRequest,
        access="self",
        error_text={404: "The team has no schedule"},
    ),
    ("/api/v1/calendar_feeds/{feed_id}", "DELETE"): Op(
        "revokeCalendarFeed",
        "Revoke one of one's own calendar URLs",
        "Access",
        (Reply(204, "Revoked"),),
        (404, 503),
        access="self",
    ),
    ("/api/v1/calendars/{secret}.ics", "GET"): Op(
        "secretCalendar",
        "The calendar behind a secret URL",
        "Access",
        (CALENDAR,),
        (404, 503),
        params=(Param("secret", description="The feed's secret", where="path"),),
        access="public",
        description="The secret in the URL is the credential; revoking the feed ends it.",
    ),
    ("/api/v1/people/{email}", "PATCH"): Op(
        "updateProfile",
        "Change a person's name, time zone or contact methods",
        "On-call",
        (Reply(200, "The person as a user", "User"),),
        (*BODY, 404),
        body=ProfileChange,
        params=(Param("email", description="The person's e-mail address", where="path"),),
        access="respond",
        description="One's own; an admin may change anyone's.",
        error_text={403: "Someone else's, and not an admin; or the credentials may not do this"},
    ),
}

BUCKET = obj(
    {"le": {**OPT_NUM, "description": "Upper bound in seconds; null: the rest"}, "count": INT},
    ["le", "count"],
)
ANALYTICS = obj(
    {
        "since": TIME,
        "until": TIME,
        "time_zone": STR,
        "opened": INT,
        "mtta_seconds": OPT_NUM,
        "mttr_seconds": OPT_NUM,
        "daily": {
            "type": "array",
            "items": obj(
                {
                    "day": {"type": "string", "format": "date"},
                    "opened": INT,
                    "acknowledged": INT,
                    "resolved": INT,
                    "mtta_seconds": OPT_NUM,
                    "mttr_seconds": OPT_NUM,
                },
                ["day", "opened", "acknowledged", "resolved", "mtta_seconds", "mttr_seconds"],
            ),
        },
        "ack_time_buckets": {"type": "array", "items": BUCKET},
        "resolve_time_buckets": {"type": "array", "items": BUCKET},
        "by_service": {"type": "array", "items": obj({"service": STR, "opened": INT}, ["service", "opened"])},
        "by_team": {"type": "array", "items": obj({"team": STR, "opened": INT}, ["team", "opened"])},
        "pages_by_person": {
            "type": "array",
            "items": obj(
                {
                    "recipient": STR,
                    "pages": INT,
                    "night_pages": {**INT, "description": "Between 22:00 and 07:00"},
                },
                ["recipient", "pages", "night_pages"],
            ),
        },
    },
    ["since", "until", "time_zone", "opened", "daily", "by_service", "by_team", "pages_by_person"],
)

CONSOLE_OPERATIONS = {
    ("/api/v1/events", "GET"): Op(
        "events",
        "A stream of the services' events, as they happen",
        "Console",
        (
            Reply(
                200,
                "Server-sent events: `id`, `event` (the kind) and `data` (the JSON of ids and kinds, "
                "never alert text); a `reset` event asks the client to refetch",
                {"type": "string"},
                media="text/event-stream",
            ),
        ),
        (503,),
        params=(
            Param(
                "Last-Event-ID",
                description="The last event's id, to get what was missed after a reconnect",
                where="header",
            ),
        ),
        description="The stream lasts as long as the credential stays good.",
    ),
    ("/api/v1/analytics", "GET"): Op(
        "analytics",
        "MTTA/MTTR per day, their distributions, incidents per service and team, pages per person",
        "Console",
        (Reply(200, "The figures of the range", ANALYTICS),),
        (422, 503),
        params=(
            Param("since", TIME, "Opened at or after (RFC 3339 with an offset); default until minus 7 days"),
            Param("until", TIME, "Opened before (RFC 3339 with an offset); default now; at most 366 days"),
            Param("time_zone", description="The IANA zone of the days; default UTC"),
            *_filters("service", "team"),
        ),
    ),
    ("/api/v1/console/config", "GET"): Op(
        "consoleConfig",
        "What the console needs to know of the edge's settings",
        "Console",
        (
            Reply(
                200,
                "Links to traces and logs, as templates",
                obj(
                    {"trace_url_template": OPT_STR, "logs_url_template": OPT_STR},
                    ["trace_url_template", "logs_url_template"],
                ),
            ),
        ),
    ),
}

QUIET_OPERATIONS = {
    ("/api/v1/maintenance_windows", "GET"): Op(
        "listMaintenanceWindows",
        "Maintenance windows: active, then upcoming",
        "Maintenance",
        (Reply(200, "The windows", items_of(ref("MaintenanceWindow"))),),
        (422, 503),
        params=(
            Param("state", STR, "active, upcoming and/or ended, comma-separated; default active,upcoming"),
        ),
    ),
    ("/api/v1/maintenance_windows", "POST"): Op(
        "createMaintenanceWindow",
        "Hold back matching alerts for a while, or on a recurrence; replay what still fires at the end",
        "Maintenance",
        (Reply(201, "The window", "MaintenanceWindow"),),
        BODY,
        body=WindowRequest,
    ),
    ("/api/v1/maintenance_windows/{window_id}", "GET"): Op(
        "getMaintenanceWindow",
        "A window and its audit trail",
        "Maintenance",
        (Reply(200, "The window", "MaintenanceWindow"),),
        (404, 503),
    ),
    ("/api/v1/maintenance_windows/{window_id}", "PATCH"): Op(
        "changeMaintenanceWindow",
        "Extend a window, end it early, or edit it",
        "Maintenance",
        (Reply(200, "The window", "MaintenanceWindow"),),
        (*BODY, 404, 409),
        body=WindowChange,
    ),
    ("/api/v1/maintenance_windows/{window_id}", "DELETE"): Op(
        "deleteMaintenanceWindow",
        "End a window now and take it off the lists (its alerts are replayed)",
        "Maintenance",
        (Reply(204, "Deleted"),),
        (404, 503),
    ),
    ("/api/v1/heartbeats", "GET"): Op(
        "listHeartbeats",
        "Heartbeat monitors, their last beat and state",
        "Maintenance",
        (Reply(200, "The monitors", items_of(ref("Heartbeat"))),),
        (503,),
    ),
    ("/api/v1/heartbeats", "POST"): Op(
        "createHeartbeat",
        "A monitor that pages when no beat comes within interval + grace",
        "Maintenance",
        (Reply(201, "The monitor, with its key shown this once", "Heartbeat"),),
        (*BODY, 409),
        body=HeartbeatRequest,
    ),
    ("/api/v1/heartbeats/{heartbeat_id}", "GET"): Op(
        "getHeartbeat",
        "A heartbeat monitor",
        "Maintenance",
        (Reply(200, "The monitor", "Heartbeat"),),
        (404, 503),
    ),
    ("/api/v1/heartbeats/{heartbeat_id}", "PATCH"): Op(
        "changeHeartbeat",
        "Change a monitor's service, interval, grace or severity",
        "Maintenance",
        (Reply(200, "The monitor", "Heartbeat"),),
        (*BODY, 404),
        body=HeartbeatChange,
    ),
    ("/api/v1/heartbeats/{heartbeat_id}", "DELETE"): Op(
        "deleteHeartbeat",
        "Delete a monitor (the incident of its silence resolves)",
        "Maintenance",
        (Reply(204, "Deleted"),),
        (404, 503),
    ),
    ("/api/v1/heartbeats/{heartbeat_id}/beat", "POST"): Op(
        "beat",
        "A beat, with the monitor's key; any body (an Alertmanager Watchdog notification counts)",
        "Ingestion",
        (Reply(200, "The monitor", "Heartbeat"),),
        (401, 503),
        access="integration",
    ),
}

OPERATIONS = {
    ("/api/v1/alerts", "POST"): Op(
        "createAlert",
        "Send an alert (Klaxon's generic format)",
        "Ingestion",
        (
            Reply(201, "Correlated: the alert's incident", "AlertAnswer"),
            Reply(202, "Queued; the incident comes later", "AlertQueued"),
        ),
        INGEST,
        body=GenericAlert,
        example="generic-alert.json",
        params=(PREFER,),
        access="integration",
    ),
    ("/api/v1/alerts", "GET"): Op(
        "listAlerts",
        "List alerts, newest first",
        "Alerts",
        (Reply(200, "A page of alerts", page_of(ref("Alert"))),),
        (422, 503),
        params=(
            *_filters(
                "service",
                "severity",
                "status",
                "incident_id",
                "dedup_key",
                "source",
                "action",
                "suppressed_by",
                integers=("incident_id", "suppressed_by"),
            ),
            CURSOR,
            LIMIT,
        ),
    ),
    ("/api/v1/alerts/{alert_id}", "GET"): Op(
        "getAlert", "Read an alert", "Alerts", (Reply(200, "The alert", "Alert"),), (404, 503)
    ),
    ("/api/v1/integrations/alertmanager", "POST"): _webhook(
        "alertmanagerWebhook", "Receive an Alertmanager webhook (v4)", "alertmanager-webhook-firing.json"
    ),
    ("/api/v1/integrations/grafana", "POST"): _webhook(
        "grafanaWebhook", "Receive a Grafana Alerting webhook", "grafana-alerting-webhook.json"
    ),
    ("/api/v1/integrations/pagerduty/v2/enqueue", "POST"): _pagerduty("pagerdutyEnqueue"),
    ("/v2/enqueue", "POST"): _pagerduty("pagerdutyEnqueueAtRoot"),
    ("/api/v1/integrations", "GET"): Op(
        "listIntegrations",
        "List integrations",
        "Integrations",
        (Reply(200, "Every integration", items_of(ref("Integration"))),),
        RPC,
    ),
    ("/api/v1/integrations", "POST"): Op(
        "createIntegration",
        "Create an integration and its key",
        "Integrations",
        (Reply(201, "The integration, with its key shown this once", "Integration"),),
        (*BODY, 409),
        body=NewIntegration,
    ),
    ("/api/v1/integrations/{integration_id}", "DELETE"): Op(
        "revokeIntegration",
        "Revoke an integration's key",
        "Integrations",
        (Reply(200, "The revoked integration", "Integration"),),
        (404, 409, 503),
    ),
    ("/api/v1/incidents", "GET"): Op(
        "listIncidents",
        "List incidents, newest first",
        "Incidents",
        (Reply(200, "A page of incidents", page_of(ref("Incident"))),),
        (422, 503),
        params=(
            *_filters("status", "severity", "service", "team", "assignee"),
            Param("since", TIME, "Opened at or after (RFC 3339)"),
            Param("until", TIME, "Opened before (RFC 3339)"),
            CURSOR,
            LIMIT,
        ),
    ),
    ("/api/v1/incidents", "POST"): Op(
        "createIncident",
        "Open an incident by hand",
        "Incidents",
        (Reply(201, "The incident with its timeline", "IncidentDetail"),),
        BODY,
        body=NewIncident,
    ),
    ("/api/v1/incidents/stats", "GET"): Op(
        "incidentStats",
        "Counts by status and mean MTTA/MTTR",
        "Incidents",
        (
            Reply(
                200,
                "The statistics",
                obj(
                    {
                        "incidents": {"type": "object", "additionalProperties": INT},
                        "mean_mtta_seconds": OPT_NUM,
                        "mean_mttr_seconds": OPT_NUM,
                    },
                    ["incidents", "mean_mtta_seconds", "mean_mttr_seconds"],
                ),
            ),
        ),
        RPC,
    ),
    ("/api/v1/incidents/{incident_id}", "GET"): Op(
        "getIncident",
        "Read an incident with its alerts and timeline",
        "Incidents",
        (Reply(200, "The incident", "IncidentDetail"),),
        (404, 503),
    ),
    ("/api/v1/incidents/{incident_id}", "PATCH"): Op(
        "updateIncident",
        "Acknowledge, resolve, reassign or annotate an incident",
        "Incidents",
        (Reply(200, "The incident with its timeline", "IncidentDetail"),),
        (*BODY, 404, 409),
        body=IncidentChange,
    ),
    ("/api/v1/incidents/{incident_id}/metrics", "GET"): Op(
        "incidentMetrics",
        "An incident's times to acknowledge and resolve",
        "Incidents",
        (
            Reply(
                200,
                "The metrics",
                obj(
                    {
                        k: INCIDENT_FIELDS[k]
                        for k in (
                            "id",
                            "status",
                            "created_at",
                            "acknowledged_at",
                            "resolved_at",
                            "mtta_seconds",
                            "mttr_seconds",
                        )
                    },
                    ["id", "status", "created_at"],
                ),
            ),
        ),
        (404, 503),
    ),
    ("/api/v1/schedules", "GET"): Op(
        "listSchedules",
        "List every team's schedule",
        "On-call",
        (Reply(200, "The schedules", items_of(ref("Schedule"))),),
        RPC,
    ),
    ("/api/v1/schedules", "POST"): Op(
        "saveSchedule",
        "Create or replace a team's schedule",
        "On-call",
        (Reply(201, "The schedule", "Schedule"),),
        BODY,
        body=ScheduleRequest,
        example="schedule.json",
    ),
    ("/api/v1/escalation_policies", "GET"): Op(
        "listEscalationPolicies",
        "List every team's escalation policy",
        "On-call",
        (Reply(200, "The policies", items_of(ref("EscalationPolicy"))),),
        RPC,
    ),
    ("/api/v1/escalation_policies", "POST"): Op(
        "saveEscalationPolicy",
        "Create or replace a team's escalation policy",
        "On-call",
        (Reply(201, "The policy", "EscalationPolicy"),),
        (*BODY, 404),
        body=PolicyRequest,
    ),
    ("/api/v1/overrides", "GET"): Op(
        "listOverrides",
        "A team's overrides that have not ended",
        "On-call",
        (Reply(200, "The overrides, in the order they start", items_of(ref("Override"))),),
        (404, 422, 503),
        params=(TEAM, Param("since", TIME, "Not ended by this instant; default now")),
    ),
    ("/api/v1/overrides", "POST"): Op(
        "addOverride",
        "Cover a layer of a team's schedule for a while",
        "On-call",
        (Reply(201, "The override", "Override"),),
        (*BODY, 404),
        body=OverrideRequest,
    ),
    ("/api/v1/overrides/{override_id}", "DELETE"): Op(
        "deleteOverride", "Delete an override", "On-call", (Reply(204, "Deleted"),), (404, 503)
    ),
    ("/api/v1/teams/{team}/oncall.ics", "GET"): Op(
        "teamCalendar", "A team's on-call calendar", "On-call", (CALENDAR,), (404, 503)
    ),
    ("/api/v1/people/{email}/oncall.ics", "GET"): Op(
        "personCalendar", "A person's on-call calendar", "On-call", (CALENDAR,), (404, 503)
    ),
    ("/api/v1/people/{email}", "GET"): Op(
        "getPerson",
        "A person, their contact methods and rotations",
        "On-call",
        (
            Reply(
                200,
                "The person",
                {
                    "allOf": [
                        PROFILE,
                        obj({"rotations": {"type": "array", "items": obj({"team": STR, "layer": STR})}}),
                    ]
                },
            ),
        ),
        (404, 503),
    ),
    ("/api/v1/people/{email}/upcoming", "GET"): Op(
        "personUpcoming",
        "A person's next shifts in every team",
        "On-call",
        (
            Reply(
                200,
                "The shifts, in time order",
                items_of({"allOf": [ref("Shift"), obj({"team": STR, "layer": STR})]}),
            ),
        ),
        (404, 422, 503),
        params=(AT, COUNT),
    ),
    ("/api/v1/oncall/current", "GET"): Op(
        "oncallCurrent",
        "Who is on call for a team",
        "On-call",
        (
            Reply(
                200,
                "The primary and secondary on call (null when nobody is)",
                obj(
                    {
                        "team": STR,
                        "at": TIME,
                        "primary": nullable(ref("Person")),
                        "secondary": nullable(ref("Person")),
                    },
                    ["team", "primary", "secondary"],
                ),
                example="oncall-current-response.json",
            ),
        ),
        (404, 422, 503),
        params=(TEAM, AT),
    ),
    ("/api/v1/oncall/upcoming", "GET"): Op(
        "oncallUpcoming",
        "A team's next shifts, by layer",
        "On-call",
        (
            Reply(
                200,
                "The shifts of each layer",
                obj(
                    {
                        "primary": {"type": "array", "items": ref("Shift")},
                        "secondary": {"type": "array", "items": ref("Shift")},
                    },
                    ["primary", "secondary"],
                ),
            ),
        ),
        (404, 422, 503),
        params=(TEAM, AT, COUNT),
    ),
    ("/api/v1/escalate", "POST"): Op(
        "escalate",
        "Take an incident's next escalation step now",
        "On-call",
        (Reply(200, "Who was paged", ESCALATED),),
        (*BODY, 404, 409),
        body=ESCALATE_BODY,
    ),
    ("/api/v1/notify", "POST"): Op(
        "notify",
        "Send a notification",
        "Notifications",
        (Reply(201, "The notification as delivered, scheduled or held", "Notification"),),
        BODY,
        body=NotifyRequest,
    ),
    ("/api/v1/notifications", "GET"): Op(
        "listNotifications",
        "List notifications, newest first",
        "Notifications",
        (Reply(200, "A page of notifications", page_of(ref("Notification"))),),
        (422, 503),
        params=(
            *_filters("incident_id", "recipient", "channel", "status", integers=("incident_id",)),
            CURSOR,
            LIMIT,
        ),
    ),
    ("/api/v1/notifications/{notification_id}/attempts", "GET"): Op(
        "notificationAttempts",
        "A notification's delivery attempts",
        "Notifications",
        (Reply(200, "The attempts, in order", items_of(ref("Attempt"))),),
        RPC,
    ),
    ("/api/v1/ack/{token}", "GET"): Op(
        "previewAcknowledgeLink",
        "What the link in a page would acknowledge, and as whom, without using it",
        "Notifications",
        (
            Reply(
                200,
                "The link's incident and recipient, and whether it was used (browsers: a page, a button)",
                obj(
                    {"incident_id": INT, "recipient": STR, "used": BOOL, "title": OPT_STR, "status": OPT_STR},
                    ["incident_id", "recipient", "used"],
                ),
            ),
        ),
        (403, 503),
        params=(Param("token", description="The signed token of the link", where="path"),),
        access="public",
        description="Opening a link changes nothing: mail scanners and chat unfurlers cannot acknowledge.",
    ),
    ("/api/v1/ack/{token}", "POST"): Op(
        "acknowledgeLink",
        "Acknowledge an incident from the link in a page",
        "Notifications",
        (
            Reply(
                200,
                "The incident's status now",
                obj({"incident_id": INT, "status": STR, "by": STR}, ["incident_id", "status", "by"]),
            ),
        ),
        (403, 404, 409, 503),
        params=(Param("token", description="The signed token of the link", where="path"),),
        access="public",
        description="The token itself is the credential: it is signed, expires and works once.",
    ),
    ("/health", "GET"): Op(
        "health",
        "Whether the edge can reach the broker",
        "System",
        (Reply(200, "Healthy", HEALTH), Reply(503, "The broker cannot be reached", HEALTH)),
        access="public",
    ),
    ("/metrics", "GET"): Op(
        "metrics",
        "Prometheus metrics",
        "System",
        (Reply(200, "The metrics, in Prometheus' text format", {"type": "string"}, media="text/plain"),),
        access="public",
    ),
    ("/", "GET"): Op(
        "index",
        "The web UI",
        "System",
        (Reply(200, "The UI's page", {"type": "string"}, media="text/html"),),
        access="public",
    ),
    ("/api/v1/openapi.json", "GET"): Op(
        "openapi",
        "This document",
        "System",
        (Reply(200, "The OpenAPI 3.1 document", {"type": "object"}),),
        access="public",
    ),
    ("/docs", "GET"): Op(
        "docs",
        "The API reference, rendered from this document",
        "System",
        (Reply(200, "The reference's page", {"type": "string"}, media="text/html"),),
        access="public",
    ),
    **ACCESS_OPERATIONS,
    **CONSOLE_OPERATIONS,
    **QUIET_OPERATIONS,
}

TAGS = [
    {
        "name": "Ingestion",
        "description": "Where monitoring systems send alerts; authenticated by integration keys",
    },
    {"name": "Alerts", "description": "The alert store"},
    {"name": "Incidents", "description": "Incidents, their timelines and metrics"},
    {"name": "On-call", "description": "Schedules, overrides, escalation policies and who is on call"},
    {"name": "Notifications", "description": "Pages sent and their delivery attempts"},
    {
        "name": "Maintenance",
        "description": "Maintenance windows that hold alerts back, and heartbeat monitors",
    },
    {"name": "Integrations", "description": "The keys monitoring systems send"},
    {
        "name": "Access",
        "description": "Signing in, sessions, API tokens, users, calendar URLs and the audit log",
    },
    {"name": "Console", "description": "What the web console charts and streams"},
    {"name": "System", "description": "Health, metrics, the UI and this reference"},
]
DESCRIPTION = """Alerts in, incidents out, the right person paged. Errors are RFC 9457 \
problem+json (`Problem`), except PagerDuty's own 400 on its events endpoints.

**Signing in.** Scripts send an API token (`klxt_...`, made with `POST /api/v1/tokens` or \
`klaxon token create`) as `Authorization: Bearer <token>` (bearerToken). People sign in with \
`POST /api/v1/auth/login` (or single sign-on, when configured): it sets the `klaxon_session` \
cookie (HttpOnly, SameSite=Lax; the session scheme) and answers a `csrf_token`. A request made \
with that cookie that changes anything (POST, PUT, PATCH, DELETE) must also send the token as \
the `X-CSRF-Token` header (csrfToken), or it is refused with 403. Whoever is signed in is the \
actor the timelines and the audit log record. Monitoring systems send alerts with an \
integration key instead. Each operation's `x-klaxon-permission` names what it asks for: \
public, integration, self (anyone signed in, on their own account), read (viewer and above), \
respond (responder and above), manage_team or admin."""

FIELD = re.compile(r"\{(\w+)(?::(\w+)(?:\([^)]*\))?)?\}")
CONVERTERS = {
    "int": {"type": "integer"},
    "id": {"type": "integer", "minimum": 0, "maximum": 2**63 - 1},
    "float": {"type": "number"},
    "uuid": {"type": "string", "format": "uuid"},
    "dt": {"type": "string"},
}


def openapi_path(template):
    """A falcon URI template as an OpenAPI path, and its path fields {name: schema}."""
    fields = {name: dict(CONVERTERS.get(kind, STR)) for name, kind in FIELD.findall(template)}
    return FIELD.sub(r"{\1}", template), fields


def responders(resource):
    return {method for method in METHODS if callable(getattr(resource, f"on_{method.lower()}", None))}


def access_of(resource, method, op):
    declared = getattr(resource, "access", None) or {}
    return declared.get(method, op.access)


class Components:
    """components.schemas: the response schemas, and each pydantic model with its $defs hoisted."""

    def __init__(self):
        self.schemas = copy.deepcopy(RESPONSE_SCHEMAS)

    def schema(self, value):
        if value is None:
            return None
        if isinstance(value, str):
            return ref(value)
        if isinstance(value, type) and issubclass(value, BaseModel):
            return self.model(value)
        return value

    def model(self, model):
        schema = model.model_json_schema(ref_template=REF)
        for name, definition in schema.pop("$defs", {}).items():
            self._add(name, definition)
        self._add(model.__name__, schema)
        return ref(model.__name__)

    def _add(self, name, schema):
        if self.schemas.setdefault(name, schema) != schema:
            raise DocumentError(f"two different schemas are named {name}")


def example(name):
    return json.loads((EXAMPLES / name).read_text()) if name else None


def content(components, media, schema, example_file=None):
    body = {"schema": components.schema(schema)}
    if example_file:
        body["example"] = example(example_file)
    return {media: body}


def reply_object(components, reply):
    answer = {"description": reply.description}
    if reply.schema is not None:
        answer["content"] = content(components, reply.media, reply.schema, reply.example)
    if reply.headers:
        answer["headers"] = reply.headers
    return answer


def error_response(status, text=None):
    answer = {
        "description": text or ERROR_TEXT[status],
        "content": {PROBLEM_TYPE: {"schema": ref("Problem")}},
    }
    if status in ERROR_HEADERS:
        answer["headers"] = ERROR_HEADERS[status]
    return answer


def security_of(access, method):
    """(security requirement, the errors it adds) of a permission."""
    if access == "public":
        return [], ()
    if access == "integration":
        return INTEGRATION_SECURITY, (401, 403)
    session = {"session": [], "csrfToken": []} if method in STATE_CHANGING else {"session": []}
    return [{"bearerToken": []}, session], (401, 403)


def responses(components, op, auth_errors):
    answers = {}
    for reply in op.replies:
        answer = answers.setdefault(str(reply.status), {"description": reply.description, "content": {}})
        shown = reply_object(components, reply)
        answer["content"].update(shown.get("content", {}))
        if "headers" in shown:
            answer["headers"] = {**answer.get("headers", {}), **shown["headers"]}
    for status in sorted({*op.errors, *auth_errors}):
        problem = error_response(status, op.error_text.get(status))
        if str(status) in answers:  # another shape too (PagerDuty's 400): list both
            answers[str(status)]["content"].update(problem["content"])
        else:
            answers[str(status)] = problem
    for answer in answers.values():
        if not answer.get("content"):
            answer.pop("content", None)
    return answers


def parameters(op, path_fields):
    described = {(p.where, p.name): p for p in op.params}
    found = []
    for name, schema in path_fields.items():
        param = described.pop(("path", name), None)
        found.append(
            {
                "name": name,
                "in": "path",
                "required": True,
                "schema": schema,
                "description": param.description if param else "",
            }
        )
    for param in described.values():
        found.append(
            {
                "name": param.name,
                "in": param.where,
                "required": param.required,
                "schema": param.schema,
                "description": param.description,
            }
        )
    return found


def request_body(components, op):
    if op.body is None:
        return None
    return {"required": True, "content": content(components, JSON, op.body, op.example)}


def operation(components, op, method, access, path_fields):
    security, auth_errors = security_of(access, method)
    body = {
        "operationId": op.operation_id,
        "summary": op.summary,
        "tags": [op.tag],
        "security": security,
        "x-klaxon-permission": access,
        "parameters": parameters(op, path_fields),
        "responses": responses(components, op, auth_errors),
    }
    if op.description:
        body["description"] = op.description
    request = request_body(components, op)
    if request:
        body["requestBody"] = request
    return body


def path_item(components, path, resource, path_fields):
    item = {}
    for method in sorted(responders(resource)):
        op = OPERATIONS.get((path, method))
        if op is None:
            raise DocumentError(f"{method} {path} is served but not described in edge.openapi.OPERATIONS")
        item[method.lower()] = operation(components, op, method, access_of(resource, method, op), path_fields)
    return item


def check_described(served):
    """Every (path, method) of the table is served, unless it is optional."""
    for (path, method), op in OPERATIONS.items():
        if (path, method) not in served and not op.optional:
            raise DocumentError(f"edge.openapi.OPERATIONS describes {method} {path}, which no route serves")


def build_document(routes):
    """The OpenAPI 3.1 document of `routes`: {falcon URI template: resource}."""
    components, paths, served = Components(), {}, set()
    for template, resource in routes.items():
        path, path_fields = openapi_path(template)
        paths[path] = path_item(components, path, resource, path_fields)
        served |= {(path, method.upper()) for method in paths[path]}
    check_described(served)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "Klaxon API",
            "version": "1",
            "description": DESCRIPTION,
        },
        "tags": TAGS,
        "paths": dict(sorted(paths.items())),
        "components": {"schemas": components.schemas, "securitySchemes": SECURITY_SCHEMES},
    }
