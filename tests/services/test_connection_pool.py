"""The PostgreSQL pool skips its liveness ping for a connection that came back moments
ago (one round trip less per transaction) and still checks one that sat idle, so a
server-side disconnect during a quiet spell costs no query."""

import peewee
import psycopg2
import pytest

from services.shared.db import open_database
from tests.conftest import PG_URL


@pytest.fixture
def pool():
    database = open_database(PG_URL, "public")
    yield database
    database.close_all()


def backend_of(database):
    """The server process of the connection the pool hands out now (returned at once)."""
    with database.connection_context():
        return database.execute_sql("SELECT pg_backend_pid()").fetchone()[0]


def terminate(pid):
    with psycopg2.connect(PG_URL) as admin, admin.cursor() as cursor:
        cursor.execute("SELECT pg_terminate_backend(%s)", (pid,))
        assert cursor.fetchone()[0], f"backend {pid} should have been ended"


def test_a_connection_idle_past_the_window_is_checked_and_replaced(pool):
    pool.trust_seconds = 0  # every connection counts as idle: checked at checkout
    dead = backend_of(pool)
    terminate(dead)
    assert backend_of(pool) != dead  # the ping found it gone; a fresh one was opened


def test_a_connection_back_moments_ago_is_handed_out_unchecked(pool):
    pool.trust_seconds = 3600  # every connection returned counts as just returned
    dead = backend_of(pool)
    terminate(dead)
    # No ping: the first query meets the dead connection (as one in flight would) ...
    with pytest.raises((peewee.OperationalError, peewee.InterfaceError)), pool.connection_context():
        pool.execute_sql("SELECT 1")
    # ... which the pool then knows to be closed, and replaces.
    assert backend_of(pool) != dead
