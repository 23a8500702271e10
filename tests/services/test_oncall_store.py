"""OncallStore on real SQLite and PostgreSQL: schedules, who is on call, escalation state."""

import datetime as dt
import json
import uuid
from pathlib import Path
from types import SimpleNamespace
from zoneinfo import ZoneInfo

import eventlet
import pytest
from nameko.testing.services import worker_factory

from services.oncall.models import Escalation, Person, RotationMember, Schedule, ServiceRoute, Team
from services.oncall.requests import parse_schedule
from services.oncall.rotation import Rotation, on_call
from services.oncall.service import OncallService
from services.oncall.store import OncallStore
from services.shared.errors import Conflict, Forbidden, NotFound
from tests.conftest import close_pool

UTC = dt.UTC
T0 = dt.datetime(2026, 11, 20, 3, 0, tzinfo=UTC)
EXAMPLE = Path(__file__).resolve().parents[1] / "payloads" / "schedule.json"
TEAM = "platform-engineering"


def roster(schedule):
    """Who is in the schedule, in which layer, without their contact details."""
    return [{k: member[k] for k in ("name", "email", "role")} for member in schedule["members"]]


def step_of(target):
    """A policy step paging one layer's on-call, or the whole team."""
    return {"targets": [{"type": "team"} if target == "team" else {"type": "layer", "layer": target}]}


@pytest.fixture
def store(bound):
    db = bound("oncall")
    with db.connection_context():
        yield OncallStore(db, {})


def example_payload(**overrides):
    payload = json.loads(EXAMPLE.read_text())
    payload["services"] = ["frontend-api"]
    payload.update(overrides)
    return payload


@pytest.fixture
def saved(store):
    return store.save_schedule(parse_schedule(example_payload()), T0)


def expected_on_call(request, layer, at):
    """Who the pure rotation arithmetic says holds `layer` at `at`, by name."""
    rotation = Rotation(
        kind=request.rotation_type,
        interval=request.interval,
        handoff=request.handoff_time,
        zone=ZoneInfo(request.time_zone),
        start=request.start_date,
    )
    members = [SimpleNamespace(name=m.name, email=m.email) for m in request.members if m.role == layer]
    person = on_call(rotation, members, at)
    return None if person is None else {"name": person.name, "email": person.email}


# -- schedules -------------------------------------------------------------------------


def test_save_schedule_from_the_example(store, saved):
    assert saved["team"] == TEAM
    assert saved["rotation_type"] == "weekly"
    assert saved["interval"] == 1
    assert saved["handoff_time"] == "09:00"
    assert saved["time_zone"] == "UTC"
    assert saved["start_date"] == "2024-01-01"
    assert roster(saved) == [
        {"name": "Alice", "email": "alice@example.com", "role": "primary"},
        {"name": "Bob", "email": "bob@example.com", "role": "primary"},
        {"name": "Carol", "email": "carol@example.com", "role": "secondary"},
    ]
    assert saved["services"] == ["frontend-api"]
    assert store.schedule(TEAM) == saved
    assert store.schedules() == [saved]


def test_saving_the_same_schedule_twice_is_idempotent(store, saved):
    again = store.save_schedule(parse_schedule(example_payload()), T0 + dt.timedelta(hours=1))
    assert again == saved
    assert Team.select().count() == 1
    assert Schedule.select().count() == 1
    assert Person.select().count() == 3
    assert RotationMember.select().count() == 3
    assert ServiceRoute.select().count() == 1


def test_saving_again_replaces_the_rotation(store, saved):
    payload = example_payload(
        rotation_type="daily",
        handoff_time="08:30",
        time_zone="Europe/Paris",
        members=[
            {"name": "Bob B.", "email": "bob@example.com", "role": "primary"},
            {"name": "Alice", "email": "alice@example.com", "role": "secondary"},
        ],
    )
    replaced = store.save_schedule(parse_schedule(payload), T0)
    assert replaced["id"] == saved["id"]
    assert (replaced["rotation_type"], replaced["handoff_time"], replaced["time_zone"]) == (
        "daily",
        "08:30",
        "Europe/Paris",
    )
    assert roster(replaced) == [
        {"name": "Bob B.", "email": "bob@example.com", "role": "primary"},
        {"name": "Alice", "email": "alice@example.com", "role": "secondary"},
    ]
    assert RotationMember.select().count() == 2
    assert Person.select().count() == 3  # Carol is still a person, no longer in the rotation


