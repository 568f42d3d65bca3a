"""Generation counters: how a web process knows whether what it keeps in memory from the
database is still what the database holds, across every process and machine, at the price of
reading one small row (which callers fold into a statement they run anyway).

A kind of cached data (`ACCESS`: partners, their tokens and parties, what authenticates an
OCPI request, and hubs' client info; `PRICES`: tariffs, CPO terms and EVSE ID aliases, what a
charger's page prices with) has a row in
`Generation`, raised by database triggers on the tables behind it in the same transaction as
the change: so no writer can forget it, be it a service, the admin, a shell or a migration, and
a revoked token stops working at the next request in every process. A cache entry is used only
while the generation it was read at is the current one; the generation is read before the rows
it guards, so a change committed in between is never cached as current.

A row starts at a random value, so that tables emptied and filled again (as tests do) cannot
bring back a value an old entry was cached at."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from django.db import connections, router
from django.db.backends.base.schema import BaseDatabaseSchemaEditor
from django.db.migrations.state import StateApps

from ocpi_peer.models import Generation

ACCESS = "access"
PRICES = "prices"

TABLE = Generation._meta.db_table
_FUNCTION = "ocpi_peer_generation_raise"


def read(name: str) -> int | None:
    """The current value of one generation (None: never raised since the table was emptied,
    which callers treat as "cache nothing")."""
    connection = connections[router.db_for_read(Generation)]
    with connection.cursor() as cursor:
        cursor.execute(SELECT, [name])
        row = cursor.fetchone()
    return int(row[0]) if row else None


SELECT = f"SELECT value FROM {TABLE} WHERE name = %s"  # noqa: S608 — the name is a parameter


def read_many(names: Sequence[str]) -> tuple[int | None, ...]:
    """The current values of `names`, in their order, in one statement."""
    connection = connections[router.db_for_read(Generation)]
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT name, value FROM {TABLE} WHERE name IN ({', '.join(['%s'] * len(names))})",  # noqa: S608
            list(names),
        )
        values = dict(cursor.fetchall())
    return tuple(None if values.get(n) is None else int(values[n]) for n in names)


def _bump_sql(vendor: str, name: str) -> str:
    """The statement a trigger runs: `name` is an SQL expression (a literal, or the trigger's
    argument in PostgreSQL)."""
    start = "(random() * 4e18)::bigint" if vendor == "postgresql" else "abs(random())"
    return (
        f"INSERT INTO {TABLE} (name, value) VALUES ({name}, {start})"  # noqa: S608
        f" ON CONFLICT (name) DO UPDATE SET value = {TABLE}.value + 1"
    )


def _trigger_names(table: str, name: str) -> list[str]:
    return [f"{table}_{name}_{event}" for event in ("ins", "upd", "del")]


def create_triggers(
    schema_editor: BaseDatabaseSchemaEditor,
    *,
    table: str,
    name: str,
    update_columns: Sequence[str] = (),
) -> None:
    """Triggers raising generation `name` on every insert, delete and update of `table` (an
    update only when it sets one of `update_columns`, if given: columns written on every
    request, such as a last-contact time, are left out so that they do not empty every
    process's cache)."""
    vendor = schema_editor.connection.vendor
    of = f" OF {', '.join(update_columns)}" if update_columns else ""
    names = _trigger_names(table, name)
    events = [("INSERT", names[0], ""), ("UPDATE", names[1], of), ("DELETE", names[2], "")]
    if vendor == "postgresql":
        schema_editor.execute(
            f"CREATE OR REPLACE FUNCTION {_FUNCTION}() RETURNS trigger LANGUAGE plpgsql AS $$"
            f" BEGIN {_bump_sql(vendor, 'TG_ARGV[0]')}; RETURN NULL; END $$"
        )
        for event, trigger, columns in events:
            schema_editor.execute(
                f"CREATE TRIGGER {trigger} AFTER {event}{columns} ON {table}"
                f" FOR EACH STATEMENT EXECUTE FUNCTION {_FUNCTION}('{name}')"
            )
    elif vendor == "sqlite":
        for event, trigger, columns in events:
            schema_editor.execute(
                f"CREATE TRIGGER {trigger} AFTER {event}{columns} ON {table}"
                f" BEGIN {_bump_sql(vendor, repr(name))}; END"
            )
    else:
        raise NotImplementedError(f"generation triggers for {vendor}")


def drop_triggers(schema_editor: BaseDatabaseSchemaEditor, *, table: str, name: str) -> None:
    on = f" ON {table}" if schema_editor.connection.vendor == "postgresql" else ""
    for trigger in _trigger_names(table, name):
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {trigger}{on}")


def migration_functions(name: str, tables: dict[str, Sequence[str]]) -> tuple[Any, Any]:
    """RunPython's forward and backward functions for the triggers raising `name` on `tables`
    (table → the update columns that count, empty for all)."""

    def forward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        for table, columns in tables.items():
            create_triggers(schema_editor, table=table, name=name, update_columns=columns)

    def backward(apps: StateApps, schema_editor: BaseDatabaseSchemaEditor) -> None:
        for table in tables:
            drop_triggers(schema_editor, table=table, name=name)

    return forward, backward
