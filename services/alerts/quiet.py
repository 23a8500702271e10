"""Maintenance windows at work: which alerts they hold back, and the replay at their end.

Held-back alerts are stored as always, linked to no incident, with the window's id and the
end of its occurrence (`suppressed_until`). Every replica's tick looks for alerts still
firing whose occurrence has ended. Each is claimed by one replica (a compare-and-set on
`suppressed_until`, leased so a replica that dies mid-replay leaves it to another) and
correlated as if it had just arrived: through the windows in force now, so an extended
window, or another one that matches, holds it back again. Correlation is idempotent by
alert id, so even a replay repeated after a crash opens one incident.
"""

import datetime as dt
import logging
from dataclasses import dataclass

from services.alerts import ingest, maintenance
from services.alerts.store import as_correlatable

logger = logging.getLogger("klaxon.alerts")

REPLAY_BATCH = 200
REPLAY_LEASE = dt.timedelta(seconds=60)
# How long before a window's end its author hears that it ends soon; a third of the
# occurrence for one shorter than 45 minutes, so that a short window is not announced as
# ending the moment it starts.
EXPIRY_NOTICE = dt.timedelta(minutes=15)


@dataclass(frozen=True)
class Hold:
    window_id: int
    starts_at: dt.datetime  # the occurrence's start: incidents open before it still take alerts
    ends_at: dt.datetime


class Quiet:
    """Which of a batch's alerts the windows in force at `now` hold back."""

    def __init__(self, windows, teams_of, now):
        self.windows = windows  # a WindowStore
        self.teams_of = teams_of  # {services} -> {service: team}, asked only when a matcher names a team
        self.now = now
        self.read_ahead = None

    def read_with_commit(self):
        """Read the windows in force with the current transaction's COMMIT (an admission's),
        for the next `holds`, instead of in a round trip of their own."""
        self.read_ahead = self.windows.in_force_after_commit(self.now)

    def _in_force(self):
        read, self.read_ahead = self.read_ahead, None
        return read() if read is not None else self.windows.in_force(self.now)

    def holds(self, alerts):
        """{alert id: Hold} of the alerts a window holds back."""
        in_force = self._in_force()
        if not in_force:
            return {}
        teams = {}
        if any(maintenance.needs_team(window["matchers"]) for window, _ in in_force):
            teams = self.teams_of(sorted({alert["service"] for alert in alerts}))
        holds = {}
        for alert in alerts:
            hold = first_hold(in_force, alert, teams.get(alert["service"]))
            if hold is not None:
                holds[alert["alert_id"]] = hold
        return holds


def first_hold(in_force, alert, team):
    for window, (start, end) in in_force:
        if maintenance.matches(window["matchers"], alert, team):
            return Hold(window["id"], start, end)
    return None


def replay_due(store, incidents, quiet, now):
    """Replays the alerts whose window has ended and that still fire; returns how many."""
    due = store.suppressed_due(now, REPLAY_BATCH)
    if not due:
        return 0
    claimed = store.claim(keeping_the_kept(store, due), now + REPLAY_LEASE)
    if claimed:
        replay(store, incidents, quiet, [as_correlatable(row) for row in claimed])
    return len(claimed)


def keeping_the_kept(store, due):
    """The due alerts to replay; those of windows without replay stay suppressed for good."""
    windows = store.windows.by_ids({row.suppressed_by for row in due})
    kept = {row.alert_id for row in due if not replays(windows.get(row.suppressed_by))}
    if kept:
        store.keep_suppressed(sorted(kept))
    return [row for row in due if row.alert_id not in kept]


def replays(window):
    """A window without replay keeps what it held; so does none (it cannot be)."""
    return window is None or window["replay"]


def replay(store, incidents, quiet, alerts):
    holds = quiet.holds(alerts)
    incident_of, resolved_meanwhile = ingest.correlate_many(store, incidents, alerts, holds)
    quiet_now = [(alert_id, incident_of[alert_id][0]) for alert_id in resolved_meanwhile]
    ingest.resolve_quiet_incidents(store, incidents, quiet_now, alerts)
    opened = sum(1 for _, action in incident_of.values() if action == ingest.contracts.NEW_INCIDENT)
    logger.info(
        "replayed %d alert(s) held back by maintenance windows: %d opened an incident", len(alerts), opened
    )


def expiring_soon(store, now):
    """[(window, occurrence end)] whose author should now hear that it ends soon, each
    claimed once across replicas."""
    notices = []
    for window, (start, end) in store.windows.in_force(now):
        due = end - now <= min(EXPIRY_NOTICE, (end - start) / 3) and window["expiry_notified_for"] != end
        if due and store.windows.claim_expiry_notice(window["id"], end):
            notices.append((window, end))
    return notices


def expiry_notice(window, end, public_url):
    """The request to the notifications service that tells the author; its id makes it
    one message however often it is sent."""
    link = f"{public_url}/maintenance" if public_url else ""
    return {
        "request_id": f"window-{window['id']}-ends-{int(end.timestamp())}",
        "recipient": window["author"],
        "subject": f"Maintenance window {window['id']} ends at {end.isoformat(timespec='minutes')}",
        "message": (
            f"The maintenance window '{window['reason']}' ends at {end.isoformat(timespec='minutes')}. "
            f"Extend it (PATCH /api/v1/maintenance_windows/{window['id']} with a later ends_at) if the work "
            f"is not done; alerts still firing then are replayed. {link}"
        ).strip(),
    }
