"""Versioned migrations on real SQLite and PostgreSQL: applied once, one ledger per service.

On SQLite the `database_url` fixture hands every service the same file, so these tests also
show that the four services can share one file without stepping on each other's ledger.
"""

import datetime as dt
import importlib

import eventlet
import peewee
import psycopg2
import pytest

from klaxon.registry import bind_and_migrate
from services.incidents.migrations import MIGRATIONS
from services.shared import config
from services.shared.db import bind_database, is_sqlite, open_database
from services.shared.migrations import migrate

T0 = dt.datetime(2026, 11, 20, 3, 0, tzinfo=dt.UTC)
SERVICES = ("alerts", "incidents", "oncall", "notifications")
TABLES = {
    "alerts": {"alerts", "integrations", "maintenance_windows", "maintenance_window_changes", "heartbeats"},
    "incidents": {"incidents", "incident_alerts", "incident_timeline"},
    "oncall": {
        "teams",
        "people",
        "schedules",
        "rotation_members",
        "service_routes",
        "escalations",
        "escalation_policies",
        "overrides",
        "auth_sessions",
        "api_tokens",
        "login_failures",
        "audit_log",
        "calendar_feeds",
    },
    "notifications": {"notifications", "notification_attempts", "used_ack_links"},
}


def versions(service):
    migrations = importlib.import_module(f"services.{service}.migrations").MIGRATIONS
    return sorted(m.version for m in migrations)


def proxy(service):
    return importlib.import_module(f"services.{service}.models").db


def close_pool(db):
    db = getattr(db, "obj", db)
    if not db.is_closed():
        db.close()
    close_all = getattr(db, "close_all", None)
    if close_all is not None:
        close_all()


def ledger(db, service):
    """(service, version) rows of the ledger that `service`'s database holds."""
    with db.connection_context():
        cursor = db.execute_sql("SELECT service, version FROM klaxon_migrations")
        return sorted((row[0], row[1]) for row in cursor.fetchall())


def tables(db, service):
    with db.connection_context():
        if is_sqlite(db):
            return set(db.get_tables())
        return set(db.get_tables(schema=config.schema_name(service)))


@pytest.fixture
def opened():
    databases = []
    yield databases
    for db in databases:
        close_pool(db)


@pytest.mark.parametrize("service", SERVICES)
def test_migrating_twice_applies_nothing_the_second_time(database_url, opened, service):
    assert bind_and_migrate(service, database_url) == versions(service)
    opened.append(proxy(service).obj)
    assert bind_and_migrate(service, database_url) == []
    opened.append(proxy(service).obj)
    db = proxy(service)
    assert TABLES[service] <= tables(db, service)
    assert ledger(db, service) == [(service, v) for v in versions(service)]


def test_data_survives_a_second_migration(database_url, opened):
    from services.alerts.models import Alert

    bind_and_migrate("alerts", database_url)
    opened.append(proxy("alerts").obj)
    with proxy("alerts").connection_context():
        Alert.insert(
            alert_id="a-1",
            source="generic",
            service="s",
            severity="low",
            message="m",
            timestamp=T0,
            received_at=T0,
            status="firing",
        ).execute()
    assert bind_and_migrate("alerts", database_url) == []
    opened.append(proxy("alerts").obj)
    with proxy("alerts").connection_context():
        assert [a.alert_id for a in Alert.select()] == ["a-1"]


def test_four_services_share_one_database_without_sharing_a_ledger(database_url, opened):
    for service in SERVICES:
        assert bind_and_migrate(service, database_url) == versions(service), service
        opened.append(proxy(service).obj)
    for service in SERVICES:
        assert bind_and_migrate(service, database_url) == [], service
        opened.append(proxy(service).obj)

    every = sorted((service, v) for service in SERVICES for v in versions(service))
    if "sqlite" in database_url:
        # one file, one ledger table, a row per (service, version)
        for service in SERVICES:
            assert ledger(proxy(service), service) == every
            assert set().union(*TABLES.values()) <= tables(proxy(service), service)
    else:
        # a schema per service, each with its own ledger and only its own tables
        for service in SERVICES:
            assert ledger(proxy(service), service) == [(service, v) for v in versions(service)]
            owned = tables(proxy(service), service) - {"klaxon_migrations"}
            assert owned == TABLES[service], service


