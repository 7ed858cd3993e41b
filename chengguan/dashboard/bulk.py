"""Writing many rows fast: COPY on PostgreSQL, ``executemany`` on SQLite.

Rows are plain tuples in a fixed column order; values are Python objects (aware datetimes,
Decimals, booleans, JSON already encoded as text). Only the simulation and the summary
refresh use this; everything a person does goes through the services.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from decimal import Decimal
from typing import Any

from django.db import connections, models


def _sqlite_datetime(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        # What Django's SQLite backend stores for an aware datetime: naive UTC text.
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value.isoformat(" ")
    return value


def _sqlite_decimal(value: Any) -> Any:
    return str(value) if isinstance(value, Decimal) else value


class BulkWriter:
    def __init__(self, using: str = "default") -> None:
        self.connection = connections[using]
        self.vendor = self.connection.vendor
        self._next_id: dict[str, int] = {}

    def reserve_ids(self, model: type[models.Model], n: int) -> list[int]:
        """``n`` new primary keys for ``model``; call inside the writing transaction."""
        table = model._meta.db_table
        with self.connection.cursor() as cursor:
            if self.vendor == "postgresql":
                cursor.execute(
                    "SELECT nextval(pg_get_serial_sequence(%s, 'id')) FROM generate_series(1, %s)", [table, n]
                )
                return [row[0] for row in cursor.fetchall()]
            if table not in self._next_id:
                # The transaction already holds SQLite's write lock (the run row was written
                # first), so nobody else can take these ids meanwhile.
                cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM {self.connection.ops.quote_name(table)}")
                self._next_id[table] = int(cursor.fetchone()[0]) + 1
        first = self._next_id[table]
        self._next_id[table] = first + n
        return list(range(first, first + n))

    def insert(self, model: type[models.Model], columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
        """Insert rows (values in the order of ``columns``, which are column names)."""
        table = self.connection.ops.quote_name(model._meta.db_table)
        names = ", ".join(self.connection.ops.quote_name(c) for c in columns)
        count = 0
        if self.vendor == "postgresql":
            with self.connection.cursor() as cursor:
                raw = cursor.cursor  # the psycopg cursor under Django's wrapper
                with raw.copy(f"COPY {table} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
                        count += 1
            return count
        converters = self._sqlite_converters(model, columns)
        marks = ", ".join(["%s"] * len(columns))
        sql = f"INSERT INTO {table} ({names}) VALUES ({marks})"
        batch: list[tuple[Any, ...]] = []
        with self.connection.cursor() as cursor:
            for row in rows:
                batch.append(
                    tuple(convert(v) if convert else v for convert, v in zip(converters, row, strict=True))
                )
                if len(batch) >= 5000:
                    cursor.executemany(sql, batch)
                    count += len(batch)
                    batch.clear()
            if batch:
                cursor.executemany(sql, batch)
                count += len(batch)
        return count

    @staticmethod
    def _sqlite_converters(
        model: type[models.Model], columns: Sequence[str]
    ) -> list[Callable[[Any], Any] | None]:
        by_column = {f.column: f for f in model._meta.concrete_fields}
        converters: list[Callable[[Any], Any] | None] = []
        for column in columns:
            field = by_column[column]
            if isinstance(field, models.DateTimeField):
                converters.append(_sqlite_datetime)
            elif isinstance(field, models.DecimalField):
                converters.append(_sqlite_decimal)
            else:
                converters.append(None)
        return converters
