"""Hot queries compiled to SQL once per shape, not on every execution.

Peewee turns a query into SQL text each time it runs. On the ingest path, with one sender,
that was about a quarter of the alerts and incidents services' CPU (py-spy); under load a
query serves a whole batch, and the share is smaller. A hot query is written once, as a
function of its shape (the lengths of its lists), with a `Slot` wherever a value goes;
`CompiledQuery` compiles it the first time a database and shape meet, and afterwards only
fills in the values.

A slot's value goes to the driver as given: no field converts it. Values that a field
would convert (an instant, on SQLite) are passed through that field's `db_value` first.
"""

import peewee

from services.shared.db import read_after_commit, send_with_next


class _Marker:
    """Stands for a slot's value in the compiled parameters."""

    __slots__ = ("name", "index")

    def __init__(self, name, index):
        self.name, self.index = name, index


class Slot(peewee.Node):
    """Where the value `name` (or its item `index`, for a list) goes in a compiled query."""

    def __init__(self, name, index=None):
        self.name, self.index = name, index

    def __sql__(self, ctx):
        return ctx.value(_Marker(self.name, self.index), converter=False)


def slots(name, count):
    """`count` slots for the items of the list `name`: `Field.in_(slots("ids", n))`."""
    return [Slot(name, index) for index in range(count)]


def padded(items):
    """`items` as a list whose length is a power of two, its last item repeated: an `IN`
    list means the same with repeats, and a query then has a few shapes, not hundreds."""
    items = list(items)
    size = 1
    while size < len(items):
        size *= 2
    return items + items[-1:] * (size - len(items))


class CompiledQuery:
    """`build(*shape)` returns a peewee query made with slots; it runs once per database
    kind and shape."""

    def __init__(self, build):
        self.build = build
        self.compiled = {}

    def sql(self, database, shape, values):
        """(SQL, parameters) of the query of `shape` with `values` ({slot name: value or list})."""
        key = (type(database), shape)
        if key not in self.compiled:
            self.compiled[key] = self.build(*shape).sql()
        sql, template = self.compiled[key]
        return sql, [_filled(parameter, values) for parameter in template]

    def rows_in(self, model, items):
        """`rows` of a query whose only slots are the list "items"."""
        items = padded(items)
        return self.rows(model, (len(items),), {"items": items})

    def rows(self, model, shape, values):
        """The query's rows as `model` instances (its fields convert what comes back)."""
        sql, parameters = self._sql_for(model, shape, values)
        return model.raw(sql, *parameters)

    def send_with_next(self, model, shape, values):
        """Send the (write) query with the transaction's next statement (services.shared.db's
        `send_with_next`): for a write whose row count nobody reads."""
        send_with_next(model._meta.database, *self._sql_for(model, shape, values))

    def after_commit(self, model, shape, values):
        """`rows`, read with the current transaction's COMMIT (services.shared.db's
        `read_after_commit`): call the result, once committed, for the `model` instances."""
        read = read_after_commit(model._meta.database, *self._sql_for(model, shape, values))
        return lambda: instances_of(model, read.columns, read.rows)

    def _sql_for(self, model, shape, values):
        """(SQL, parameters) for the database `model` is bound to (a proxy's, once bound)."""
        database = model._meta.database
        return self.sql(getattr(database, "obj", database), shape, values)


def instances_of(model, columns, rows):
    """Rows of `columns` as `model` instances, each value converted as its field reads it."""
    fields = [model._meta.columns[name] for name in columns]
    return [
        model(**{field.name: field.python_value(value) for field, value in zip(fields, row, strict=True)})
        for row in rows
    ]


def _filled(parameter, values):
    if not isinstance(parameter, _Marker):
        return parameter  # a constant of the query itself
    value = values[parameter.name]
    return value if parameter.index is None else value[parameter.index]
