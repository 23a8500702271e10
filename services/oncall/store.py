"""Queries of the on-call service: the only module here that touches SQL."""

import datetime as dt
import json
from zoneinfo import ZoneInfo

from prometheus_client.core import GaugeMetricFamily

from services.oncall import contracts as c
from services.oncall.escalation_store import EscalationStore
from services.oncall.models import (
    Override,
    Person,
    RotationMember,
    Schedule,
    ServiceRoute,
    Team,
)
from services.oncall.rotation import Rotation, covering, keep_turn, on_call, shift_index, upcoming_shifts
from services.shared.db import write_transaction
from services.shared.errors import Forbidden, NotFound
from services.shared.redaction import masked_address
from services.shared.store import BaseStore


class OncallStore(EscalationStore, BaseStore):
    # -- schedules ---------------------------------------------------------------------
    def save_schedule(self, request, now, by_admin=True):
        """Create or replace the team's schedule from a validated `ScheduleRequest`.

        Whoever is on call when the schedule changes stays on call, and the others keep
        their order after them (`rotation.keep_turn`). `by_admin` is an admin's save or the
        platform's own (`klaxon apply`); a team manager's (False) keeps the profile of
        everyone who already exists and cannot take a service another team answers for.
        """
        with write_transaction(self.db, lock_key=f"team:{request.team}"):
            team, _ = Team.get_or_create(name=request.team)
            standing = self._standing(team, now)
            schedule = self._upsert_schedule(team, request, now)
            self._update_team(team, request)
            self._replace_members(schedule, request, edit_profiles=by_admin)
            if standing:
                self._keep_turns(schedule, standing, now)
            self._route_services(team, request.services, take_from_others=by_admin)
        return self.schedule(request.team)

    def _update_team(self, team, request):
        fields = {}
        if request.default_contact_methods is not None:
            fields["default_contact_methods"] = methods_json(request.default_contact_methods)
        if request.managers is not None:
            fields["managers"] = json.dumps(sorted(set(request.managers)))
        if fields:
            Team.update(**fields).where(Team.id == team.id).execute()

    def _route_services(self, team, services, take_from_others):
        """Route the services to the team; only an admin moves one from another team (the
        service catalog is theirs), so it cannot be taken with its incidents' paging."""
        for service in services:
            insert = ServiceRoute.insert(service=service, team_id=team.id)
            if take_from_others:
                insert = insert.on_conflict(
                    conflict_target=[ServiceRoute.service], update={ServiceRoute.team_id: team.id}
                )
            else:
                insert = insert.on_conflict_ignore()
            insert.execute()
        if not take_from_others:
            # Checked after the inserts: a route another team's save makes meanwhile is
            # waited for by the insert, then seen here.
            self._refuse_others_services(team, services)

    def _refuse_others_services(self, team, services):
        taken = (
            ServiceRoute.select()
            .where(ServiceRoute.service.in_(services), ServiceRoute.team_id != team.id)
            .order_by(ServiceRoute.service)
            .first()
        )
        if taken is not None:
            owner = Team.get_by_id(taken.team_id).name
            raise Forbidden(
                f"service {taken.service} belongs to team {owner}; only an admin may move it"
                f" to team {team.name}"
            )

    def _replace_members(self, schedule, request, edit_profiles):
        RotationMember.delete().where(RotationMember.schedule_id == schedule.id).execute()
        positions = dict.fromkeys(c.LAYERS, 0)
        for member in request.members:
            person = self._upsert_person(member, edit_profiles)
            RotationMember.create(
                schedule_id=schedule.id,
                layer=member.role,
                position=positions[member.role],
                person_id=person.id,
            )
            positions[member.role] += 1

    def _standing(self, team, now):
        """{layer: (member emails, position of the one on call at `now`)} before a change."""
        schedule = Schedule.get_or_none(Schedule.team_id == team.id)
        if schedule is None:
            return {}
        index = shift_index(rotation_of(schedule), now)
        standing = {}
        for layer in c.LAYERS:
            members = [person.email for person in self._layer(schedule, layer)]
            shift, position = turn_of(schedule, layer)
            standing[layer] = (members, (position + index - shift) % len(members) if members else 0)
        return standing

    def _keep_turns(self, schedule, standing, now):
        index = shift_index(rotation_of(schedule), now)
        turns = {}
        for layer in c.LAYERS:
            old_members, holder_position = standing[layer]
            new_members = [person.email for person in self._layer(schedule, layer)]
            turns[layer] = keep_turn(old_members, holder_position, new_members, index)
        Schedule.update(turns=json.dumps(turns)).where(Schedule.id == schedule.id).execute()

    def _upsert_schedule(self, team, request, now):
        fields = {
            "name": f"{team.name} rotation",
            "rotation_type": request.rotation_type,
            "interval": request.interval,
            "handoff_time": request.handoff_time.strftime("%H:%M"),
            "time_zone": request.time_zone,
            "start_date": request.start_date,
            "updated_at": now,
        }
        schedule = Schedule.get_or_none(Schedule.team_id == team.id)
        if schedule is None:
            return Schedule.create(team_id=team.id, **fields)
        Schedule.update(**fields).where(Schedule.id == schedule.id).execute()
        return Schedule.get_by_id(schedule.id)

    def _upsert_person(self, member, edit_profile):
        """The member's person. Someone new gets what the schedule says of them; someone
        who exists gets it only when `edit_profile` (an admin's save), and what the entry
        leaves out stays as the person has it.

        As in PagerDuty or Grafana OnCall, a schedule names people, and how a person is
        paged is theirs or an admin's to change (PATCH /api/v1/people/{email}): a team
        manager's save keeps an existing profile rather than being refused, so a schedule
        saved back as it was read (addresses masked) still saves and never rewrites anyone.
        """
        person = Person.get_or_none(Person.email == member.email)
        fields = profile_fields(member)
        if person is None:
            return Person.create(
                email=member.email, **{"time_zone": "UTC", "contact_methods": "[]", **fields}
            )
        if edit_profile:
            Person.update(**fields).where(Person.id == person.id).execute()
        return person

    def contact_methods(self, email, team_name=None):
        """How to reach a person, secrets included (for paging, never for showing): their
        own methods, else their team's defaults."""
        person = Person.get_or_none(Person.email == email)
        own = json.loads(person.contact_methods or "[]") if person else []
        if own or team_name is None:
            return own
        team = Team.get_or_none(Team.name == team_name)
        return json.loads(team.default_contact_methods or "[]") if team else []

    def person(self, email, reveal=False):
        """A person with their contact methods (see shown_methods for `reveal`) and the
        teams and layers they rotate in."""
        person = Person.get_or_none(Person.email == email)
        if person is None:
            raise NotFound("person", email)
        rotations = [
            {"team": team.name, "layer": layer}
            for team, schedule in self._schedules_of(person)
            for layer in c.LAYERS
            if any(member.id == person.id for member in self._layer(schedule, layer))
        ]
        return {**person_profile(person, reveal), "rotations": rotations}

    def schedule(self, team_name):
        team, schedule = self._team_schedule(team_name)
        body = schedule_dict(team, schedule)
        body["members"] = [
            {**person_profile(person), "role": layer}
            for layer in c.LAYERS
            for person in self._layer(schedule, layer)
        ]
        body["default_contact_methods"] = shown_methods(team.default_contact_methods, reveal=False)
        body["managers"] = team_managers(team)
        body["services"] = [
            route.service for route in ServiceRoute.select().where(ServiceRoute.team_id == team.id)
        ]
        return body

    def schedules(self):
        teams = Team.select().join(Schedule, on=(Schedule.team_id == Team.id)).order_by(Team.name)
        return [self.schedule(team.name) for team in teams]

    def _team_schedule(self, team_name):
        team = Team.get_or_none(Team.name == team_name)
        if team is None:
            raise NotFound("team", team_name)
        schedule = Schedule.get_or_none(Schedule.team_id == team.id)
        if schedule is None:
            raise NotFound("schedule of team", team_name)
        return team, schedule

    def _layer(self, schedule, layer):
        query = (
            Person.select()
            .join(RotationMember, on=(RotationMember.person_id == Person.id))
            .where((RotationMember.schedule_id == schedule.id) & (RotationMember.layer == layer))
            .order_by(RotationMember.position)
        )
        return list(query)

    # -- who is on call ----------------------------------------------------------------
    def current(self, team_name, at):
        team, schedule = self._team_schedule(team_name)
        body = {"team": team.name, "at": at.isoformat()}
        for layer in c.LAYERS:
            person = self._on_call(schedule, layer, at)
            body[layer] = person_dict(person) if person else None
        return body

    def _on_call(self, schedule, layer, at):
        """Whoever covers `layer` at `at` by override, else the rotation's member."""
        overrides = Override.select().where(
            (Override.team_id == schedule.team_id)
            & (Override.layer == layer)
            & (Override.starts_at <= at)
            & (Override.ends_at > at)
        )
        override = covering(overrides, at)
        if override is not None:
            return Person.get_by_id(override.person_id)
        return on_call(rotation_of(schedule), self._layer(schedule, layer), at, turn_of(schedule, layer))

    # -- overrides ---------------------------------------------------------------------
    def add_override(self, request, now):
        with write_transaction(self.db, lock_key=f"team:{request.team}"):
            team, _ = self._team_schedule(request.team)
            person = Person.get_or_none(Person.email == request.email)
            if person is None:
                name = request.name or request.email.split("@")[0]
                person = Person.create(name=name, email=request.email)
            row = Override.create(
                team_id=team.id,
                layer=request.layer,
                person_id=person.id,
                starts_at=request.start,
                ends_at=request.end,
                created_at=now,
            )
        return override_dict(row, team, person)

    def overrides(self, team_name, since):
        """The team's overrides that have not ended by `since`, in the order they start."""
        team, _ = self._team_schedule(team_name)
        rows = (
            Override.select()
            .where((Override.team_id == team.id) & (Override.ends_at > since))
            .order_by(Override.starts_at, Override.id)
        )
        return [override_dict(row, team, Person.get_by_id(row.person_id)) for row in rows]

    def delete_override(self, override_id):
        with write_transaction(self.db):
            if not Override.delete().where(Override.id == override_id).execute():
                raise NotFound("override", override_id)

    def upcoming(self, team_name, at, count):
        team, schedule = self._team_schedule(team_name)
        return {layer: self._shifts(team, schedule, layer, at, count) for layer in c.LAYERS}

    def _shifts(self, team, schedule, layer, at, count):
        members, turn = self._layer(schedule, layer), turn_of(schedule, layer)
        return [
            {"start": start.isoformat(), "end": end.isoformat(), **person_dict(person)}
            for start, end, person in upcoming_shifts(rotation_of(schedule), members, at, count, turn)
        ]

    def team_shifts(self, team_name, at, count):
        """The team's upcoming shifts in both layers, each naming its team and layer."""
        team, schedule = self._team_schedule(team_name)
        return [
            {**shift, "team": team.name, "layer": layer}
            for layer in c.LAYERS
            for shift in self._shifts(team, schedule, layer, at, count)
        ]

    def person_shifts(self, email, at, count):
        """A person's next `count` shifts in every team and layer they rotate in, in time order."""
        person = Person.get_or_none(Person.email == email)
        if person is None:
            raise NotFound("person", email)
        shifts = []
        for team, schedule in self._schedules_of(person):
            for layer in c.LAYERS:
                members = self._layer(schedule, layer)
                if any(member.id == person.id for member in members):
                    # They hold one shift in len(members): look that far to find `count` of theirs.
                    found = self._shifts(team, schedule, layer, at, count * len(members))
                    shifts += [{**s, "team": team.name, "layer": layer} for s in found if s["email"] == email]
        return sorted(shifts, key=lambda shift: shift["start"])[:count]

    def _schedules_of(self, person):
        rows = (
            Schedule.select()
            .join(RotationMember, on=(RotationMember.schedule_id == Schedule.id))
            .where(RotationMember.person_id == person.id)
            .distinct()
        )
        return [(Team.get_by_id(schedule.team_id), schedule) for schedule in rows]

    def managers_of(self, team_name):
        """The team's managers, or None when there is no such team yet."""
        team = Team.get_or_none(Team.name == team_name)
        return None if team is None else team_managers(team)

    def has_schedule(self, team_name):
        team = Team.get_or_none(Team.name == team_name)
        return team is not None and Schedule.get_or_none(Schedule.team_id == team.id) is not None

    def team_for_service(self, service):
        route = ServiceRoute.get_or_none(ServiceRoute.service == service)
        if route is None:
            return None
        return Team.get_by_id(route.team_id).name

    def step_targets(self, team_name, step, at):
        """People one policy step pages, each once: named people, layer on-calls, the team."""
        _, schedule = self._team_schedule(team_name)
        people = {}
        for target in step["targets"]:
            for person in self._people_of(schedule, target, at):
                people.setdefault(person["email"], person)
        return list(people.values())

    def _people_of(self, schedule, target, at):
        if target["type"] == "person":
            person = Person.get_or_none(Person.email == target["email"])
            return [person_dict(person) if person else {"name": target["email"], "email": target["email"]}]
        if target["type"] == "team":
            return [person_dict(p) for layer in c.LAYERS for p in self._layer(schedule, layer)]
        person = self._on_call(schedule, target["layer"], at)
        return [person_dict(person)] if person else []

    # -- metrics -----------------------------------------------------------------------
    def team_names(self):
        return [team.name for team in Team.select(Team.name).order_by(Team.name)]

    def metric_families(self):
        gauge = GaugeMetricFamily(
            "oncall_current", "1 for each person on call now, per team", labels=["team", "person"]
        )
        now = dt.datetime.now(dt.UTC)
        for schedule in self.schedules():
            current = self.current(schedule["team"], now)
            people = {current[layer]["name"] for layer in c.LAYERS if current[layer]}
            for person in sorted(people):
                gauge.add_metric([schedule["team"], person], 1)
        return [gauge]


