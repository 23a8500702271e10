"""The durable queue between the edge and the alerts service.

The edge publishes accepted alerts here with publisher confirms and answers 2xx only
after the broker has confirmed; the alerts service acknowledges a message only after
its work is committed, so a crash on either side loses nothing. Messages are batches:
an Alertmanager post of 20 alerts is one message.
"""

from kombu import Exchange, Queue

EXCHANGE = Exchange("klaxon.alerts", type="direct", durable=True)
INGEST_QUEUE = Queue("klaxon.alerts.ingest", exchange=EXCHANGE, routing_key="ingest", durable=True)

ALERTS = "alerts"  # {"kind": "alerts", "alerts": [NormalisedAlert, ...]}
# An alert may carry the queue its sender waits on for the answer (a synchronous POST).
REPLY_TO = "reply_to"
ACKNOWLEDGE = "acknowledge"  # {"kind": "acknowledge", "dedup_key", "integration_id", "actor"}


def alerts_message(alerts):
    return {"kind": ALERTS, "alerts": alerts}


def acknowledge_message(dedup_key, integration_id, actor):
    return {"kind": ACKNOWLEDGE, "dedup_key": dedup_key, "integration_id": integration_id, "actor": actor}


def alerts_in(message):
    """How many alerts a queued message holds (an acknowledgement counts as one)."""
    return len(message.get("alerts") or ()) or 1


def traceparents(message):
    """The traces a queued message's alerts belong to: each alert's own request's."""
    alerts = message.get("alerts") or [message]
    return [alert["traceparent"] for alert in alerts if alert.get("traceparent")]


def one_by_one(message):
    """A message split into messages of one alert each (an acknowledgement stays whole)."""
    if message.get("kind") != ALERTS:
        return [message]
    return [alerts_message([alert]) for alert in message["alerts"]]
