"""The PostgreSQL pool skips its liveness ping for a connection that came back moments
ago (one round trip less per transaction) and still checks one that sat idle, so a
server-side disconnect during a quiet spell costs no query. A transaction's BEGIN
travels with its first statement, and one that ran nothing sends nothing."""

import threading

import peewee
import psycopg2
import pytest

from services.shared.db import open_database, read_after_commit, send_with_next
from tests.conftest import PG_URL, eventually


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


@pytest.fixture
def probe_table(pool):
    with pool.connection_context():
        pool.execute_sql("CREATE TABLE IF NOT EXISTS pool_probe (n int, label text)")
        pool.execute_sql("TRUNCATE pool_probe")
    yield "pool_probe"
    with pool.connection_context():
        pool.execute_sql("DROP TABLE pool_probe")


def test_a_write_nobody_reads_travels_with_the_next_statement(pool, probe_table, monkeypatch):
    log = StatementLog(pool, monkeypatch)
    with pool.connection_context(), pool.atomic():
        send_with_next(pool, "INSERT INTO pool_probe VALUES (%s, %s)", (1, "100% up"))
        assert log.sent == []  # held back ...
        count = pool.execute_sql("SELECT count(*) FROM pool_probe WHERE n = %s", (1,)).fetchone()[0]
    assert count == 1  # ... and run before the statement it travelled with
    assert log.sent[0] == (
        "BEGIN; INSERT INTO pool_probe VALUES (1, '100%% up'); SELECT count(*) FROM pool_probe WHERE n = %s"
    )
    with pool.connection_context():
        assert pool.execute_sql("SELECT label FROM pool_probe").fetchone()[0] == "100% up"


def test_what_is_left_goes_with_the_commit(pool, probe_table, monkeypatch):
    log = StatementLog(pool, monkeypatch)
    with pool.connection_context(), pool.atomic():
        send_with_next(pool, "INSERT INTO pool_probe VALUES (%s, %s)", (2, "last"))
    assert log.sent == ["BEGIN; INSERT INTO pool_probe VALUES (2, 'last'); COMMIT"]
    with pool.connection_context():
        assert pool.execute_sql("SELECT n FROM pool_probe").fetchall() == [(2,)]


def test_a_failing_write_held_back_fails_its_transaction(pool, probe_table):
    with pool.connection_context():
        with pytest.raises(peewee.DataError), pool.atomic():
            send_with_next(pool, "INSERT INTO pool_probe VALUES (1, 'kept?')")
            send_with_next(pool, "INSERT INTO pool_probe VALUES ('not a number', 'x')")
        assert pool.execute_sql("SELECT count(*) FROM pool_probe").fetchone()[0] == 0
        assert pool.execute_sql("SELECT 1").fetchone()[0] == 1  # the connection is usable again


def test_a_held_back_lock_is_taken_before_the_read_that_follows_it(pool, probe_table):
    """The read travelling with the lock sees what the lock's holder committed: it runs
    after the lock is granted, with a snapshot of its own."""
    holder = psycopg2.connect(PG_URL)
    holder_cursor = holder.cursor()
    holder_cursor.execute("SELECT pg_advisory_xact_lock(4242)")
    holder_cursor.execute("INSERT INTO pool_probe VALUES (7, 'written under the lock')")
    seen = {}

    def read_under_the_lock():
        with pool.connection_context(), pool.atomic():
            send_with_next(pool, "SELECT pg_advisory_xact_lock(%s)", (4242,))
            seen["rows"] = pool.execute_sql("SELECT n FROM pool_probe").fetchall()

    reader = threading.Thread(target=read_under_the_lock)
    reader.start()
    eventually(lambda: lock_waiters(4242) == 1)
    holder.commit()
    reader.join(timeout=10)
    holder.close()
    assert seen["rows"] == [(7,)]


def lock_waiters(key):
    with psycopg2.connect(PG_URL) as admin, admin.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND objid = %s",
            (key,),
        )
        return cursor.fetchone()[0]


def test_a_write_held_back_after_a_statement_ran_goes_with_the_next_one(pool, probe_table, monkeypatch):
    log = StatementLog(pool, monkeypatch)
    with pool.connection_context(), pool.atomic():
        pool.execute_sql("SELECT 1")
        send_with_next(pool, "INSERT INTO pool_probe VALUES (%s, %s)", (3, "later"))
    assert log.sent == ["BEGIN; SELECT 1", "INSERT INTO pool_probe VALUES (3, 'later'); COMMIT"]


def test_a_read_after_commit_travels_with_the_commit_and_sees_what_was_written(
    pool, probe_table, monkeypatch
):
    log = StatementLog(pool, monkeypatch)
    with pool.connection_context(), pool.atomic():
        send_with_next(pool, "INSERT INTO pool_probe VALUES (%s, %s)", (4, "read back"))
        after = read_after_commit(pool, "SELECT n, label FROM pool_probe WHERE n = %s", (4,))
        assert after.rows is None  # nothing sent yet
    assert after.rows == [(4, "read back")]
    assert log.sent == [
        "BEGIN; INSERT INTO pool_probe VALUES (4, 'read back'); COMMIT;"
        " SELECT n, label FROM pool_probe WHERE n = 4"
    ]


def test_a_read_after_commit_runs_after_the_transaction_has_committed(pool, probe_table):
    """The read is outside the transaction: a lock it took is free by then."""
    with pool.connection_context(), pool.atomic():
        send_with_next(pool, "SELECT pg_advisory_xact_lock(%s)", (4343,))
        pool.execute_sql("SELECT 1")
        after = read_after_commit(
            pool, "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4343"
        )
    assert after.rows == [(0,)]


def test_a_second_read_after_commit_runs_at_once_inside_the_transaction(pool, probe_table, monkeypatch):
    log = StatementLog(pool, monkeypatch)
    with pool.connection_context(), pool.atomic():
        first = read_after_commit(pool, "SELECT 1")
        second = read_after_commit(pool, "SELECT pg_current_xact_id() IS NOT NULL")
        assert second.rows == [(True,)]  # one round trip answers one read: this one went now
    assert first.rows == [(1,)]
    assert log.sent == ["BEGIN; SELECT pg_current_xact_id() IS NOT NULL", "COMMIT; SELECT 1"]


def test_a_read_after_commit_outside_a_transaction_runs_at_once(pool):
    with pool.connection_context():
        assert read_after_commit(pool, "SELECT 2").rows == [(2,)]


def test_a_rolled_back_transaction_forgets_its_read_after_commit(pool, probe_table, monkeypatch):
    with pool.connection_context():
        with pytest.raises(RuntimeError), pool.atomic():
            pool.execute_sql("INSERT INTO pool_probe VALUES (5, 'undone')")
            after = read_after_commit(pool, "SELECT count(*) FROM pool_probe")
            raise RuntimeError("undo")
        log = StatementLog(pool, monkeypatch)
        with pool.atomic():
            pool.execute_sql("SELECT 1")
    assert after.rows is None
    assert log.sent == ["BEGIN; SELECT 1", "COMMIT"]


def test_a_read_after_commit_within_a_savepoint_runs_at_once(pool, probe_table):
    """Its caller reads the rows when its block ends, which commits nothing."""
    with pool.connection_context(), pool.atomic():
        with pool.atomic():
            pool.execute_sql("INSERT INTO pool_probe VALUES (6, 'nested')")
            after = read_after_commit(pool, "SELECT n FROM pool_probe")
        assert after.rows == [(6,)]
