"""Structured logs: one JSON object per line on stdout."""

import json
import logging
import sys
import time

from services.shared.config import env


class JsonFormatter(logging.Formatter):
    def __init__(self, service):
        super().__init__()
        self.service = service
        self.converter = time.gmtime

    def format(self, record):
        entry = {
            "time": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "service": self.service,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


def setup_logging(service):
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(env("KLAXON_LOG_LEVEL", "INFO").upper())
