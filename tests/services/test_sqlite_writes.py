"""On SQLite under eventlet, a write outside a transaction waits for this process's write
transaction by yielding, not inside SQLite's busy handler (which blocks the whole hub,
the writer it waits for included, until busy_timeout)."""

import time

import eventlet
import peewee

from services.shared.db import open_database, write_transaction


class Row(peewee.Model):
    name = peewee.TextField()


def test_an_autocommit_write_waits_for_a_write_transaction_that_yields(tmp_path):
    database = open_database(f"sqlite:///{tmp_path / 'writes.db'}", "unused")
    with database.bind_ctx([Row]):
        database.create_tables([Row])
        row = Row.create(name="before")
        holding = eventlet.event.Event()
        order = []

        def transaction():
            with write_transaction(database):
                Row.create(name="inside")
                holding.send()
                eventlet.sleep(0.3)  # a network call inside the transaction: the hub runs others
                order.append("transaction committed")

        def touch():
            holding.wait()
            Row.update(name="touched").where(Row.id == row.id).execute()
            order.append("touched")

        started = time.monotonic()
        writer, toucher = eventlet.spawn(transaction), eventlet.spawn(touch)
        writer.wait()
        toucher.wait()  # without the queueing: "database is locked" after busy_timeout (10 s)
        assert order == ["transaction committed", "touched"]
        assert time.monotonic() - started < 5
        assert Row.get_by_id(row.id).name == "touched"
