"""Settings read from files: `<NAME>_FILE` names a file whose content is the value.

Compose's init container generates the secrets into a volume and hands their paths over
as KLAXON_AMQP_URI_FILE, KLAXON_DATABASE_URL_FILE and KLAXON_SECRET_KEY_FILE; an
explicit variable still wins.
"""

import pytest

from services.shared import config


@pytest.fixture
def clean_env(monkeypatch):
    for name in ("KLAXON_AMQP_URI", "KLAXON_DATABASE_URL", "KLAXON_ALERTS_DATABASE_URL", "KLAXON_SECRET_KEY"):
        monkeypatch.delenv(name, raising=False)
        monkeypatch.delenv(f"{name}_FILE", raising=False)
    return monkeypatch


def write(tmp_path, name, text):
    path = tmp_path / name
    path.write_text(text)
    return str(path)


def test_the_file_gives_the_value_stripped_of_its_newline(clean_env, tmp_path):
    clean_env.setenv(
        "KLAXON_AMQP_URI_FILE", write(tmp_path, "amqp-uri", "amqp://klaxon:abc@rabbitmq:5672/\n")
    )
    assert config.amqp_uri() == "amqp://klaxon:abc@rabbitmq:5672/"


def test_an_explicit_variable_wins_over_the_file(clean_env, tmp_path):
    clean_env.setenv("KLAXON_AMQP_URI", "amqp://explicit@host/")
    clean_env.setenv("KLAXON_AMQP_URI_FILE", write(tmp_path, "amqp-uri", "amqp://from-file@host/"))
    assert config.amqp_uri() == "amqp://explicit@host/"


def test_an_empty_variable_falls_back_to_the_file(clean_env, tmp_path):
    # compose passes `${VAR:-}` as an empty string when .env does not set it
    clean_env.setenv("KLAXON_SECRET_KEY", "")
    clean_env.setenv("KLAXON_SECRET_KEY_FILE", write(tmp_path, "secret-key", "k3y"))
    assert config.env("KLAXON_SECRET_KEY") == "k3y"


def test_the_database_url_and_secret_key_reach_the_nameko_config(clean_env, tmp_path):
    clean_env.setenv(
        "KLAXON_DATABASE_URL_FILE", write(tmp_path, "database-url", "postgresql://k:p@db/klaxon")
    )
    clean_env.setenv("KLAXON_SECRET_KEY_FILE", write(tmp_path, "secret-key", "signing-key\n"))
    settings = config.nameko_config("alerts")
    assert settings["DATABASE_URL"] == "postgresql://k:p@db/klaxon"
    assert settings["SECRET_KEY"] == "signing-key"


def test_a_per_service_url_still_wins_over_the_shared_file(clean_env, tmp_path):
    clean_env.setenv("KLAXON_DATABASE_URL_FILE", write(tmp_path, "database-url", "postgresql://shared/db"))
    clean_env.setenv("KLAXON_ALERTS_DATABASE_URL", "postgresql://alerts/db")
    assert config.database_url("alerts") == "postgresql://alerts/db"


def test_an_empty_file_means_the_default(clean_env, tmp_path):
    clean_env.setenv("KLAXON_AMQP_URI_FILE", write(tmp_path, "amqp-uri", "\n"))
    assert config.amqp_uri() == config.DEFAULT_AMQP_URI


def test_without_a_file_variable_nothing_is_read(clean_env):
    assert config.secret_file("KLAXON_AMQP_URI") is None
    assert config.amqp_uri() == config.DEFAULT_AMQP_URI


def test_a_missing_file_is_an_error_naming_the_variable(clean_env, tmp_path):
    clean_env.setenv("KLAXON_SECRET_KEY_FILE", str(tmp_path / "absent"))
    with pytest.raises(RuntimeError, match="KLAXON_SECRET_KEY_FILE=.*absent"):
        config.env("KLAXON_SECRET_KEY")
