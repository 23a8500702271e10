"""Heartbeat monitors at work: every replica's tick notices silence, a beat ends it.

Each silence is acted on once: the alert it raises has an id derived from the monitor's
expiry (ingestion keeps one however many replicas raise it), and the monitor is marked
down by a compare-and-set on that expiry. A beat that slips in between wins: the alert
just raised is resolved at once. A beat on a silent monitor resolves its alert before the
monitor is marked up, so a crash in between leaves it down, and the next beat resolves.
"""

from services.alerts.heartbeats import recovery_alert, silence_alert


def check_heartbeats(store, ingest_alerts, now):
    """Raises an alert for every monitor silent at `now`; returns how many went down."""
    down = 0
    for monitor in store.heartbeats.expired(now):
        alert = silence_alert(monitor)
        ingest_alerts([alert])
        if store.heartbeats.mark_down(monitor, alert["alert_id"]):
            down += 1
        else:  # a beat came meanwhile, or another replica marked it first
            current = store.heartbeats.get(monitor["id"])
            if current["state"] == "up":
                ingest_alerts([recovery_alert(monitor, alert["alert_id"], now)])
    return down


def beat(store, ingest_alerts, heartbeat_id, key, now):
    monitor = store.heartbeats.authenticate(heartbeat_id, key)
    if monitor["state"] == "down" and monitor["down_alert_id"]:
        ingest_alerts([recovery_alert(monitor, monitor["down_alert_id"], now)])
    return store.heartbeats.beat(heartbeat_id, now)
