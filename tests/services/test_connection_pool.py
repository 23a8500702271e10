"""The PostgreSQL pool skips its liveness ping for a connection that came back moments
ago (one round trip less per transaction) and still checks one that sat idle, so a
server-side disconnect during a quiet spell costs no query. A transaction's BEGIN
travels with its first statement, and one that ran nothing sends nothing."""

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


class StatementLog:
    """Every string the pool sends the server, recorded at the cursor."""

    def __init__(self, database, monkeypatch):
        self.sent = []
        opened = database.cursor

        def recording_cursor(*args, **kwargs):
            cursor = opened(*args, **kwargs)
            execute = cursor.execute

            def logged(sql, params=None):
                self.sent.append(sql)
                return execute(sql, params)

            return _Recording(cursor, logged)

        monkeypatch.setattr(database, "cursor", recording_cursor)


class _Recording:
    def __init__(self, cursor, execute):
        self._cursor, self.execute = cursor, execute

    def __getattr__(self, name):
        return getattr(self._cursor, name)


def test_begin_travels_with_the_first_statement_and_keeps_it_in_the_transaction(pool, monkeypatch):
    log = StatementLog(pool, monkeypatch)
    with pool.connection_context(), pool.atomic():
        first = pool.execute_sql("SELECT pg_current_xact_id()::text").fetchone()[0]
        second = pool.execute_sql("SELECT pg_current_xact_id()::text").fetchone()[0]
    assert first == second  # one transaction from the first statement on
    assert log.sent[0] == "BEGIN; SELECT pg_current_xact_id()::text"
    assert log.sent[1:] == ["SELECT pg_current_xact_id()::text", "COMMIT"]


def test_a_rolled_back_transaction_leaves_nothing_behind(pool):
    with pool.connection_context():
        pool.execute_sql("CREATE TABLE IF NOT EXISTS pool_probe (n int)")
        pool.execute_sql("TRUNCATE pool_probe")
        with pytest.raises(RuntimeError), pool.atomic():
            pool.execute_sql("INSERT INTO pool_probe VALUES (1)")
            raise RuntimeError("undo")
        assert pool.execute_sql("SELECT count(*) FROM pool_probe").fetchone()[0] == 0
        pool.execute_sql("DROP TABLE pool_probe")


def test_a_transaction_that_ran_nothing_sends_nothing(pool, monkeypatch):
    with pool.connection_context():
        log = StatementLog(pool, monkeypatch)
        with pool.atomic():
            pass
    assert log.sent == []
