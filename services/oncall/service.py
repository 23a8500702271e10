"""The on-call service: schedules, who is on call, routing and escalation."""

import contextlib
import datetime as dt

import eventlet
from nameko.dependency_providers import Config
from werkzeug.wrappers import Response

from services.incidents import contracts as incident_contracts
from services.oncall import contracts as c
from services.oncall import engine, ical, paging
from services.oncall.access_service import AccessEntrypoints
from services.oncall.accounts_store import AccountStore
from services.oncall.migrations import MIGRATIONS
from services.oncall.models import db
from services.oncall.policy import parse_policy
from services.oncall.requests import parse_override, parse_schedule
from services.oncall.store import OncallStore
from services.shared.access import ADMIN, MANAGE_TEAM, READ, RESPOND, require_team_manager
from services.shared.clock import Clock
from services.shared.errors import Forbidden, invalid
from services.shared.http_api import ID, actor, json_api, json_body, principal
from services.shared.messaging import handles
from services.shared.rpc import RpcProxy, rpc
from services.shared.storage import SiblingStore, Storage
from services.shared.ticker import every
from services.shared.tracing import EventDispatcher, Tracing
from services.shared.validation import count_param, required_id
from services.shared.web import HealthAndMetrics, HttpMetrics, http

INCIDENTS = incident_contracts.SERVICE
# An incident's status -> its escalation's state.
ESCALATION_STATE = {
    "open": "active",
    "acknowledged": "acknowledged",
    "in_progress": "acknowledged",
    "resolved": "resolved",
}
STATUS_TIMEOUT_SECONDS = 2.0