def test_a_service_migrated_after_the_others_still_gets_its_tables(database_url, opened):
    for service in ("incidents", "oncall", "notifications"):
        bind_and_migrate(service, database_url)
        opened.append(proxy(service).obj)
    # the ledger exists already, with other services' rows in it on SQLite
    assert bind_and_migrate("alerts", database_url) == versions("alerts")
    opened.append(proxy("alerts").obj)
    assert TABLES["alerts"] <= tables(proxy("alerts"), "alerts")


def test_sqlite_file_per_service_by_default(tmp_path, monkeypatch, opened):
    monkeypatch.delenv("KLAXON_DATABASE_URL", raising=False)
    monkeypatch.setenv("KLAXON_DATA_DIR", str(tmp_path))
    for service in SERVICES:
        monkeypatch.delenv(f"KLAXON_{service.upper()}_DATABASE_URL", raising=False)
        assert bind_and_migrate(service) == versions(service)
        opened.append(proxy(service).obj)
        assert isinstance(proxy(service).obj, peewee.SqliteDatabase)
    assert sorted(p.name for p in tmp_path.glob("*.db")) == sorted(
        f"klaxon-{service}.db" for service in SERVICES
    )
    for service in SERVICES:
        assert bind_and_migrate(service) == []
        opened.append(proxy(service).obj)


# -- replicas starting together (PostgreSQL) ---------------------------------------------


def skip_on_sqlite(database_url):
    if "sqlite" in database_url:
        pytest.skip("replicas sharing a server is a PostgreSQL concern; SQLite is one process")


def test_replicas_migrating_together_apply_each_migration_once(database_url, opened):
    skip_on_sqlite(database_url)
    schema = config.schema_name("incidents")
    first = bind_database(peewee.DatabaseProxy(), database_url, schema)  # the schema exists
    opened.append(first)
    replicas = [open_database(database_url, schema) for _ in range(8)]
    opened.extend(replicas)

    def start(database):
        try:
            return migrate(database, MIGRATIONS, "incidents")
        finally:
            database.close()

    results = list(eventlet.GreenPool(8).imap(start, replicas))
    assert sorted(results) == [[]] * 7 + [versions("incidents")]
    assert ledger(first, "incidents") == [("incidents", v) for v in versions("incidents")]


def waiting_on_a_lock(monitor, text):
    cursor = monitor.cursor()
    cursor.execute(
        "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND query LIKE %s",
        (f"%{text}%",),
    )
    return cursor.fetchone()[0] > 0


def test_replica_binding_while_another_creates_the_schema_starts(database_url, opened):
    skip_on_sqlite(database_url)
    schema = config.schema_name("incidents")
    dbname = database_url.rsplit("/", 1)[1]
    other = psycopg2.connect(host="127.0.0.1", user="postgres", dbname=dbname)
    monitor = psycopg2.connect(host="127.0.0.1", user="postgres", dbname=dbname)
    monitor.autocommit = True
    try:
        # another replica is half way through creating the same schema
        other.cursor().execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')

        def start():
            database = bind_database(peewee.DatabaseProxy(), database_url, schema)
            opened.append(database)
            return migrate(database, MIGRATIONS, "incidents")

        replica = eventlet.spawn(start)
        for _ in range(500):
            if waiting_on_a_lock(monitor, schema):
                break
            eventlet.sleep(0.01)  # yield to the replica until PostgreSQL makes it wait
        else:
            pytest.fail("the replica never waited for the other one's schema")
        other.commit()
        assert replica.wait() == versions("incidents")
    finally:
        other.close()
        monitor.close()