def test_two_teams_share_people(store, saved):
    other = example_payload(team="data", services=["warehouse"])
    store.save_schedule(parse_schedule(other), T0)
    assert Person.select().count() == 3
    assert [s["team"] for s in store.schedules()] == ["data", TEAM]
    assert store.team_for_service("warehouse") == "data"
    assert store.team_for_service("frontend-api") == TEAM


def test_a_service_moves_to_the_team_that_claims_it_last(store, saved):
    store.save_schedule(parse_schedule(example_payload(team="web")), T0)
    assert store.team_for_service("frontend-api") == "web"
    assert ServiceRoute.select().count() == 1
    assert store.schedule("web")["services"] == ["frontend-api"]


MANAGER = {"email": "mo@example.com", "name": "Mo", "role": "responder", "managed_teams": ["ops"]}
ADMIN = {"email": "root@example.com", "name": "Root", "role": "admin", "managed_teams": []}
ADAS_WEBHOOK = [{"type": "webhook", "address": "https://hooks.example/ada", "secret": "s3"}]


def oncall_service(store):
    return worker_factory(OncallService, store=store, clock=SimpleNamespace(now=lambda: T0))


def ops_payload(members, services=()):
    return {"team": "ops", "rotation_type": "daily", "members": members, "services": list(services)}


@pytest.fixture
def managed_ops(store):
    """Team ops, managed by Mo, with Ada on it; team data answers for the warehouse."""
    ada = {
        "name": "Ada",
        "email": "ada@example.com",
        "time_zone": "Asia/Tokyo",
        "contact_methods": ADAS_WEBHOOK,
    }
    store.save_schedule(
        parse_schedule({**ops_payload([ada], ["ops-api"]), "managers": [MANAGER["email"]]}), T0
    )
    store.save_schedule(parse_schedule(example_payload(team="data", services=["warehouse"])), T0)


def test_a_managers_schedule_keeps_the_profile_of_someone_who_exists(store, managed_ops):
    attacker = [{"type": "webhook", "address": "https://attacker.example/pages"}]
    members = [
        {"name": "Not Ada", "email": "ada@example.com", "time_zone": "UTC", "contact_methods": attacker},
        {"name": "Alice", "email": "alice@example.com", "contact_methods": attacker},  # on team data
        {"name": "Newt", "email": "newt@example.com", "contact_methods": [{"type": "email"}]},
    ]
    saved = oncall_service(store).create_schedule(ops_payload(members), MANAGER)
    assert [m["email"] for m in saved["members"]] == [m["email"] for m in members], "the rotation is saved"
    ada = store.person("ada@example.com", reveal=True)
    assert (ada["name"], ada["time_zone"]) == ("Ada", "Asia/Tokyo")
    assert store.contact_methods("ada@example.com") == [{**ADAS_WEBHOOK[0], "delay_minutes": 0}]
    assert store.person("alice@example.com")["name"] == "Alice"
    assert store.contact_methods("alice@example.com") == []
    assert store.person("newt@example.com")["name"] == "Newt", "someone new is made as the entry says"
    assert store.contact_methods("newt@example.com") == [{"type": "email", "delay_minutes": 0}]


def test_an_admins_schedule_still_changes_the_profiles_it_names(store, managed_ops):
    methods = [{"type": "email", "address": "ada@home.example"}]
    member = {"name": "Ada L.", "email": "ada@example.com", "contact_methods": methods}
    oncall_service(store).create_schedule(ops_payload([member]), ADMIN)
    assert store.person("ada@example.com")["name"] == "Ada L."
    assert store.contact_methods("ada@example.com") == [{**methods[0], "delay_minutes": 0}]


