"""The notifications service's public names: RPC methods, events and channels."""

SERVICE = "notifications"

# RPC
NOTIFY = "notify"
LIST = "list_notifications"
PAGE_LOAD = "page_load"  # (since, until, {recipient: time zone}) -> pages and night pages per person
ATTEMPTS = "attempts"
REDEEM_ACK = "redeem_ack"
PREVIEW_ACK = "preview_ack"  # what a link would acknowledge, without using it

# Events
NOTIFICATION_DELIVERED = "notification_delivered"
NOTIFICATION_FAILED = "notification_failed"

CHANNELS = ("log", "email", "webhook", "slack")


def ledger_key(request):
    """One page per (incident, step, recipient, channel) of an escalation; a message asked
    for by hand (`notify`, POST /api/v1/notify) keys on its request id, so it can neither
    stand in for an escalation's page nor be swallowed by one."""
    if request.get("incident_id") is not None and not request.get(ASKED_BY_HAND):
        return (
            f"{request['incident_id']}:{request.get('step', 0)}:{request['recipient']}:{request['channel']}"
        )
    return f"{AD_HOC_PREFIX}{request['request_id']}"


def is_ad_hoc(key):
    """Whether a ledger key is a message asked for by hand (it carries no acknowledge link)."""
    return key.startswith(AD_HOC_PREFIX)


ASKED_BY_HAND = "asked_by_hand"
AD_HOC_PREFIX = "adhoc:"