def turn_of(schedule, layer):
    """(shift, position): member `position` of the layer holds shift `shift`."""
    turns = json.loads(schedule.turns or "{}")
    return tuple(turns.get(layer, (0, 0)))


def rotation_of(schedule):
    hours, minutes = (int(part) for part in schedule.handoff_time.split(":"))
    return Rotation(
        kind=schedule.rotation_type,
        interval=schedule.interval,
        handoff=dt.time(hours, minutes),
        zone=ZoneInfo(schedule.time_zone),
        start=schedule.start_date,
    )


def override_dict(row, team, person):
    return {
        "id": row.id,
        "team": team.name,
        "layer": row.layer,
        **person_dict(person),
        "start": row.starts_at.isoformat(),
        "end": row.ends_at.isoformat(),
    }


def profile_fields(member):
    """What a schedule's member entry says of the person's profile."""
    fields = {"name": member.name}
    if member.time_zone is not None:
        fields["time_zone"] = member.time_zone
    if member.contact_methods is not None:
        fields["contact_methods"] = methods_json(member.contact_methods)
    return fields


def team_managers(team):
    return json.loads(team.managers or "[]")


def methods_json(methods):
    return json.dumps([method.model_dump(exclude_none=True) for method in methods])


def shown_methods(text, reveal=True):
    """Contact methods as they may be read: a webhook's signing secret never, and unless
    `reveal` (the person themself, an admin) a URL's path neither: a Slack webhook's
    address is its credential."""
    methods = [{k: v for k, v in method.items() if k != "secret"} for method in json.loads(text or "[]")]
    if not reveal:
        for method in methods:
            method["address"] = masked_address(method.get("address"))
    return methods


def person_profile(person, reveal=False):
    return {
        **person_dict(person),
        "time_zone": person.time_zone,
        "contact_methods": shown_methods(person.contact_methods, reveal),
    }


def person_dict(person):
    return {"name": person.name, "email": person.email}


def schedule_dict(team, schedule):
    return {
        "id": schedule.id,
        "team": team.name,
        "rotation_type": schedule.rotation_type,
        "interval": schedule.interval,
        "handoff_time": schedule.handoff_time,
        "time_zone": schedule.time_zone,
        "start_date": schedule.start_date.isoformat(),
    }
