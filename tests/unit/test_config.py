"""services/shared/config.py: settings from the environment and their precedence."""

import os
from pathlib import Path

import pytest

from services.shared import config
from services.shared.config import (
    SERVICE_NAMES,
    SERVICE_PORTS,
    CorrelationSettings,
    database_url,
    env,
    env_flag,
    service_port,
)

DATA_DIR = "/nonexistent/klaxon-unit-test-data"


@pytest.fixture(autouse=True)
def clean_environment(monkeypatch):
    for name in list(os.environ):
        if name.startswith("KLAXON_"):
            monkeypatch.delenv(name)
    monkeypatch.setenv("KLAXON_DATA_DIR", DATA_DIR)


def test_service_names_and_ports():
    assert SERVICE_PORTS == {"alerts": 8001, "incidents": 8002, "oncall": 8003, "notifications": 8004}
    assert SERVICE_NAMES == ("alerts", "incidents", "oncall", "notifications")


# -- database_url -----------------------------------------------------------------------------


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_database_url_defaults_to_a_sqlite_file_per_service(service):
    expected = Path(DATA_DIR).resolve() / f"klaxon-{service}.db"
    assert database_url(service) == f"sqlite:///{expected}"


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_shared_database_url_beats_the_default(monkeypatch, service):
    monkeypatch.setenv("KLAXON_DATABASE_URL", "postgresql://shared/klaxon")
    assert database_url(service) == "postgresql://shared/klaxon"


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_per_service_database_url_beats_the_shared_one(monkeypatch, service):
    monkeypatch.setenv("KLAXON_DATABASE_URL", "postgresql://shared/klaxon")
    monkeypatch.setenv(f"KLAXON_{service.upper()}_DATABASE_URL", f"postgresql://own/{service}")
    assert database_url(service) == f"postgresql://own/{service}"


def test_per_service_url_applies_to_that_service_only(monkeypatch):
    monkeypatch.setenv("KLAXON_DATABASE_URL", "postgresql://shared/klaxon")
    monkeypatch.setenv("KLAXON_ONCALL_DATABASE_URL", "postgresql://own/oncall")
    assert database_url("oncall") == "postgresql://own/oncall"
    assert database_url("alerts") == "postgresql://shared/klaxon"
    assert database_url("incidents") == "postgresql://shared/klaxon"


def test_per_service_url_without_a_shared_one(monkeypatch):
    monkeypatch.setenv("KLAXON_ALERTS_DATABASE_URL", "postgresql://own/alerts")
    assert database_url("alerts") == "postgresql://own/alerts"
    assert database_url("incidents").startswith("sqlite:///")


def test_empty_values_count_as_unset(monkeypatch):
    monkeypatch.setenv("KLAXON_DATABASE_URL", "")
    monkeypatch.setenv("KLAXON_ALERTS_DATABASE_URL", "")
    assert database_url("alerts").startswith("sqlite:///")
    monkeypatch.setenv("KLAXON_DATABASE_URL", "postgresql://shared/klaxon")
    assert database_url("alerts") == "postgresql://shared/klaxon"


def test_data_dir_default_is_var_under_the_working_directory(monkeypatch):
    monkeypatch.delenv("KLAXON_DATA_DIR")
    monkeypatch.chdir("/")
    var = Path("/var").resolve()
    assert config.data_dir() == var
    assert database_url("alerts") == f"sqlite:///{var}/klaxon-alerts.db"


# -- ports ------------------------------------------------------------------------------------


@pytest.mark.parametrize(("service", "port"), sorted(SERVICE_PORTS.items()))
def test_service_port_default(service, port):
    assert service_port(service) == port


@pytest.mark.parametrize("service", SERVICE_NAMES)
def test_service_port_override(monkeypatch, service):
    monkeypatch.setenv(f"KLAXON_{service.upper()}_PORT", "9100")
    assert service_port(service) == 9100
    others = [name for name in SERVICE_NAMES if name != service]
    assert [service_port(name) for name in others] == [SERVICE_PORTS[name] for name in others]


def test_service_port_empty_override_is_the_default(monkeypatch):
    monkeypatch.setenv("KLAXON_ALERTS_PORT", "")
    assert service_port("alerts") == 8001


def test_service_port_must_be_a_number(monkeypatch):
    monkeypatch.setenv("KLAXON_ALERTS_PORT", "eighty")
    with pytest.raises(ValueError):
        service_port("alerts")


def test_edge_port(monkeypatch):
    assert config.edge_port() == 8080
    monkeypatch.setenv("KLAXON_EDGE_PORT", "9090")
    assert config.edge_port() == 9090


# -- env and env_flag -------------------------------------------------------------------------


