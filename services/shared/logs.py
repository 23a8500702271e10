"""Structured logs: one JSON object per line on stdout, with the trace they belong to.

A client's mistake (a KlaxonError: not found, conflict, invalid) is an answer, not a
fault: Nameko logs a worker that raised one as an error with a traceback, and
`ClientErrorsAreInfo` turns that into one line at info.

A record logged with `extra={"fields": {...}}` carries those keys in its line (the log
channel's page, for one), so the message itself stays readable.
"""

import json
import logging
import sys
import time

from services.shared.config import env, env_flag
from services.shared.errors import KlaxonError
from services.shared.redaction import hide_targets_in
from services.shared.tracing import current_span_id, current_trace_id


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
        trace_id = current_trace_id()
        if trace_id:
            entry.update(trace_id=trace_id, span_id=current_span_id())
        for key, value in getattr(record, "fields", {}).items():
            entry.setdefault(key, value)
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry)


class ClientErrorsAreInfo(logging.Filter):
    """A worker that answered a client error is logged at info, without a traceback."""

    def filter(self, record):
        error = record.exc_info[1] if record.exc_info else None
        if isinstance(error, KlaxonError):
            record.levelno, record.levelname = logging.INFO, "INFO"
            record.msg, record.args = "%s answered %s: %s", (_worker_of(record), type(error).__name__, error)
            record.exc_info = record.exc_text = None
        return True


class RequestSecretsHidden(logging.Filter):
    """A port's access line names the request target, which can hold a credential (an
    `?integration_key=`, an acknowledge link's token): it is written with them hidden."""

    def filter(self, record):
        record.msg, record.args = hide_targets_in(record.getMessage()), ()
        return True


def _worker_of(record):
    args = record.args if isinstance(record.args, tuple) else ()
    return args[0] if args else "a worker"


def setup_logging(service):
    handler = logging.StreamHandler(sys.stdout)
    handler.setFormatter(JsonFormatter(service))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(env("KLAXON_LOG_LEVEL", "INFO").upper())
    logging.getLogger("nameko.containers").addFilter(ClientErrorsAreInfo())
    # A line per request costs a service's port more CPU than parsing the request does,
    # and the edge writes none either; the request metrics count and time every one.
    access = logging.INFO if env_flag("KLAXON_ACCESS_LOG") else logging.WARNING
    server = logging.getLogger("nameko.web.server")
    server.setLevel(access)
    if not any(isinstance(found, RequestSecretsHidden) for found in server.filters):
        server.addFilter(RequestSecretsHidden())
