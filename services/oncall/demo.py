"""Loading the demo teams, rotations and service catalog (demo.yaml)."""

from pathlib import Path

import yaml

from services.oncall.models import db
from services.oncall.requests import parse_schedule
from services.oncall.store import OncallStore
from services.shared.db import utcnow
from services.shared.registry import bind_and_migrate

DEMO_FILE = Path(__file__).with_name("demo.yaml")


def load(path=DEMO_FILE, url=None):
    """Apply every schedule of the file; safe to run again. Yields one line per team."""
    bind_and_migrate("oncall", url)
    store = OncallStore(db, {})
    document = yaml.safe_load(Path(path).read_text())
    with db.connection_context():
        for entry in document.get("schedules", []):
            schedule = store.save_schedule(parse_schedule(entry), utcnow())
            services = ", ".join(schedule["services"])
            yield f"demo: team {schedule['team']} ({schedule['rotation_type']}), services {services}"
