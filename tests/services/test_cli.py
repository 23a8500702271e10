"""The `klaxon` CLI against a real database: migrations, demo data, integration keys."""

import json

import pytest

from klaxon.cli import main


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    monkeypatch.setenv("KLAXON_DATA_DIR", str(tmp_path))
    monkeypatch.delenv("KLAXON_DATABASE_URL", raising=False)
    return tmp_path


def test_migrate_then_demo_twice_is_idempotent(data_dir, capsys):
    assert main(["migrate"]) == 0
    assert "alerts: applied 1, 2" in capsys.readouterr().out
    assert main(["migrate"]) == 0
    assert "alerts: up to date" in capsys.readouterr().out
    for change in ("created", "unchanged"):
        assert main(["demo"]) == 0
        out = capsys.readouterr().out
        assert f"demo: schedule platform-engineering: {change}" in out
        assert f"demo: policy data: {change}" in out
        assert f"demo: schedule platform: {change}" in out
        assert f"demo: policy platform: {change}" in out
    assert sorted(p.name for p in data_dir.glob("*.db")) == [
        f"klaxon-{name}.db" for name in ("alerts", "incidents", "notifications", "oncall")
    ]


def test_integration_create_list_revoke(data_dir, capsys):
    assert main(["integration", "create", "prom", "--kind", "alertmanager", "--service", "checkout"]) == 0
    created = json.loads(capsys.readouterr().out)
    assert created["key"].startswith("klx_") and created["default_service"] == "checkout"
    assert main(["integration", "list"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [i["name"] for i in listed] == ["prom"] and "key" not in listed[0]
    assert main(["integration", "revoke", str(created["id"])]) == 0
    assert json.loads(capsys.readouterr().out)["revoked_at"]


def test_integration_errors_are_one_clear_line(data_dir, capsys):
    with pytest.raises(SystemExit) as exited:
        main(["integration", "create", "bad name!"])
    assert exited.value.code == 2
    assert "klaxon: name: use letters, digits" in capsys.readouterr().err