def test_a_manager_cannot_move_another_teams_service_to_their_team(store, managed_ops):
    member = {"name": "Newt", "email": "newt@example.com"}
    payload = ops_payload([member], ["ops-api", "new-api", "warehouse"])
    with pytest.raises(Forbidden, match="service warehouse belongs to team data; only an admin may move it"):
        oncall_service(store).create_schedule(payload, MANAGER)
    assert store.team_for_service("warehouse") == "data"
    assert store.team_for_service("new-api") is None, "a refused save changes nothing"
    assert roster(store.schedule("ops")) == [{"name": "Ada", "email": "ada@example.com", "role": "primary"}]
    saved = oncall_service(store).create_schedule(ops_payload([member], ["ops-api", "new-api"]), MANAGER)
    assert sorted(saved["services"]) == ["new-api", "ops-api"], (
        "their own services and new ones they may route"
    )
    oncall_service(store).create_schedule(payload, ADMIN)
    assert store.team_for_service("warehouse") == "ops", "an admin manages the service catalog"


# -- who is on call --------------------------------------------------------------------


def test_current_follows_the_weekly_rotation(store, saved):
    # anchor: Monday 2024-01-01 09:00 UTC; primary Alice, Bob, Alice, ...; secondary Carol
    alice = {"name": "Alice", "email": "alice@example.com"}
    bob = {"name": "Bob", "email": "bob@example.com"}
    carol = {"name": "Carol", "email": "carol@example.com"}
    cases = [
        (dt.datetime(2024, 1, 1, 9, 0, tzinfo=UTC), alice),
        (dt.datetime(2024, 1, 8, 8, 59, tzinfo=UTC), alice),
        (dt.datetime(2024, 1, 8, 9, 0, tzinfo=UTC), bob),
        (dt.datetime(2024, 1, 14, 23, 0, tzinfo=UTC), bob),
        (dt.datetime(2024, 1, 15, 9, 0, tzinfo=UTC), alice),
        (dt.datetime(2024, 1, 22, 10, 0, tzinfo=UTC), bob),
    ]
    for at, primary in cases:
        current = store.current(TEAM, at)
        assert current["team"] == TEAM
        assert dt.datetime.fromisoformat(current["at"]) == at
        assert current["primary"] == primary, at
        assert current["secondary"] == carol, at


def test_current_matches_the_rotation_arithmetic(store):
    request = parse_schedule(example_payload())
    store.save_schedule(request, T0)
    start = dt.datetime(2026, 3, 2, 0, 0, tzinfo=UTC)
    for hours in range(0, 24 * 7 * 6, 13):  # six weeks, odd step to hit all times of day
        at = start + dt.timedelta(hours=hours)
        current = store.current(TEAM, at)
        for layer in ("primary", "secondary"):
            assert current[layer] == expected_on_call(request, layer, at), (layer, at)


def test_current_in_a_zone_with_daylight_saving(store):
    payload = example_payload(
        rotation_type="daily",
        handoff_time="09:00",
        time_zone="Europe/Paris",
        start_date="2026-03-20",
    )
    request = parse_schedule(payload)
    store.save_schedule(request, T0)
    # Paris moves to summer time on 2026-03-29: 09:00 local is 08:00 UTC before, 07:00 after
    before = store.current(TEAM, dt.datetime(2026, 3, 28, 8, 0, tzinfo=UTC))
    just_before = store.current(TEAM, dt.datetime(2026, 3, 28, 7, 59, tzinfo=UTC))
    assert before["primary"] != just_before["primary"]
    after = store.current(TEAM, dt.datetime(2026, 3, 30, 7, 0, tzinfo=UTC))
    just_before_after = store.current(TEAM, dt.datetime(2026, 3, 30, 6, 59, tzinfo=UTC))
    assert after["primary"] != just_before_after["primary"]
    start = dt.datetime(2026, 3, 25, tzinfo=UTC)
    for hours in range(0, 24 * 10, 5):
        at = start + dt.timedelta(hours=hours)
        assert store.current(TEAM, at)["primary"] == expected_on_call(request, "primary", at), at


