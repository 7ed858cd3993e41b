"""Indexes on the case table for the dashboard's queries.

Plain SQL run here rather than indexes in the cases model's Meta, so the cases app stays as
it is and ``makemigrations`` sees no change. On PostgreSQL they are built CONCURRENTLY
(no write lock on a large table) and use INCLUDE columns for index-only scans; SQLite gets
the same keys with the extra columns appended.

* ``dash_case_open`` — open cases per lead unit with their deadline: the backlog and lights.
  The predicate lists the open statuses of ``chengguan.cases.workflow`` (a status added there
  later is still counted, only without this index until it is added here too).
* ``dash_case_updated`` — cases changed since the summary's last refresh.
* ``dash_case_territory_time`` / ``dash_case_unit_time`` — one territory's or unit's cases of
  a period, for filters the daily summary cannot answer.
* ``dash_case_time_grids`` — the grid codes of a period's cases (hot-spot map), index-only.
"""

from typing import Any

from django.db import migrations

OPEN = (
    "checking", "deferral_requested", "deferred", "dispatched", "extension_requested", "handled",
    "handling", "reported", "returned", "self_handled", "to_close", "to_dispatch", "verifying",
    "void_requested",
)  # fmt: skip
OPEN_SQL = ", ".join(f"'{s}'" for s in OPEN)

POSTGRES = (
    ("dash_case_open", f"(lead_unit_id) INCLUDE (deadline, paused_at, status, id) WHERE status IN ({OPEN_SQL})"),
    ("dash_case_updated", "(updated_at)"),
    ("dash_case_territory_time", "(territory_id, reported_at)"),
    ("dash_case_unit_time", "(lead_unit_id, reported_at)"),
    ("dash_case_time_grids", "(reported_at) INCLUDE (responsibility_grid, area_grid, unit_grid)"),
)
SQLITE = (
    ("dash_case_open", f"(lead_unit_id, deadline, paused_at, status) WHERE status IN ({OPEN_SQL})"),
    ("dash_case_updated", "(updated_at)"),
    ("dash_case_territory_time", "(territory_id, reported_at)"),
    ("dash_case_unit_time", "(lead_unit_id, reported_at)"),
)


def create(apps: Any, schema_editor: Any) -> None:
    postgres = schema_editor.connection.vendor == "postgresql"
    for name, definition in POSTGRES if postgres else SQLITE:
        concurrently = "CONCURRENTLY " if postgres else ""
        schema_editor.execute(f"CREATE INDEX {concurrently}IF NOT EXISTS {name} ON cases_case {definition}")


def drop(apps: Any, schema_editor: Any) -> None:
    for name, _definition in POSTGRES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    atomic = False  # CREATE INDEX CONCURRENTLY cannot run inside a transaction

    dependencies = [("dashboard", "0001_initial"), ("cases", "0001_initial")]

    operations = [migrations.RunPython(create, drop, elidable=False)]
