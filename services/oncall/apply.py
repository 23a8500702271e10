"""Schedules as code: `klaxon apply -f FILE.yaml` makes the on-call store match a file.

The file holds `schedules` (the shape of POST /api/v1/schedules: a team, its rotation,
its members and the services it answers for) and `escalation_policies` (the shape of
POST /api/v1/escalation_policies). Every entry is validated before anything is written,
so a file with one mistake changes nothing. Applying the same file again changes nothing
and says so.
"""

from pathlib import Path

import yaml

from services.oncall.migrations import MIGRATIONS
from services.oncall.models import db
from services.oncall.policy import parse_policy
from services.oncall.requests import parse_schedule
from services.oncall.store import OncallStore
from services.shared.db import utcnow
from services.shared.errors import NotFound, ValidationFailed
from services.shared.migrations import bind_and_migrate

SECTIONS = {
    "schedules": (parse_schedule, "save_schedule", "schedule"),
    "escalation_policies": (parse_policy, "save_policy", "policy"),
}


class ApplyError(Exception):
    """The file cannot be applied; nothing was written."""


def read(path, also=()):
    """The validated requests of the file, section by section, in the order to apply them;
    sections named in `also` belong to another service's part of `klaxon apply`."""
    try:
        document = yaml.safe_load(Path(path).read_text()) or {}
    except (OSError, yaml.YAMLError) as error:
        raise ApplyError(f"{path}: {error}") from None
    if not isinstance(document, dict):
        raise ApplyError(f"{path}: expected a mapping with {' and/or '.join(SECTIONS)}")
    unknown = sorted(set(document) - set(SECTIONS) - set(also))
    if unknown:
        known = ", ".join([*SECTIONS, *also])
        raise ApplyError(f"{path}: unknown section(s) {', '.join(unknown)}; known: {known}")
    parsed, problems = [], []
    for section in SECTIONS:
        requests, found = _parse(section, document.get(section) or [])
        parsed.append((section, requests))
        problems += found
    if problems:
        raise ApplyError("; ".join(problems))
    return parsed


def _parse(section, entries):
    parser = SECTIONS[section][0]
    requests, problems = [], []
    for index, entry in enumerate(entries):
        try:
            requests.append(parser(entry))
        except ValidationFailed as error:
            problems += [f"{section}[{index}].{e['field']}: {e['reason']}" for e in error.errors]
    return requests, problems


def apply(path, url=None, also=()):
    """Apply the file; yields one line per entry: created, updated or unchanged."""
    sections = read(path, also)
    bind_and_migrate(db, MIGRATIONS, "oncall", url)
    store = OncallStore(db, {})
    with db.connection_context():
        for section, requests in sections:
            _, save, show = SECTIONS[section]
            for request in requests:
                yield _apply_one(store, save, show, request)


def _apply_one(store, save, show, request):
    before = _current(store, show, request.team)
    after = getattr(store, save)(request, utcnow())
    change = "created" if before is None else "unchanged" if before == after else "updated"
    return f"{show} {request.team}: {change}"


def _current(store, show, team):
    try:
        found = getattr(store, show)(team)
    except NotFound:
        return None
    return None if found.get("default") else found  # a team on the default policy has none yet