def test_unknown_team_is_not_found(store, saved):
    with pytest.raises(NotFound):
        store.current("nobody", T0)
    with pytest.raises(NotFound):
        store.schedule("nobody")
    with pytest.raises(NotFound):
        store.step_targets("nobody", step_of("primary"), T0)
    with pytest.raises(NotFound):
        store.upcoming("nobody", T0, 3)


def test_upcoming_shifts(store, saved):
    at = dt.datetime(2024, 1, 10, 12, 0, tzinfo=UTC)
    upcoming = store.upcoming(TEAM, at, 3)
    primary = upcoming["primary"]
    assert [s["name"] for s in primary] == ["Bob", "Alice", "Bob"]
    assert [dt.datetime.fromisoformat(s["start"]) for s in primary] == [
        dt.datetime(2024, 1, 8, 9, tzinfo=UTC),
        dt.datetime(2024, 1, 15, 9, tzinfo=UTC),
        dt.datetime(2024, 1, 22, 9, tzinfo=UTC),
    ]
    assert primary[0]["end"] == primary[1]["start"]
    assert [s["name"] for s in upcoming["secondary"]] == ["Carol"] * 3


def test_team_for_service(store, saved):
    assert store.team_for_service("frontend-api") == TEAM
    assert store.team_for_service("unknown-service") is None


def test_targets_for_each_step(store, saved):
    at = dt.datetime(2024, 1, 8, 9, 0, tzinfo=UTC)  # Bob's week
    assert store.step_targets(TEAM, step_of("primary"), at) == [{"name": "Bob", "email": "bob@example.com"}]
    assert store.step_targets(TEAM, step_of("secondary"), at) == [
        {"name": "Carol", "email": "carol@example.com"}
    ]
    team = store.step_targets(TEAM, step_of("team"), at)
    assert sorted(p["email"] for p in team) == [
        "alice@example.com",
        "bob@example.com",
        "carol@example.com",
    ]


def test_targets_of_an_empty_layer_is_nobody(store):
    payload = example_payload(members=[{"name": "Alice", "email": "alice@example.com"}])
    store.save_schedule(parse_schedule(payload), T0)
    assert store.step_targets(TEAM, step_of("secondary"), T0) == []
    assert store.current(TEAM, T0)["secondary"] is None


def test_team_target_lists_a_person_in_both_layers_once(store):
    payload = example_payload(
        members=[
            {"name": "Alice", "email": "alice@example.com", "role": "primary"},
            {"name": "Alice", "email": "alice@example.com", "role": "secondary"},
        ]
    )
    store.save_schedule(parse_schedule(payload), T0)
    assert store.step_targets(TEAM, step_of("team"), T0) == [{"name": "Alice", "email": "alice@example.com"}]


# -- escalation state ------------------------------------------------------------------


def test_start_escalation_twice_keeps_one_row(store):
    first = store.start_escalation(1, TEAM, "frontend-api", "subject", T0)
    assert (first.incident_id, first.team, first.step, first.state) == (1, TEAM, 0, "active")
    store.advance_escalation(1, T0 + dt.timedelta(minutes=5))
    again = store.start_escalation(1, "other-team", "other", "subject", T0 + dt.timedelta(minutes=6))
    assert Escalation.select().count() == 1
    assert (again.team, again.step) == (TEAM, 1)


def test_advance_escalation_through_every_step_then_conflict(store):
    store.start_escalation(1, TEAM, "frontend-api", "subject", T0)
    one = store.advance_escalation(1, T0 + dt.timedelta(minutes=5))
    assert one.step == 1
    assert one.updated_at == T0 + dt.timedelta(minutes=5)
    two = store.advance_escalation(1, T0 + dt.timedelta(minutes=15))
    assert two.step == 2
    with pytest.raises(Conflict):
        store.advance_escalation(1, T0 + dt.timedelta(minutes=30))
    assert Escalation.get_by_id(1).step == 2


