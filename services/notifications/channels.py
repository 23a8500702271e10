"""Delivery channels. Each takes a ledger row and raises on failure."""

import json
import logging

logger = logging.getLogger("klaxon.notifications.log_channel")


class LogChannel:
    """Writes the page to the process log: for development and first tries."""

    name = "log"

    def send(self, notification):
        logger.warning(
            json.dumps(
                {
                    "page": notification.subject,
                    "recipient": notification.recipient,
                    "incident_id": notification.incident_id,
                    "step": notification.step,
                    "message": notification.message,
                }
            )
        )


CHANNELS = {channel.name: channel for channel in (LogChannel(),)}