def test_env(monkeypatch):
    assert env("KLAXON_UNIT_X") is None
    assert env("KLAXON_UNIT_X", "d") == "d"
    monkeypatch.setenv("KLAXON_UNIT_X", "")
    assert env("KLAXON_UNIT_X", "d") == "d"
    monkeypatch.setenv("KLAXON_UNIT_X", "value")
    assert env("KLAXON_UNIT_X", "d") == "value"


@pytest.mark.parametrize(
    "value", ["1", "true", "TRUE", "True", "yes", "YES", "on", "On", " true ", "\tyes\n"]
)
def test_env_flag_true_words(monkeypatch, value):
    monkeypatch.setenv("KLAXON_UNIT_FLAG", value)
    assert env_flag("KLAXON_UNIT_FLAG") is True
    assert env_flag("KLAXON_UNIT_FLAG", default=False) is True


@pytest.mark.parametrize("value", ["0", "false", "no", "off", "nope", "2", "y", "enabled", " "])
def test_env_flag_anything_else_is_false(monkeypatch, value):
    monkeypatch.setenv("KLAXON_UNIT_FLAG", value)
    assert env_flag("KLAXON_UNIT_FLAG", default=True) is False


@pytest.mark.parametrize("default", [True, False])
def test_env_flag_unset_or_empty_is_the_default(monkeypatch, default):
    assert env_flag("KLAXON_UNIT_FLAG", default=default) is default
    monkeypatch.setenv("KLAXON_UNIT_FLAG", "")
    assert env_flag("KLAXON_UNIT_FLAG", default=default) is default


def test_env_flag_default_is_false():
    assert env_flag("KLAXON_UNIT_FLAG") is False


# -- nameko config ----------------------------------------------------------------------------


def test_nameko_config(monkeypatch):
    monkeypatch.setenv("KLAXON_BIND_HOST", "0.0.0.0")
    monkeypatch.setenv("KLAXON_INCIDENTS_PORT", "9002")
    monkeypatch.setenv("KLAXON_DATABASE_URL", "postgresql://shared/klaxon")
    monkeypatch.setenv("KLAXON_CORRELATION_WINDOW_SECONDS", "60")
    monkeypatch.setenv("KLAXON_AMQP_URI", "amqp://rabbit:5672/")
    settings = config.nameko_config("incidents")
    assert settings["WEB_SERVER_ADDRESS"] == "0.0.0.0:9002"
    assert settings["DATABASE_URL"] == "postgresql://shared/klaxon"
    assert settings["CORRELATION_WINDOW_SECONDS"] == 60
    assert settings["AMQP_URI"] == "amqp://rabbit:5672/"
    assert settings["KLAXON_SERVICE"] == "incidents"
    assert settings["serializer"] == "json"
    assert settings["DEFAULT_TEAM"] is None


def test_nameko_config_defaults():
    settings = config.nameko_config("oncall")
    assert settings["WEB_SERVER_ADDRESS"] == "127.0.0.1:8003"
    assert settings["AMQP_URI"] == config.DEFAULT_AMQP_URI
    assert settings["CORRELATION_WINDOW_SECONDS"] == 300
    assert settings["max_workers"] == 10


def test_correlation_settings():
    assert CorrelationSettings.from_config({}).window_seconds == 300
    assert CorrelationSettings.from_config({"CORRELATION_WINDOW_SECONDS": "90"}).window_seconds == 90


def test_schema_name(monkeypatch):
    assert config.schema_name("alerts") == "alerts"
    monkeypatch.setenv("KLAXON_SCHEMA_PREFIX", "t1_")
    assert config.schema_name("alerts") == "t1_alerts"


def test_max_workers_per_service(monkeypatch):
    monkeypatch.delenv("KLAXON_MAX_WORKERS", raising=False)
    monkeypatch.delenv("KLAXON_ALERTS_MAX_WORKERS", raising=False)
    assert config.nameko_config("alerts")["max_workers"] == 64  # its port's requests wait in rounds
    monkeypatch.setenv("KLAXON_MAX_WORKERS", "20")
    assert config.nameko_config("alerts")["max_workers"] == 20
    assert config.nameko_config("incidents")["max_workers"] == 20
    monkeypatch.setenv("KLAXON_ALERTS_MAX_WORKERS", "100")
    assert config.nameko_config("alerts")["max_workers"] == 100
    assert config.nameko_config("incidents")["max_workers"] == 20


def test_the_keyless_rate_limit_reaches_the_alerts_service_as_it_does_the_edge(monkeypatch):
    monkeypatch.setenv("KLAXON_SECRET_KEY", "k" * 32)
    assert config.nameko_config("alerts")["KEYLESS_RATE_LIMIT"] == 6000
    monkeypatch.setenv("KLAXON_KEYLESS_RATE_LIMIT", "120")
    assert config.nameko_config("alerts")["KEYLESS_RATE_LIMIT"] == 120
