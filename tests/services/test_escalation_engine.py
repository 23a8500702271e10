"""The escalation engine on real SQLite and PostgreSQL, with a clock the test moves."""

import datetime as dt
from types import SimpleNamespace

import pytest
from nameko.testing.services import worker_factory

from services.oncall import contracts as c
from services.oncall import engine, paging
from services.oncall.models import Escalation
from services.oncall.policy import parse_policy
from services.oncall.requests import parse_schedule
from services.oncall.service import OncallService
from services.oncall.store import OncallStore
from services.shared.errors import Conflict, NotFound, ValidationFailed

UTC = dt.UTC
T0 = dt.datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
TEAM = "payments"
MEMBERS = [
    {"name": "Alice", "email": "alice@example.com", "role": "primary"},
    {"name": "Carol", "email": "carol@example.com", "role": "secondary"},
]
TWO_STEPS = [
    {"delay_minutes": 5, "targets": [{"type": "layer", "layer": "primary"}]},
    {"delay_minutes": 5, "targets": [{"type": "layer", "layer": "secondary"}]},
]


class Recorder:
    """Stands in for the EventDispatcher and the incidents RPC proxy; keeps what it got."""

    def __init__(self):
        self.events = []

    def __call__(self, event_type, payload):
        self.events.append((event_type, payload))

    def pages(self):
        return [
            (p["incident_id"], p["step"], p["recipient"])
            for kind, p in self.events
            if kind == c.NOTIFICATION_REQUESTED
        ]

    def escalations(self):
        return [p for kind, p in self.events if kind == c.INCIDENT_ESCALATED]

    def routings(self):
        return [p for kind, p in self.events if kind == c.INCIDENT_ROUTED]


@pytest.fixture
def store(bound):
    db = bound("oncall")
    with db.connection_context():
        oncall = OncallStore(db, {})
        oncall.save_schedule(
            parse_schedule(
                {"team": TEAM, "rotation_type": "weekly", "members": MEMBERS, "services": ["ledger"]}
            ),
            T0,
        )
        yield oncall


@pytest.fixture
def recorder():
    return Recorder()


def open_incident(store, recorder, incident_id, at=T0):
    incident = {"id": incident_id, "service": "ledger", "severity": "high", "title": "ledger lag"}
    return paging.route_incident(store, recorder, incident, at)


def minutes(n):
    return T0 + dt.timedelta(minutes=n)


def test_routing_pages_step_zero_and_the_engine_the_next_step_when_its_delay_runs_out(store, recorder):
    store.save_policy(parse_policy({"team": TEAM, "steps": TWO_STEPS}), T0)
    open_incident(store, recorder, 1)
    assert recorder.pages() == [(1, 0, "alice@example.com")]

    assert engine.tick(store, recorder, minutes(4)) == 0
    assert engine.tick(store, recorder, minutes(5)) == 1
    assert recorder.pages()[1:] == [(1, 1, "carol@example.com")]
    [escalated] = recorder.escalations()
    assert (escalated["step"], escalated["target"], escalated["actor"]) == (1, "secondary", engine.ACTOR)

    assert engine.tick(store, recorder, minutes(60)) == 0, "the last step has no next one"
    assert Escalation.get_by_id(1).next_at is None


def test_acknowledging_cancels_the_steps_left_and_reopening_resumes_them(store, recorder):
    store.save_policy(parse_policy({"team": TEAM, "steps": TWO_STEPS}), T0)
    open_incident(store, recorder, 1)
    store.settle_escalation(1, "acknowledged", minutes(1))
    assert engine.tick(store, recorder, minutes(30)) == 0
    store.settle_escalation(1, "active", minutes(31))
    assert engine.tick(store, recorder, minutes(31)) == 1
    assert recorder.pages()[-1] == (1, 1, "carol@example.com")


def test_a_repeated_policy_runs_its_steps_again(store, recorder):
    store.save_policy(parse_policy({"team": TEAM, "steps": TWO_STEPS, "repeat": 1}), T0)
    open_incident(store, recorder, 1)
    for minute in (5, 10, 15, 20, 25):
        engine.tick(store, recorder, minutes(minute))
    assert [step for _, step, _ in recorder.pages()] == [0, 1, 2, 3]
    assert [who for _, _, who in recorder.pages()] == ["alice@example.com", "carol@example.com"] * 2


