"""Shared fixtures: real PostgreSQL and SQLite stores, and RabbitMQ through nameko's plugin.

Nameko's pytest plugin no longer monkey-patches, so it happens here, before anything
imports socket; psycopg2 then yields to the eventlet hub instead of blocking it.
"""

import warnings

warnings.filterwarnings("ignore", message="\nEventlet is deprecated")

import eventlet  # noqa: E402

eventlet.monkey_patch()

import os  # noqa: E402
import time  # noqa: E402
import uuid  # noqa: E402

import peewee  # noqa: E402
import pytest  # noqa: E402
from psycogreen.eventlet import patch_psycopg  # noqa: E402

patch_psycopg()

from klaxon.registry import bind_and_migrate  # noqa: E402
from services.shared.config import SERVICE_CONTAINER_CLS  # noqa: E402

PG_URL = os.environ.get("KLAXON_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test")
SERVICES = ("alerts", "incidents", "oncall", "notifications")


def drop_schemas(prefix, attempts=3):
    """Drop the schemas of one test platform, ending its leftover connections first.

    A connection left idle in a transaction (say, by a process killed mid-write) would make
    DROP SCHEMA wait forever; the services name their connections `klaxon:<schema>`.
    """
    database = peewee.PostgresqlDatabase(None)
    database.init(PG_URL.rsplit("/", 1)[1], host="127.0.0.1", user="postgres")
    with database.connection_context():
        database.execute_sql("SET lock_timeout = '10s'")
        for attempt in range(attempts):
            try:
                _end_connections(database, prefix)
                for service in SERVICES:
                    database.execute_sql(f'DROP SCHEMA IF EXISTS "{prefix}{service}" CASCADE')
                return
            except peewee.OperationalError:  # a deadlock or lock timeout with a worker finishing
                if attempt == attempts - 1:
                    raise


def _end_connections(database, prefix):
    database.execute_sql(
        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity"
        " WHERE application_name LIKE %s AND pid <> pg_backend_pid()",
        (f"klaxon:{prefix}%",),
    )


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request, tmp_path, monkeypatch):
    """A fresh, empty database for each service, on SQLite and then on PostgreSQL."""
    if request.param == "sqlite":
        monkeypatch.setenv("KLAXON_DATA_DIR", str(tmp_path))
        yield f"sqlite:///{tmp_path}/klaxon.db"
        return
    prefix = f"t{uuid.uuid4().hex[:10]}_"
    monkeypatch.setenv("KLAXON_SCHEMA_PREFIX", prefix)
    yield PG_URL
    drop_schemas(prefix)


def close_pool(db):
    """Close this thread's connection and, for a PostgreSQL pool, every pooled one."""
    if not db.is_closed():
        db.close()
    close_all = getattr(db.obj, "close_all", None)
    if close_all is not None:
        close_all()


@pytest.fixture
def bound(database_url):
    """bound("incidents") binds that service's models to the test database and migrates;
    every pool it opened is closed when the test ends."""
    opened = []

    def bind(service):
        bind_and_migrate(service, database_url)
        module = __import__(f"services.{service}.models", fromlist=["db"])
        opened.append(module.db)
        return module.db

    yield bind
    for db in opened:
        close_pool(db)


@pytest.fixture
def alerts_db(bound):
    return bound("alerts")


@pytest.fixture
def incidents_db(bound):
    return bound("incidents")


@pytest.fixture
def broker_config(rabbit_config):
    """Nameko config for a container on a RabbitMQ vhost of its own, speaking JSON as the services do."""
    return {**rabbit_config, "serializer": "json"}


# The networks the tests' own receivers listen on, where pages may go
# (KLAXON_WEBHOOK_ALLOWED_NETWORKS; services.notifications.destinations).
LOOPBACK = ["127.0.0.0/8", "::1/128"]


@pytest.fixture
def service_config(broker_config, database_url):
    """Nameko config for a service under test: its own vhost, the test database, a web port."""
    config = dict(broker_config)
    config.update(
        {
            "DATABASE_URL": database_url,
            "WEB_SERVER_ADDRESS": "127.0.0.1:0",
            "CORRELATION_WINDOW_SECONDS": 300,
            "WEBHOOK_ALLOWED_NETWORKS": LOOPBACK,
            "SERVICE_CONTAINER_CLS": SERVICE_CONTAINER_CLS,  # as `klaxon service` runs them
        }
    )
    return config


def eventually(check, timeout=15.0, interval=0.05):
    """Poll `check` until it returns a truthy value or the deadline passes; return the value."""
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"not true within {timeout}s: {check.__doc__ or check}")
        eventlet.sleep(interval)
