"""Binding peewee to SQLite or PostgreSQL from a URL, and writing safely under eventlet.

Each service owns a `DatabaseProxy`; `bind_database` points it at a real database at
start-up. On PostgreSQL every service lives in its own schema, on SQLite in its own file.
"""

import contextlib
import datetime as dt
import hashlib
import threading
import time
from pathlib import Path
from urllib.parse import parse_qsl, urlparse

import peewee
from playhouse.pool import PooledPostgresqlDatabase

UTC = dt.UTC
SQLITE_PRAGMAS = {"journal_mode": "wal", "busy_timeout": 10000, "foreign_keys": 1, "synchronous": "normal"}


def utcnow():
    return dt.datetime.now(UTC)


class UTCDateTimeField(peewee.Field):
    """A time-zone aware UTC instant: TIMESTAMPTZ on PostgreSQL, sortable ISO text on SQLite."""

    field_type = "TIMESTAMPTZ"

    def db_value(self, value):
        if value is None:
            return None
        value = as_utc(value)
        if is_sqlite(self.model._meta.database):
            return value.isoformat(timespec="microseconds")
        return value

    def python_value(self, value):
        if value is None:
            return None
        if isinstance(value, str):
            value = dt.datetime.fromisoformat(value)
        return as_utc(value)


def as_utc(value):
    if value.tzinfo is None:
        return value.replace(tzinfo=UTC)
    return value.astimezone(UTC)


def is_sqlite(database):
    target = getattr(database, "obj", database)
    return isinstance(target, peewee.SqliteDatabase)


def open_database(url, schema):
    """A peewee database for `url`; `schema` is the PostgreSQL schema the service owns."""
    parts = urlparse(url)
    if parts.scheme == "sqlite":
        return _open_sqlite(parts)
    if parts.scheme in ("postgres", "postgresql"):
        return _open_postgres(parts, schema)
    raise ValueError(f"unsupported database URL scheme {parts.scheme!r} (use sqlite:// or postgresql://)")


def _open_sqlite(parts):
    path = parts.path[1:] if parts.path.startswith("//") else parts.path
    path = path or ":memory:"
    if path != ":memory:":
        Path(path).parent.mkdir(parents=True, exist_ok=True)
    return SqliteDatabase(path, pragmas=SQLITE_PRAGMAS, check_same_thread=False)


WRITE_STATEMENTS = ("INSERT", "UPDATE", "DELETE", "REPLACE")


class SqliteDatabase(peewee.SqliteDatabase):
    """SQLite whose autocommit writes (a token's last use, a profile change) queue behind
    this process's write transactions on `_sqlite_write_lock`, as `write_transaction` does.

    Left to SQLite's busy handler, such a write would wait while blocking the whole
    eventlet hub, and with it the green thread holding the write lock that it waits for:
    every request of the process stalled until busy_timeout, then "database is locked".
    """

    def execute_sql(self, sql, params=None):
        if self.in_transaction() or not sql.lstrip()[:7].upper().startswith(WRITE_STATEMENTS):
            return super().execute_sql(sql, params)
        with _sqlite_write_lock:
            return super().execute_sql(sql, params)