def test_targets_a_person_and_the_whole_team_each_paged_once(store, recorder):
    steps = [
        {"delay_minutes": 1, "targets": [{"type": "person", "email": "carol@example.com"}]},
        {"delay_minutes": 1, "targets": [{"type": "team"}, {"type": "layer", "layer": "primary"}]},
    ]
    store.save_policy(parse_policy({"team": TEAM, "steps": steps}), T0)
    open_incident(store, recorder, 1)
    engine.tick(store, recorder, minutes(1))
    assert sorted(recorder.pages()) == [
        (1, 0, "carol@example.com"),
        (1, 1, "alice@example.com"),
        (1, 1, "carol@example.com"),
    ]


def test_an_engine_back_after_an_outage_fires_each_overdue_step_once(store, recorder):
    store.save_policy(parse_policy({"team": TEAM, "steps": TWO_STEPS * 2}), T0)
    for incident_id in range(1, 6):
        open_incident(store, recorder, incident_id)
    # Down for an hour: the overdue step fires once, and the next one gets its full delay,
    # so nobody is paged three times in one instant.
    fired = [engine.tick(store, recorder, minutes(m)) for m in (60, 60, 64, 65, 70, 75)]
    assert fired == [5, 0, 0, 5, 5, 0]
    assert len(recorder.pages()) == len(set(recorder.pages())) == 5 * 4


def test_an_escalation_keeps_the_policy_it_started_with(store, recorder):
    store.save_policy(parse_policy({"team": TEAM, "steps": TWO_STEPS}), T0)
    open_incident(store, recorder, 1)
    store.save_policy(parse_policy({"team": TEAM, "steps": TWO_STEPS[:1]}), minutes(1))
    assert engine.tick(store, recorder, minutes(5)) == 1


def test_manual_escalation_walks_the_plan_and_moves_the_next_due_step(store, recorder):
    store.save_policy(parse_policy({"team": TEAM, "steps": TWO_STEPS * 2}), T0)
    open_incident(store, recorder, 1)
    escalated = paging.escalate(store, recorder, {"id": 1}, "ops", minutes(1))
    assert (escalated["step"], escalated["actor"]) == (1, "ops")
    assert Escalation.get_by_id(1).next_at == minutes(6)
    assert engine.tick(store, recorder, minutes(5)) == 0
    assert engine.tick(store, recorder, minutes(6)) == 1


def test_the_default_policy_is_primary_secondary_team_fifteen_minutes_apart(store, recorder):
    assert store.policy(TEAM)["default"] is True
    open_incident(store, recorder, 1)
    engine.tick(store, recorder, minutes(15))
    engine.tick(store, recorder, minutes(30))
    assert [step for _, step, _ in recorder.pages()] == [0, 1, 2, 2]
    with pytest.raises(Conflict):
        store.advance_escalation(1, minutes(31))


def test_saving_a_policy_again_replaces_it(store):
    store.save_policy(parse_policy({"team": TEAM, "name": "first", "steps": TWO_STEPS}), T0)
    saved = store.save_policy(parse_policy({"team": TEAM, "steps": TWO_STEPS[:1], "repeat": 2}), minutes(1))
    assert (saved["name"], saved["repeat"], len(saved["steps"]), saved["default"]) == (
        "payments escalation",
        2,
        1,
        False,
    )
    assert [p["team"] for p in store.policies()] == [TEAM]


def test_a_policy_for_an_unknown_team_is_not_found(store):
    with pytest.raises(NotFound):
        store.save_policy(parse_policy({"team": "nobody", "steps": TWO_STEPS}), T0)


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"team": TEAM, "steps": []}, "steps"),
        ({"team": TEAM}, "steps"),
        ({"team": TEAM, "steps": [{"delay_minutes": 5, "targets": []}]}, "steps.0.targets"),
        (
            {"team": TEAM, "steps": [{"delay_minutes": 0, "targets": [{"type": "team"}]}]},
            "steps.0.delay_minutes",
        ),
        ({"team": TEAM, "steps": [{"targets": [{"type": "person"}]}]}, "steps.0.targets.0"),
        (
            {"team": TEAM, "steps": [{"targets": [{"type": "layer", "layer": "tertiary"}]}]},
            "steps.0.targets.0.layer",
        ),
        ({"team": TEAM, "steps": [{"targets": [{"type": "robot"}]}]}, "steps.0.targets.0.type"),
        ({"team": TEAM, "steps": TWO_STEPS, "repeat": -1}, "repeat"),
    ],
)
def test_bad_policies_are_refused_naming_the_field(payload, field):
    with pytest.raises(ValidationFailed) as refused:
        parse_policy(payload)
    assert field in [error["field"] for error in refused.value.errors], refused.value.errors