class OncallService(HealthAndMetrics, AccessEntrypoints):
    name = c.SERVICE

    store = Storage(db, MIGRATIONS, OncallStore)
    accounts = SiblingStore(AccountStore)
    config = Config()
    tracing = Tracing()
    http_metrics = HttpMetrics()
    clock = Clock()
    incidents = RpcProxy(INCIDENTS)
    dispatch = EventDispatcher()

    @rpc
    def create_schedule(self, payload, principal=None):
        """Create or replace a team's schedule; `principal` None is an operator's own tool."""
        request = parse_schedule(payload)
        if principal is not None:
            self._may_edit_team(principal, request.team, request.managers)
        by_admin = principal is None or principal["role"] == ADMIN
        return self.store.save_schedule(request, self.clock.now(), by_admin)

    def _may_edit_team(self, principal, team, managers=None):
        current = self.store.managers_of(team)
        if current is None and principal["role"] != ADMIN:
            raise Forbidden(f"only an admin may create team {team}")
        require_team_manager(principal, team)
        if managers is not None and sorted(set(managers)) != current and principal["role"] != ADMIN:
            raise Forbidden("only an admin may change a team's managers")

    @rpc
    def list_schedules(self):
        return self.store.schedules()

    @rpc
    def current(self, team, at=None):
        return self.store.current(team, parse_instant(at) or self.clock.now())

    @rpc
    def upcoming(self, team, at=None, count=5):
        return self.store.upcoming(team, parse_instant(at) or self.clock.now(), int(count))

    @rpc
    def save_policy(self, payload, principal=None):
        request = parse_policy(payload)
        if principal is not None:
            self._may_edit_team(principal, request.team)
        return self.store.save_policy(request, self.clock.now())

    @rpc
    def list_policies(self):
        return self.store.policies()

    @rpc
    def add_override(self, payload):
        return self.store.add_override(parse_override(payload), self.clock.now())

    @rpc
    def list_overrides(self, team, since=None):
        return self.store.overrides(team, parse_instant(since) or self.clock.now())

    @rpc
    def delete_override(self, override_id):
        self.store.delete_override(override_id)

    @every("ESCALATION_TICK_SECONDS", 1.0)
    def tick(self):
        engine.tick(self.store, self.dispatch, self.clock.now())

    @rpc
    def teams_of_services(self, services):
        """{service: team} of the catalog, for the services named (maintenance windows match on team)."""
        return {service: self.store.team_for_service(service) for service in services}

    @rpc
    def get_person(self, email, viewer=None):
        """A person; the addresses of their webhook and Slack methods in full only to
        themself and to admins."""
        reveal = viewer is not None and (viewer["email"] == email or viewer["role"] == "admin")
        return self.store.person(email, reveal)

    @rpc
    def person_upcoming(self, email, at=None, count=5):
        return self.store.person_shifts(email, parse_instant(at) or self.clock.now(), int(count))

    @rpc
    def calendar(self, team=None, email=None):
        """The iCalendar feed of a team's or a person's next shifts (about two months)."""
        now = self.clock.now()
        if email:
            return ical.calendar(
                f"On call: {email}", self.store.person_shifts(email, now, CALENDAR_SHIFTS), now
            )
        return ical.calendar(f"On call: {team}", self.store.team_shifts(team, now, CALENDAR_SHIFTS), now)

    @rpc
    def escalate(self, incident_id, actor="api"):
        incident = self.incidents.get_incident(incident_id)
        return paging.escalate(self.store, self.dispatch, incident, actor, self.clock.now())

    @handles(INCIDENTS, incident_contracts.INCIDENT_OPENED)
    def on_incident_opened(self, incident):
        paging.route_incident(
            self.store,
            self.dispatch,
            incident,
            self.clock.now(),
            default_team=self.config.get("DEFAULT_TEAM"),
        )

    @handles(INCIDENTS, incident_contracts.INCIDENT_ACKNOWLEDGED)
    def on_incident_acknowledged(self, event):
        self._settle(event["incident_id"], "acknowledged")

    @handles(INCIDENTS, incident_contracts.INCIDENT_RESOLVED)
    def on_incident_resolved(self, event):
        self._settle(event["incident_id"], "resolved")

    @handles(INCIDENTS, incident_contracts.INCIDENT_REOPENED)
    def on_incident_reopened(self, event):
        self._settle(event["incident_id"], "active")

    def _settle(self, incident_id, told):
        """The escalation follows the incident's status as it is now, not as the event
        told it: one incident's events can arrive out of order (handlers run at once, a
        failed one is retried later), and a resolve applied after the reopen that followed
        it would leave an open incident that escalates to nobody. Without an answer in
        time, the event's word stands."""

        def state_now():
            with contextlib.suppress(Exception), eventlet.Timeout(STATUS_TIMEOUT_SECONDS, False):
                return ESCALATION_STATE[self.incidents.incident_summary(incident_id)["status"]]
            return told

        self.store.settle_escalation(incident_id, state_now, self.clock.now())

    # -- this service's own port: the same API as the edge's (SPEC §7) ----------------
    @http("GET", "/api/v1/schedules")
    @json_api(READ)
    def http_list_schedules(self, request):
        return 200, {"items": self.list_schedules()}

    @http("POST", "/api/v1/schedules")
    @json_api(MANAGE_TEAM)
    def http_create_schedule(self, request):
        return 201, self.create_schedule(json_body(request), principal(request))

    @http("GET", "/api/v1/oncall/current")
    @json_api(READ)
    def http_current(self, request):
        return 200, self.current(required(request, "team"), request.args.get("at"))

    @http("GET", "/api/v1/oncall/upcoming")
    @json_api(READ)
    def http_upcoming(self, request):
        return 200, self.upcoming(required(request, "team"), request.args.get("at"), upcoming_count(request))

    @http("GET", "/api/v1/people/<email>")
    @json_api(READ)
    def http_get_person(self, request, email):
        return 200, self.get_person(email, principal(request))

    @http("PATCH", "/api/v1/people/<email>")
    @json_api(RESPOND)
    def http_update_profile(self, request, email):
        return 200, self.update_profile(principal(request), email, json_body(request))

    @http("GET", "/api/v1/people/<email>/upcoming")
    @json_api(READ)
    def http_person_upcoming(self, request, email):
        return 200, {"items": self.person_upcoming(email, request.args.get("at"), upcoming_count(request))}

    @http("GET", "/api/v1/teams/<team>/oncall.ics")
    @json_api(READ)
    def http_team_calendar(self, request, team):
        return 200, calendar_response(self.calendar(team=team))

    @http("GET", "/api/v1/people/<email>/oncall.ics")
    @json_api(READ)
    def http_person_calendar(self, request, email):
        return 200, calendar_response(self.calendar(email=email))

    @http("GET", "/api/v1/escalation_policies")
    @json_api(READ)
    def http_list_policies(self, request):
        return 200, {"items": self.list_policies()}

    @http("POST", "/api/v1/escalation_policies")
    @json_api(MANAGE_TEAM)
    def http_save_policy(self, request):
        return 201, self.save_policy(json_body(request), principal(request))

    @http("GET", "/api/v1/overrides")
    @json_api(READ)
    def http_list_overrides(self, request):
        return 200, {"items": self.list_overrides(required(request, "team"), request.args.get("since"))}

    @http("POST", "/api/v1/overrides")
    @json_api(RESPOND)
    def http_add_override(self, request):
        return 201, self.add_override(json_body(request))

    @http("DELETE", f"/api/v1/overrides/<{ID}:override_id>")
    @json_api(RESPOND)
    def http_delete_override(self, request, override_id):
        self.delete_override(override_id)
        return 204, None

    @http("POST", "/api/v1/escalate")
    @json_api(RESPOND)
    def http_escalate(self, request):
        return 200, self.escalate(required_id(json_body(request), "incident_id"), actor(request))


CALENDAR_SHIFTS = 60


def calendar_response(text):
    return Response(text, mimetype="text/calendar", content_type="text/calendar; charset=utf-8")


def upcoming_count(request):
    return count_param(request.args.get("count"))


def required(request, name):
    value = request.args.get(name)
    if not value:
        raise invalid(name, "is required (a query parameter)")
    return value


def parse_instant(value):
    if value in (None, ""):
        return None
    try:
        instant = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    except (AttributeError, ValueError):
        raise invalid("at", "must be an RFC 3339 instant, e.g. 2026-11-25T09:00:00Z") from None
    if instant.tzinfo is None:
        raise invalid("at", "needs a time zone offset, e.g. 2026-11-25T09:00:00Z")
    return instant