class TrustingRecentPool(PooledPostgresqlDatabase):
    """peewee's pool, minus the `SELECT 1` it sends at every checkout for a connection
    that came back less than `trust_seconds` ago (HikariCP's alive-bypass window).

    Under load a connection returns to the pool within milliseconds and is taken again at
    once; the ping was one more round trip at the start of every transaction of every
    service. A connection idle for longer is still checked, so a PostgreSQL restarted
    during a quiet spell costs no request; one that dies in a busy moment fails its
    transaction, which fails like any transaction cut by an outage and is retried.
    """

    trust_seconds = 0.5

    def __init__(self, *args, **kwargs):
        self._returned_at = {}  # id(connection) -> monotonic time of its last check-in
        super().__init__(*args, **kwargs)

    def _close(self, conn, close_conn=False):
        self._returned_at[id(conn)] = time.monotonic()
        super()._close(conn, close_conn)

    def _close_raw(self, conn):
        self._returned_at.pop(id(conn), None)
        super()._close_raw(conn)

    def _is_closed(self, conn):
        if conn.closed:
            return True
        returned = self._returned_at.get(id(conn))
        if returned is not None and time.monotonic() - returned < self.trust_seconds:
            return False
        return super()._is_closed(conn)

    # Statements whose answer nobody reads travel with the next one that is read, in the
    # same round trip: BEGIN, an advisory lock, a bulk write ("BEGIN; SELECT
    # pg_advisory_xact_lock(..); SELECT ..."), or with the COMMIT. PostgreSQL runs them
    # in order, each with its own snapshot, exactly as if sent one by one; a transaction
    # that ran nothing sends nothing.
    def begin(self, isolation_level=None):
        if isolation_level or self._isolation_level:
            super().begin(isolation_level)
            return
        if self.is_closed():
            self.connect()  # as the BEGIN would have: connecting later forgets the transaction
        self._state.queued = ["BEGIN"]

    def send_with_next(self, sql, params=None):
        """Run `sql` with the transaction's next statement (or its COMMIT); at once outside one."""
        if not self.in_transaction():
            return self.execute_sql(sql, params)
        rendered = self.cursor().mogrify(sql, params or ()).decode()
        self._state.queued = [*(getattr(self._state, "queued", None) or ()), rendered]
        return None

    def execute_sql(self, sql, params=None):
        queued = self._take_queued()
        if queued:
            # The queued text is final; escape it from the parameters' formatting.
            sql = "; ".join([*(text.replace("%", "%%") for text in queued), sql])
        return super().execute_sql(sql, params)

    def read_after_commit(self, sql, params, holder):
        """Queue a read to travel after this transaction's COMMIT (`read_after_commit`);
        False when there is no transaction, or only a savepoint would end here (its caller
        expects the rows when it ends), or a read is queued already: a round trip answers
        one read."""
        nested = getattr(self._state, "savepoints", 0)
        if not self.in_transaction() or nested or getattr(self._state, "after_commit", None):
            return False
        self._state.after_commit = (self.cursor().mogrify(sql, params or ()).decode(), holder)
        return True

    def savepoint(self):
        return _CountedSavepoint(self)

    def commit(self):
        queued = self._take_queued()
        after, self._state.after_commit = getattr(self._state, "after_commit", None), None
        if queued == ["BEGIN"]:
            if after is None:
                return None  # nothing ran
            statements = [after[0]]  # no transaction to end
        elif queued:
            statements = [*queued, "COMMIT", *([after[0]] if after else ())]
        elif after is None:
            return super().commit()
        else:
            statements = ["COMMIT", after[0]]
        with peewee.__exception_wrapper__:
            cursor = self.cursor()
            cursor.execute("; ".join(statements))
            if after:
                after[1].take(cursor)
        return None

    def rollback(self):
        self._state.after_commit = None
        queued = self._take_queued()
        if queued and queued[0] == "BEGIN":
            return None  # the server never heard of this transaction
        return super().rollback()

    def _take_queued(self):
        queued = getattr(self._state, "queued", None)
        self._state.queued = None
        return queued


def send_with_next(database, sql, params=None):
    """Run a statement whose result nobody reads: on PostgreSQL, inside a transaction, it
    travels with the transaction's next statement or its COMMIT (one round trip for both)."""
    queue = getattr(database, "send_with_next", None)
    if queue is None:
        database.execute_sql(sql, params)
    else:
        queue(sql, params)


class _CountedSavepoint(peewee._savepoint):
    """A savepoint that the pool counts while it is open: what ends with it is no COMMIT."""

    def __enter__(self):
        entered = super().__enter__()
        self.db._state.savepoints = getattr(self.db._state, "savepoints", 0) + 1
        return entered

    def __exit__(self, exc_type, exc_val, exc_tb):
        try:
            return super().__exit__(exc_type, exc_val, exc_tb)
        finally:
            self.db._state.savepoints -= 1


class AfterCommit:
    """The rows (and column names) of a read sent with a transaction's COMMIT; set once
    it has committed."""

    rows = None
    columns = None

    def take(self, cursor):
        self.rows = cursor.fetchall()
        self.columns = [column[0] for column in cursor.description or ()]


def read_after_commit(database, sql, params=None):
    """A read that needs none of the transaction's locks and should see what it wrote:
    on PostgreSQL it travels with the COMMIT, in the same round trip, and reads right
    after it. Elsewhere (SQLite, no transaction, a read queued already) it runs at once,
    inside the transaction, which sees as much. Returns an `AfterCommit`."""
    holder = AfterCommit()
    queue = getattr(database, "read_after_commit", None)
    if queue is None or not queue(sql, params, holder):
        holder.take(database.execute_sql(sql, params))
    return holder


def send_query_with_next(query):
    """`send_with_next` for a peewee write query whose row count nobody reads."""
    send_with_next(query.model._meta.database, *query.sql())


def _open_postgres(parts, schema):
    options = dict(parse_qsl(parts.query))
    max_connections = int(options.pop("max_connections", 20))
    # Named connections let an operator tell the services apart in pg_stat_activity.
    options.setdefault("application_name", f"klaxon:{schema}"[:63])
    options.setdefault("connect_timeout", 10)
    return TrustingRecentPool(
        parts.path.lstrip("/"),
        host=parts.hostname,
        port=parts.port or 5432,
        user=parts.username,
        password=parts.password,
        max_connections=max_connections,
        stale_timeout=300,
        timeout=10,
        options=f"-c search_path={schema}",
        **options,
    )


def bind_database(proxy, url, schema):
    """Point `proxy` at the database of `url` and make sure the service's schema exists."""
    database = open_database(url, schema)
    # Advisory lock keys are server-wide: scoping them to the schema keeps two platforms
    # (or two test runs) sharing one PostgreSQL server from waiting on each other.
    database.klaxon_scope = schema
    proxy.initialize(database)
    if not is_sqlite(database):
        _create_schema(database, schema)
    return database