def test_an_unknown_service_goes_to_the_default_team_and_the_incident_says_so(store, recorder):
    incident = {"id": 7, "service": "not-in-the-catalog", "severity": "low", "title": "odd"}
    escalation = paging.route_incident(store, recorder, incident, T0, default_team=TEAM)
    assert escalation.team == TEAM
    [routed] = recorder.routings()
    assert (routed["incident_id"], routed["team"], routed["assignee"]) == (7, TEAM, "Alice")
    [note] = routed["timeline"]
    assert (note["kind"], note["ref"]) == ("note", "route-default")
    assert "default team" in note["detail"]["note"] and "not-in-the-catalog" in note["detail"]["note"]
    assert recorder.pages() == [(7, 0, "alice@example.com")]


def test_a_known_service_is_routed_without_a_note(store, recorder):
    incident = {"id": 8, "service": "ledger", "severity": "low", "title": "lag"}
    paging.route_incident(store, recorder, incident, T0, default_team="someone-else")
    [routed] = recorder.routings()
    assert routed["timeline"] == [] and routed["team"] == TEAM


def test_the_routing_is_announced_before_the_page_which_carries_the_incident(store, recorder):
    incident = {"id": 9, "service": "ledger", "severity": "high", "title": "lag", "created_at": "x"}
    paging.route_incident(store, recorder, incident, T0)
    kinds = [kind for kind, _ in recorder.events]
    assert kinds[0] == c.INCIDENT_ROUTED and c.NOTIFICATION_REQUESTED in kinds[1:]
    [page] = [p for kind, p in recorder.events if kind == c.NOTIFICATION_REQUESTED]
    assert page["incident"] == {
        "id": 9,
        "title": "lag",
        "service": "ledger",
        "severity": "high",
        "status": "open",
        "assignee": "Alice",
    }


def test_an_incident_nobody_answers_for_is_announced_unrouted(store, recorder):
    incident = {"id": 10, "service": "not-in-the-catalog", "severity": "low", "title": "odd"}
    assert paging.route_incident(store, recorder, incident, T0) is None
    [routed] = recorder.routings()
    assert (routed["team"], routed["assignee"]) == (None, None)
    assert [(n["kind"], n["ref"]) for n in routed["timeline"]] == [("unrouted", "route")]
    assert recorder.pages() == []


def test_pages_go_to_every_contact_method_with_its_delay(store, recorder):
    members = [
        {
            "name": "Alice",
            "email": "alice@example.com",
            "role": "primary",
            "contact_methods": [
                {"type": "email"},
                {"type": "slack", "address": "https://hooks.slack.example/T/B/x", "delay_minutes": 2},
            ],
        },
        {"name": "Carol", "email": "carol@example.com", "role": "secondary"},
    ]
    store.save_schedule(parse_schedule({"team": TEAM, "rotation_type": "weekly", "members": members}), T0)
    open_incident(store, recorder, 1)
    requests = [p for kind, p in recorder.events if kind == c.NOTIFICATION_REQUESTED]
    assert [(r["channel"], r["address"], r["delay_minutes"]) for r in requests] == [
        ("email", "alice@example.com", 0),
        ("slack", "https://hooks.slack.example/T/B/x", 2),
    ]


class IncidentNow:
    """The incidents service as the on-call service asks it: the status as it is now."""

    def __init__(self, status):
        self.status = status

    def incident_summary(self, incident_id):
        if self.status is None:
            raise RuntimeError("RemoteError: the incidents service is down")
        return {"id": incident_id, "status": self.status}


def oncall_worker(store, status):
    clock = SimpleNamespace(now=lambda: minutes(2))
    return worker_factory(OncallService, store=store, incidents=IncidentNow(status), clock=clock)


def test_events_applied_out_of_order_leave_the_escalation_as_the_incident_is_now(store, recorder):
    store.save_policy(parse_policy({"team": TEAM, "steps": TWO_STEPS}), T0)
    open_incident(store, recorder, 1)
    # Resolved, then reopened: the reopen's event is handled first, the resolve's last.
    worker = oncall_worker(store, "open")
    worker.on_incident_reopened({"incident_id": 1})
    worker.on_incident_resolved({"incident_id": 1})
    assert Escalation.get_by_id(1).state == "active", "the open incident still escalates"
    assert engine.tick(store, recorder, minutes(30)) == 1


def test_without_the_incidents_service_the_events_word_stands(store, recorder):
    open_incident(store, recorder, 1)
    oncall_worker(store, None).on_incident_acknowledged({"incident_id": 1})
    assert Escalation.get_by_id(1).state == "acknowledged"
