"""PagerDuty Events API v2 (SPEC §1, examples/payloads/pagerduty-events-v2-*.json).

https://developer.pagerduty.com/docs/events-api-v2/trigger-events/ — `trigger`,
`acknowledge` and `resolve` by `dedup_key` within one `routing_key`. Answers are PagerDuty's
own: `pagerduty_success` for 202, `PagerDutyInvalid.pagerduty_body()` for 400, so an
existing PagerDuty client works by changing only its base URL.
"""

import datetime as dt
import re
import uuid

from nameko.exceptions import deserialize_to_instance

from services.alerts.formats.alertmanager import MAX_SERVICE, as_text, parse_timestamp, text
from services.shared.errors import ValidationFailed
from services.shared.severity import normalise_severity

SOURCE = "pagerduty"
ACTIONS = ("trigger", "acknowledge", "resolve")
NEEDS_DEDUP_KEY = ("acknowledge", "resolve")
PAGERDUTY_SEVERITIES = ("critical", "error", "warning", "info")
LABELS = ("source", "component", "group", "class")
DETAILS_OF_PAYLOAD = ("custom_details",)
DETAILS_OF_EVENT = ("links", "images", "client", "client_url")
LISTS = ("links", "images")
MAX_ROUTING_KEY = 200
MAX_DEDUP_KEY = 255
MAX_SUMMARY = 1024
MAX_SOURCE = 1024
QUOTED_FIELD = re.compile(r"'([^']+)'")


@deserialize_to_instance
class PagerDutyInvalid(ValidationFailed):
    """An invalid event: `messages` are PagerDuty's error strings, `errors` Klaxon's [{"field", "reason"}].

    Built from the strings alone, which are its only argument, so it crosses Nameko RPC intact.
    """

    def __init__(self, errors):
        self.messages = [str(message) for message in errors]
        super().__init__([field_and_reason(message) for message in self.messages])
        self.args = (self.messages,)

    def pagerduty_body(self):
        """PagerDuty's 400 body."""
        return {
            "status": "invalid event",
            "message": "Event object is invalid",
            "errors": list(self.messages),
        }


def field_and_reason(message):
    """{"field", "reason"} of one PagerDuty error string: the field is its first quoted name."""
    found = QUOTED_FIELD.search(message)
    if found is None:
        return {"field": "body", "reason": message}
    field = found.group(1)
    reason = message[found.end() :].strip() if found.start() == 0 else message
    return {"field": field, "reason": reason or message}


def pagerduty_success(dedup_key):
    """PagerDuty's 202 body."""
    return {"status": "success", "message": "Event processed", "dedup_key": dedup_key}


def parse_pagerduty(payload, default_service=None, now=None):
    """{"routing_key", "event_action", "dedup_key", "alert": NormalisedAlert | None}, or `PagerDutyInvalid`.

    `alert` is set for `trigger` only; a trigger without a dedup_key gets a new one (uuid4 hex).
    """
    event = checked(payload)
    action = event["event_action"]
    dedup_key = event.get("dedup_key") if text(event.get("dedup_key")) else uuid.uuid4().hex
    alert = trigger_alert(event, dedup_key, default_service, now) if action == "trigger" else None
    return {
        "routing_key": event["routing_key"],
        "event_action": action,
        "dedup_key": dedup_key,
        "alert": alert,
    }


def checked(event):
    if not isinstance(event, dict):
        raise PagerDutyInvalid(["'body' is invalid (must be a JSON object)"])
    problems = event_problems(event)
    if problems:
        raise PagerDutyInvalid(problems)
    return event


def event_problems(event):
    """Every PagerDuty error string that applies to `event`, in PagerDuty's order of fields."""
    action = event.get("event_action")
    problems = [
        *text_problems(event.get("routing_key"), "routing_key", MAX_ROUTING_KEY),
        *action_problems(action),
        *text_problems(event.get("dedup_key"), "dedup_key", MAX_DEDUP_KEY, action in NEEDS_DEDUP_KEY),
    ]
    if action == "trigger":
        problems += payload_problems(event.get("payload"))
        problems += [f"'{key}' is invalid (must be an array)" for key in LISTS if not_a_list(event.get(key))]
    return problems


def text_problems(value, field, limit, required=True):
    if value is None or (isinstance(value, str) and not value.strip()):
        return [f"'{field}' is missing or blank"] if required else []
    if not isinstance(value, str):
        return [f"'{field}' is invalid (must be a string)"]
    if len(value) > limit:
        return [f"Length of '{field}' is incorrect (should be at most {limit} characters)"]
    return []


def action_problems(action):
    if action is None or action == "":
        return ["'event_action' is missing or blank"]
    return [] if action in ACTIONS else ["'event_action' is invalid"]


def payload_problems(body):
    if body is None:
        return ["'payload' is missing or blank"]
    if not isinstance(body, dict):
        return ["'payload' is invalid (must be an object)"]
    return [
        *text_problems(body.get("summary"), "payload.summary", MAX_SUMMARY),
        *text_problems(body.get("source"), "payload.source", MAX_SOURCE),
        *severity_problems(body.get("severity")),
        *timestamp_problems(body.get("timestamp")),
    ]


def severity_problems(severity):
    if severity is None or severity == "":
        return ["'payload.severity' is missing or blank"]
    if pagerduty_severity(severity) is None:
        return [f"'payload.severity' is invalid (must be one of: {', '.join(PAGERDUTY_SEVERITIES)})"]
    return []


def pagerduty_severity(severity):
    """One of PagerDuty's four (any case), else None."""
    if not isinstance(severity, str) or severity.strip().lower() not in PAGERDUTY_SEVERITIES:
        return None
    return severity.strip().lower()


def timestamp_problems(timestamp):
    try:
        parse_timestamp(timestamp)
    except ValueError:
        return ["'payload.timestamp' is invalid (must be an ISO 8601 timestamp)"]
    return []


def not_a_list(value):
    return value is not None and not isinstance(value, list)


def trigger_alert(event, dedup_key, default_service, now):
    """The `NormalisedAlert` of a valid trigger event."""
    body = event["payload"]
    timestamp = parse_timestamp(body.get("timestamp")) or now or dt.datetime.now(dt.UTC)
    return {
        "alert_id": str(uuid.uuid4()),
        "source": SOURCE,
        "service": (text(default_service) or body["source"].strip())[:MAX_SERVICE],
        "severity": normalise_severity(pagerduty_severity(body["severity"])),
        "message": body["summary"].strip(),
        "labels": {key: as_text(body[key]).strip() for key in LABELS if text(as_text(body.get(key)))},
        "timestamp": timestamp.astimezone(dt.UTC).isoformat(),
        "dedup_key": dedup_key,
        "status": "firing",
        "group_key": None,
        "details": trigger_details(event),
    }


def trigger_details(event):
    """custom_details, links, images, client and client_url, those that are present and not empty."""
    details = {key: event["payload"].get(key) for key in DETAILS_OF_PAYLOAD}
    details.update((key, event.get(key)) for key in DETAILS_OF_EVENT)
    return {key: value for key, value in details.items() if value not in (None, "", [], {})}
