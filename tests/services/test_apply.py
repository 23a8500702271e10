"""`klaxon apply -f`: schedules as code, on real SQLite and PostgreSQL."""

import pytest
import yaml

from klaxon.cli import main
from services.oncall.apply import ApplyError, apply
from services.oncall.demo import DEMO_FILE
from services.oncall.models import EscalationPolicy, Team, db
from tests.conftest import close_pool


@pytest.fixture
def applied(database_url):
    """apply(path) as a list of lines, against the test database."""
    yield lambda path: list(apply(path, database_url))
    close_pool(db)


def demo(tmp_path, **changes):
    document = yaml.safe_load(DEMO_FILE.read_text())
    document.update(changes)
    path = tmp_path / "oncall.yaml"
    path.write_text(yaml.safe_dump(document))
    return path, document


def test_applying_creates_then_changes_nothing_then_updates_what_changed(applied, tmp_path):
    path, document = demo(tmp_path)
    assert applied(path) == [
        "schedule platform-engineering: created",
        "schedule data: created",
        "schedule platform: created",
        "policy data: created",
        "policy platform: created",
    ]
    assert applied(path) == [
        "schedule platform-engineering: unchanged",
        "schedule data: unchanged",
        "schedule platform: unchanged",
        "policy data: unchanged",
        "policy platform: unchanged",
    ]
    document["schedules"][1]["handoff_time"] = "10:00"
    document["escalation_policies"][0]["repeat"] = 3
    path.write_text(yaml.safe_dump(document))
    assert applied(path) == [
        "schedule platform-engineering: unchanged",
        "schedule data: updated",
        "schedule platform: unchanged",
        "policy data: updated",
        "policy platform: unchanged",
    ]
    with db.connection_context():
        assert Team.select().count() == 3 and EscalationPolicy.select().count() == 2


def test_a_file_with_mistakes_changes_nothing_and_names_every_one(applied, tmp_path):
    path, _ = demo(tmp_path)
    applied(path)
    bad = {
        "schedules": [
            {
                "team": "new-team",
                "rotation_type": "monthly",
                "members": [{"name": "X", "email": "x@example.com"}],
            }
        ],
        "escalation_policies": [{"team": "data", "steps": []}],
    }
    path.write_text(yaml.safe_dump(bad))
    with pytest.raises(ApplyError) as refused:
        applied(path)
    assert "schedules[0].rotation_type" in str(refused.value) and "escalation_policies[0].steps" in str(
        refused.value
    )
    with db.connection_context():
        assert not Team.select().where(Team.name == "new-team").exists()


@pytest.mark.parametrize("text", ["just a string", "teams: []", "schedules: [\n"])
def test_a_file_of_another_shape_is_refused(applied, tmp_path, text):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(ApplyError):
        applied(path)


def test_the_cli_prints_the_changes_and_exits_2_on_a_bad_file(database_url, tmp_path, capsys, monkeypatch):
    monkeypatch.setenv("KLAXON_DATABASE_URL", database_url)
    path, _ = demo(tmp_path)
    try:
        assert main(["apply", "-f", str(path)]) == 0
        assert "schedule data: created" in capsys.readouterr().out
        path.write_text("escalation_policies: [{team: data}]")
        assert main(["apply", "-f", str(path)]) == 2
        assert "escalation_policies[0].steps" in capsys.readouterr().err
    finally:
        close_pool(db)


def test_maintenance_windows_are_applied_with_the_rest_of_the_file(
    database_url, tmp_path, capsys, monkeypatch
):
    from services.alerts.models import MaintenanceWindow
    from services.alerts.models import db as alerts_db

    monkeypatch.setenv("KLAXON_DATABASE_URL", database_url)
    sunday_nights = {
        "reason": "weekly database maintenance",
        "matchers": ["service=checkout-api", "env=~prod.*"],
        "recurrence": {
            "rrule": "FREQ=WEEKLY;BYDAY=SU",
            "timezone": "Europe/Paris",
            "start_time": "02:00",
            "end_time": "04:00",
        },
    }
    path, document = demo(tmp_path, maintenance_windows=[sunday_nights])
    try:
        assert main(["apply", "-f", str(path)]) == 0
        assert "maintenance window 'weekly database maintenance': created" in capsys.readouterr().out
        assert main(["apply", "-f", str(path)]) == 0
        assert "maintenance window 'weekly database maintenance': unchanged" in capsys.readouterr().out
        path.write_text(
            yaml.safe_dump({**document, "maintenance_windows": [{**sunday_nights, "replay": False}]})
        )
        assert main(["apply", "-f", str(path)]) == 0
        assert "maintenance window 'weekly database maintenance': updated" in capsys.readouterr().out
        with alerts_db.connection_context():
            [window] = MaintenanceWindow.select()
            assert (window.replay, window.author) == (False, "klaxon-apply")
        bad = {**sunday_nights, "reason": "another", "matchers": ["nonsense"]}
        path.write_text(yaml.safe_dump({**document, "maintenance_windows": [bad]}))
        assert main(["apply", "-f", str(path)]) == 2
        assert "maintenance_windows[0].matchers" in capsys.readouterr().err
        with alerts_db.connection_context():
            assert MaintenanceWindow.select().count() == 1
    finally:
        close_pool(db)
        close_pool(alerts_db)