def test_resolved_escalation_cannot_advance(store):
    store.start_escalation(1, TEAM, "frontend-api", "subject", T0)
    store.settle_escalation(1, "resolved", T0 + dt.timedelta(minutes=1))
    with pytest.raises(Conflict):
        store.advance_escalation(1, T0 + dt.timedelta(minutes=2))
    row = Escalation.get_by_id(1)
    assert (row.step, row.state) == (0, "resolved")

    store.settle_escalation(1, "active", T0 + dt.timedelta(minutes=3))  # reopened
    assert store.advance_escalation(1, T0 + dt.timedelta(minutes=4)).step == 1


def test_unknown_incident_cannot_escalate(store):
    with pytest.raises(Conflict):
        store.advance_escalation(404, T0)


def test_escalations_of_different_incidents_are_independent(store):
    store.start_escalation(1, TEAM, "frontend-api", "subject", T0)
    store.start_escalation(2, TEAM, "frontend-api", "subject", T0)
    store.advance_escalation(1, T0)
    assert Escalation.get_by_id(1).step == 1
    assert Escalation.get_by_id(2).step == 0


# -- metrics ---------------------------------------------------------------------------


def test_metric_families_report_who_is_on_call(store, saved):
    (family,) = store.metric_families()
    assert family.name == "oncall_current"
    assert family.type == "gauge"
    samples = [(s.labels["team"], s.labels["person"], s.value) for s in family.samples]
    assert len(samples) == 2
    people = {person for _, person, _ in samples}
    assert "Carol" in people
    assert people & {"Alice", "Bob"}
    assert all(team == TEAM and value == 1 for team, _, value in samples)


def test_a_person_on_call_in_both_layers_is_one_series(store):
    payload = example_payload(
        members=[
            {"name": "Alice", "email": "alice@example.com", "role": "primary"},
            {"name": "Alice", "email": "alice@example.com", "role": "secondary"},
        ]
    )
    store.save_schedule(parse_schedule(payload), T0)
    (family,) = store.metric_families()
    labels = [(s.labels["team"], s.labels["person"]) for s in family.samples]
    assert labels == [(TEAM, "Alice")]


def test_metric_families_without_schedules_are_empty(store):
    (family,) = store.metric_families()
    assert family.samples == []


def test_concurrent_advances_never_skip_or_repeat_a_step(bound, database_url):
    if "sqlite" in database_url:
        pytest.skip("concurrent writers are a PostgreSQL concern; SQLite serialises in-process")
    db = bound("oncall")
    incident_id = uuid.uuid4().int % 2**30  # advisory locks are server-wide; keep ours apart
    try:
        with db.connection_context():
            OncallStore(db, {}).start_escalation(incident_id, TEAM, "frontend-api", "subject", T0)

        def advance(n):
            try:
                with db.connection_context():
                    return OncallStore(db, {}).advance_escalation(incident_id, T0).step
            except Conflict:
                return "conflict"
            finally:
                db.close()

        results = list(eventlet.GreenPool(6).imap(advance, range(6)))
        assert sorted(results, key=str) == [1, 2] + ["conflict"] * 4
        with db.connection_context():
            assert Escalation.get_by_id(incident_id).step == 2
    finally:
        close_pool(db)


def test_people_keep_their_time_zone_and_contact_methods(store):
    member = {
        "name": "Ada",
        "email": "ada@example.com",
        "time_zone": "Europe/Paris",
        "contact_methods": [
            {"type": "email", "address": "ada@example.com"},
            {"type": "slack", "address": "https://hooks.slack.example/T1/B2/c3"},
        ],
    }
    saved = store.save_schedule(
        parse_schedule({"team": "ops", "rotation_type": "daily", "members": [member]}), T0
    )
    [listed] = saved["members"]
    expected = [{**method, "delay_minutes": 0} for method in member["contact_methods"]]
    shown = [expected[0], {**expected[1], "address": "https://hooks.slack.example/…"}]
    assert (listed["time_zone"], listed["contact_methods"]) == ("Europe/Paris", shown), (
        "a URL is a credential"
    )
    person = store.person("ada@example.com")
    assert person["rotations"] == [{"team": "ops", "layer": "primary"}]
    assert person["contact_methods"] == shown
    assert store.person("ada@example.com", reveal=True)["contact_methods"] == expected
    with pytest.raises(NotFound):
        store.person("nobody@example.com")