def _create_schema(database, schema):
    with database.connection_context():
        try:
            with database.atomic():
                database.execute_sql(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
        except peewee.IntegrityError:
            # Another replica created it at the same instant; IF NOT EXISTS does not
            # cover that race in PostgreSQL, but the schema is there now, as wanted.
            pass


_sqlite_write_lock = threading.RLock()


@contextlib.contextmanager
def write_transaction(database, lock_key=None, lock_keys=()):
    """One write transaction that cannot interleave with another one for the same key.

    SQLite: writers are serialised in-process (a green thread waiting inside SQLite's
    busy handler would block the whole eventlet hub) and across processes by
    BEGIN IMMEDIATE. PostgreSQL: advisory transaction locks scoped to `lock_key` and
    every key of `lock_keys`, taken in one sorted order so two batches cannot deadlock.
    """
    if is_sqlite(database):
        with _sqlite_write_lock, database.atomic("IMMEDIATE"):
            yield
        return
    keys = [*lock_keys, *([lock_key] if lock_key is not None else [])]
    with database.atomic():
        lock_all(database, keys)
        yield


def lock_all(database, lock_keys):
    """Take the advisory locks of `lock_keys` in ascending order, in one statement that
    travels with the transaction's next one: nothing the transaction reads or writes
    comes before the locks."""
    if not lock_keys or is_sqlite(database):
        return
    numbers = sorted({scoped_advisory_key(database, key) for key in lock_keys})
    if len(numbers) == 1:
        send_with_next(database, "SELECT pg_advisory_xact_lock(%s)", (numbers[0],))
        return
    send_with_next(
        database,
        "SELECT count(pg_advisory_xact_lock(k)) FROM"
        " (SELECT k FROM unnest(%s::bigint[]) WITH ORDINALITY AS u(k, n) ORDER BY n) AS ordered",
        (numbers,),
    )


def flushed_by_the_next_commit(database):
    """Let this transaction's COMMIT return before its WAL reaches the disk (PostgreSQL's
    asynchronous commit), for a caller that commits again in the same database before
    anyone relies on this one. WAL is flushed in order, so that later synchronous commit
    makes both durable; should the server crash before it, both are lost together and
    the work, not yet acknowledged, is done again. SQLite: left as it is."""
    if not is_sqlite(database):
        send_with_next(database, "SET LOCAL synchronous_commit TO OFF")


def for_update(database, query, skip_locked=False):
    """`query` taking row locks on PostgreSQL (skipping rows others hold, if asked): how
    replicas share due work. SQLite writers are serialised already, so it is left as is."""
    if is_sqlite(database):
        return query
    return query.for_update(skip_locked=skip_locked or None)


def advisory_key(text):
    """A stable signed 64-bit key for pg_advisory_xact_lock."""
    digest = hashlib.blake2b(text.encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def ping(database):
    """Raise when the database cannot answer a trivial query."""
    with database.connection_context():
        database.execute_sql("SELECT 1")


def lock_within(database, lock_key):
    """Take one more key-scoped lock inside the current write transaction (PostgreSQL).

    SQLite writers are already serialised, so there is nothing more to take.
    """
    if not is_sqlite(database):
        database.execute_sql("SELECT pg_advisory_xact_lock(%s)", (scoped_advisory_key(database, lock_key),))


def scoped_advisory_key(database, lock_key):
    """The advisory lock key of `lock_key` within the schema `database` is bound to."""
    target = getattr(database, "obj", database)
    return advisory_key(f"{getattr(target, 'klaxon_scope', '')}:{lock_key}")


def insert_rows(model, rows, chunk_size=100):
    """Insert dict rows (all with the same keys) in bulk, skipping rows that conflict.

    Plain parametrised SQL: peewee's query builder costs about 0.15 ms a row, which is
    most of a batch's time under a storm.
    """
    for statement, values in _bulk_inserts(model, rows, chunk_size, "ON CONFLICT DO NOTHING"):
        send_with_next(model._meta.database, statement, values)


def insert_returning(model, rows, *returned, chunk_size=100, skip_conflicts=False):
    """Insert dict rows in bulk; the `returned` columns of every row inserted, as tuples.
    With `skip_conflicts`, rows that conflict are skipped (and not returned).

    Their order is not promised: return a column that tells the rows apart."""
    columns = ", ".join(f'"{model._meta.fields[name].column_name}"' for name in returned)
    suffix = f"{'ON CONFLICT DO NOTHING ' if skip_conflicts else ''}RETURNING {columns}"
    inserted = []
    for statement, values in _bulk_inserts(model, rows, chunk_size, suffix):
        inserted += model._meta.database.execute_sql(statement, values).fetchall()
    return inserted


def _bulk_inserts(model, rows, chunk_size, suffix):
    if not rows:
        return
    database = model._meta.database
    fields = [model._meta.fields[name] for name in rows[0]]
    columns = ", ".join(f'"{field.column_name}"' for field in fields)
    placeholders = "(" + ", ".join([database.param] * len(fields)) + ")"
    for chunk in peewee.chunked(rows, chunk_size):
        values = [field.db_value(row[field.name]) for row in chunk for field in fields]
        statement = f'INSERT INTO "{model._meta.table_name}" ({columns}) VALUES '
        yield f"{statement}{', '.join([placeholders] * len(chunk))} {suffix}", values
