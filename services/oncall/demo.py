"""The demo teams, rotations, service catalog and an escalation policy (demo.yaml),
applied like any schedules-as-code file."""

from pathlib import Path

from services.oncall.apply import apply

DEMO_FILE = Path(__file__).with_name("demo.yaml")


def load(path=DEMO_FILE, url=None):
    """Apply the demo file; safe to run again. Yields one line per entry."""
    for line in apply(path, url):
        yield f"demo: {line}"