def test_members_without_contact_methods_get_the_teams_defaults_secrets_stay_inside(store):
    members = [
        {"name": "Ada", "email": "ada@example.com", "contact_methods": [{"type": "email"}]},
        {"name": "Bo", "email": "bo@example.com"},
    ]
    defaults = [
        {"type": "email"},
        {"type": "webhook", "address": "https://hooks.example/ops", "secret": "s3", "delay_minutes": 2},
    ]
    payload = {
        "team": "ops",
        "rotation_type": "daily",
        "members": members,
        "default_contact_methods": defaults,
    }
    saved = store.save_schedule(parse_schedule(payload), T0)
    assert saved["default_contact_methods"][1] == {
        "type": "webhook",
        "address": "https://hooks.example/…",
        "delay_minutes": 2,
    }
    assert store.contact_methods("ada@example.com", "ops") == [{"type": "email", "delay_minutes": 0}]
    assert store.contact_methods("bo@example.com", "ops")[1]["secret"] == "s3"
    assert store.contact_methods("bo@example.com") == []


def test_a_schedule_that_leaves_out_a_members_zone_and_methods_keeps_what_the_person_has(store):
    methods = [{"type": "webhook", "address": "https://hooks.example/ada", "secret": "s3"}]
    ada = {"name": "Ada", "email": "ada@example.com", "time_zone": "Asia/Tokyo", "contact_methods": methods}
    defaults = [{"type": "email"}]
    first = {"team": "ops", "rotation_type": "daily", "members": [ada], "default_contact_methods": defaults}
    store.save_schedule(parse_schedule(first), T0)
    # Saved again as the console does: members by name, e-mail and role only.
    again = {
        "team": "ops",
        "rotation_type": "daily",
        "members": [{"name": "Ada", "email": "ada@example.com"}],
    }
    store.save_schedule(parse_schedule(again), T0)
    assert store.contact_methods("ada@example.com") == [{**methods[0], "delay_minutes": 0}], "secret and all"
    assert store.person("ada@example.com", reveal=True)["time_zone"] == "Asia/Tokyo"
    assert store.contact_methods("bo@example.com", "ops") == [{"type": "email", "delay_minutes": 0}]
    new = {"team": "ops", "rotation_type": "daily", "members": [{"name": "Bo", "email": "bo@example.com"}]}
    store.save_schedule(parse_schedule(new), T0)
    bo = store.person("bo@example.com")
    assert (bo["time_zone"], bo["contact_methods"]) == ("UTC", [])


@pytest.mark.parametrize(
    ("viewer", "shown"),
    [
        ({"email": "ada@example.com", "role": "viewer"}, "https://hooks.slack.example/T1/B2/c3"),
        ({"email": "root@example.com", "role": "admin"}, "https://hooks.slack.example/T1/B2/c3"),
        ({"email": "bo@example.com", "role": "responder"}, "https://hooks.slack.example/…"),
        (None, "https://hooks.slack.example/…"),
    ],
    ids=["themself", "an-admin", "someone-else", "nobody-named"],
)
def test_a_persons_webhook_address_is_shown_in_full_only_to_themself_and_admins(store, viewer, shown):
    slack = {"type": "slack", "address": "https://hooks.slack.example/T1/B2/c3"}
    member = {"name": "Ada", "email": "ada@example.com", "contact_methods": [slack]}
    store.save_schedule(parse_schedule({"team": "ops", "rotation_type": "daily", "members": [member]}), T0)
    person = worker_factory(OncallService, store=store).get_person("ada@example.com", viewer)
    assert person["contact_methods"][0]["address"] == shown
