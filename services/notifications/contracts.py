"""The notifications service's public names: RPC methods, events and channels."""

SERVICE = "notifications"

# RPC
NOTIFY = "notify"
LIST = "list_notifications"
PAGE_LOAD = "page_load"  # (since, until, {recipient: time zone}) -> pages and night pages per person
ATTEMPTS = "attempts"
REDEEM_ACK = "redeem_ack"

# Events
NOTIFICATION_DELIVERED = "notification_delivered"
NOTIFICATION_FAILED = "notification_failed"

CHANNELS = ("log", "email", "webhook", "slack")


def ledger_key(request):
    """One page per (incident, step, recipient, channel); ad-hoc messages key on their id."""
    if request.get("incident_id") is not None:
        return (
            f"{request['incident_id']}:{request.get('step', 0)}:{request['recipient']}:{request['channel']}"
        )
    return f"adhoc:{request['request_id']}"
