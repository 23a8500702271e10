"""Queries of the on-call service about escalation: teams' policies and the state of each
incident's escalation. A part of `OncallStore` (services/oncall/store.py)."""

import contextlib
import datetime as dt

from services.oncall.models import Escalation, EscalationPolicy, Team
from services.oncall.policy import Plan, plan_of
from services.shared.db import for_update, write_transaction
from services.shared.errors import Conflict, NotFound


class EscalationStore:
    """Mixed into `OncallStore`, whose `db` it uses."""

    # -- escalation policies -----------------------------------------------------------
    def save_policy(self, request, now):
        """Create or replace a team's escalation policy from a validated `PolicyRequest`."""
        with write_transaction(self.db, lock_key=f"team:{request.team}"):
            team = Team.get_or_none(Team.name == request.team)
            if team is None:
                raise NotFound("team", request.team)
            fields = {"name": request.name or f"{team.name} escalation", "plan": plan_of(request).to_json()}
            EscalationPolicy.insert(team_id=team.id, updated_at=now, **fields).on_conflict(
                conflict_target=[EscalationPolicy.team_id],
                update={
                    EscalationPolicy.name: fields["name"],
                    EscalationPolicy.plan: fields["plan"],
                    EscalationPolicy.updated_at: now,
                },
            ).execute()
        return self.policy(request.team)

    def policy(self, team_name):
        team = Team.get_or_none(Team.name == team_name)
        if team is None:
            raise NotFound("team", team_name)
        row = EscalationPolicy.get_or_none(EscalationPolicy.team_id == team.id)
        plan = Plan.from_json(row.plan if row else None)
        return {
            "team": team.name,
            "name": row.name if row else "default escalation",
            "repeat": plan.repeat,
            "steps": plan.steps,
            "default": row is None,
        }

    def policies(self):
        return [self.policy(team.name) for team in Team.select().order_by(Team.name)]

    def _plan_for(self, team_name):
        row = (
            EscalationPolicy.select()
            .join(Team, on=(Team.id == EscalationPolicy.team_id))
            .where(Team.name == team_name)
            .first()
        )
        return Plan.from_json(row.plan if row else None)

    # -- escalation state --------------------------------------------------------------
    def start_escalation(self, incident_id, team, service, subject, now):
        """Record an escalation at step 0 (paged by the caller) with its next step's due time."""
        plan = self._plan_for(team)
        with write_transaction(self.db):
            Escalation.insert(
                incident_id=incident_id,
                team=team,
                service=service,
                subject=subject,
                step=0,
                updated_at=now,
                plan=plan.to_json(),
                next_at=next_due(plan, 0, now),
            ).on_conflict_ignore().execute()
        return Escalation.get_by_id(incident_id)

    def advance_escalation(self, incident_id, now):
        """Move to the next step by hand; return the escalation as it is after the move."""
        with write_transaction(self.db):
            escalation = for_update(
                self.db, Escalation.select().where(Escalation.incident_id == incident_id)
            ).first()
            if escalation is None:
                raise Conflict(f"incident {incident_id} has not been routed to a team, so it cannot escalate")
            if escalation.state == "resolved":
                raise Conflict(f"incident {incident_id} is resolved; reopen it to escalate")
            if not Plan.from_json(escalation.plan).has_step(escalation.step + 1):
                raise Conflict(f"incident {incident_id} is already at the last escalation step")
            self.advance(escalation, now)
        return escalation

    @contextlib.contextmanager
    def due_escalations(self, now, limit=100):
        """Active escalations whose next step is due, locked until the block ends: a replica
        skips rows another one holds, so every step is taken once."""
        with write_transaction(self.db):
            query = (
                Escalation.select()
                .where((Escalation.state == "active") & (Escalation.next_at <= now))
                .order_by(Escalation.next_at)
                .limit(limit)
            )
            yield list(for_update(self.db, query, skip_locked=True))

    def advance(self, escalation, now):
        """Record the next step as taken, inside the transaction that holds the row."""
        step = escalation.step + 1
        next_at = next_due(Plan.from_json(escalation.plan), step, now)
        Escalation.update(step=step, updated_at=now, next_at=next_at).where(
            Escalation.incident_id == escalation.incident_id
        ).execute()
        escalation.step, escalation.next_at, escalation.updated_at = step, next_at, now
        return step

    def settle_escalation(self, incident_id, state, now):
        """Set the escalation's state; `state` may be a callable, asked under the incident's
        lock, so that of two settlings at once the later one asks last."""
        with write_transaction(self.db, lock_key=f"escalation-state:{incident_id}"):
            state = state() if callable(state) else state
            Escalation.update(state=state, updated_at=now).where(
                Escalation.incident_id == incident_id
            ).execute()

    def oldest_due_step(self, now):
        """When the longest-waiting escalation step that is due and not taken fell due;
        None when no step is due."""
        oldest = (
            Escalation.select(Escalation.next_at)
            .where((Escalation.state == "active") & (Escalation.next_at <= now))
            .order_by(Escalation.next_at)
            .first()
        )
        return oldest.next_at if oldest else None


def next_due(plan, step, now):
    """When the step after `step` is due: `step`'s delay from now; None after the last one."""
    if not plan.has_step(step + 1):
        return None
    return now + dt.timedelta(seconds=plan.delay_after(step))
