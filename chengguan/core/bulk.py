"""Insert new rows of one model in one statement, with Django's own field conversions.

``QuerySet.bulk_create`` compiles its INSERT anew on every call: for each value it walks the
compiler's generic machinery (expressions, placeholders, per-field checks), and on
PostgreSQL packs every column into an array for ``UNNEST`` whose quoting runs in Python. For
the case intake, where a batch is a handful of rows of four models on the hottest write path,
that machinery cost more than everything else the batch did. Here each value goes through the
same two field methods Django uses (``pre_save`` for defaults and ``auto_now``,
``get_db_prep_save`` for the backend's adaptation of JSON, decimals, datetimes …), into one
``INSERT … VALUES … RETURNING`` whose text is built once per model and row count.

What it does not do, by design: no save signals (callers send them, as report_many does), no
conflict handling, no models with multi-table inheritance or fields that need their own SQL
placeholders (those raise, so nobody gets a silently different insert).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

from django.db import connections, router
from django.db.models import Field, Model


@cache
def _columns(model: type[Model]) -> tuple[Field[Any, Any], ...]:
    meta = model._meta
    if meta.parents:
        raise TypeError(f"{meta.label}: multi-table inheritance is not supported here")
    if meta.pk is None or meta.pk.get_internal_type() not in ("AutoField", "BigAutoField", "SmallAutoField"):
        raise TypeError(f"{meta.label}: only models with an automatic primary key")
    fields = tuple(f for f in meta.concrete_fields if f is not meta.pk)
    if any(hasattr(f, "get_placeholder") for f in fields):
        raise TypeError(f"{meta.label}: a field needs its own SQL placeholder")
    return fields


_statements: dict[tuple[type[Model], str], tuple[str, str, str]] = {}


def _parts(model: type[Model], connection: Any) -> tuple[str, str, str]:
    key = (model, connection.vendor)
    parts = _statements.get(key)
    if parts is None:
        quote = connection.ops.quote_name
        fields = _columns(model)
        head = f"INSERT INTO {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) "
        tail = f" RETURNING {quote(model._meta.pk.column)}"
        if connection.vendor == "postgresql":
            # One array per column: the statement's text and its parameter count stay the same
            # whatever the number of rows, so psycopg parses it once (it re-parses statements
            # with more than 50 parameters every time) and PostgreSQL plans one shape.
            # Lengths are dropped from the types (varchar(50)[] would truncate silently; the
            # column itself still refuses a value too long).
            types = [str(f.db_type(connection)).split("(")[0] for f in fields]
            body = "SELECT * FROM UNNEST(" + ", ".join(f"%s::{t}[]" for t in types) + ")"
            parts = (head + body + tail, "", "")
        else:
            parts = (head + "VALUES ", "(" + ", ".join(["%s"] * len(fields)) + ")", tail)
        _statements[key] = parts
    return parts


@dataclass
class Prepared:
    """New instances of one model with their column values worked out, not yet inserted."""

    model: type[Model]
    objs: list[Model]
    fields: tuple[Field[Any, Any], ...]
    values: list[Any]  # row after row, one value per field
    alias: str

    def set_column(self, attname: str, values: Sequence[Any]) -> None:
        """Replace one column's values (one per row, already in database form) and the
        instances' attribute: a value known only once the transaction holds a lock (the
        readable code from the day counter) without working out every other value again."""
        index = next(i for i, f in enumerate(self.fields) if f.attname == attname)
        width = len(self.fields)
        for row, (obj, value) in enumerate(zip(self.objs, values, strict=True)):
            self.values[row * width + index] = value
            setattr(obj, attname, value)


def prepare_new(objs: Sequence[Model]) -> Prepared | None:
    """Each field's ``pre_save`` and ``get_db_prep_save`` for these new instances (None when
    there are none): the Python part of an insert, which can run before a transaction."""
    if not objs:
        return None
    model = type(objs[0])
    fields = _columns(model)
    alias = router.db_for_write(model)
    connection = connections[alias]
    values: list[Any] = []
    for obj in objs:
        if type(obj) is not model or obj.pk is not None:
            raise ValueError("insert_new takes new instances of one model")
        # Foreign keys set to objects saved after the assignment (a contact built with its
        # unsaved case) take the now-known ids, as bulk_create does.
        obj._prepare_related_fields_for_save(operation_name="insert_new")  # type: ignore[attr-defined]
        values.extend(f.get_db_prep_save(f.pre_save(obj, True), connection) for f in fields)
    return Prepared(model, list(objs), fields, values, alias)


def insert_prepared(prepared: Prepared | None) -> None:
    """Insert prepared rows and set the instances' primary keys."""
    if prepared is None:
        return
    model, objs, fields, values, alias = (
        prepared.model,
        prepared.objs,
        prepared.fields,
        prepared.values,
        prepared.alias,
    )
    connection = connections[alias]
    head, row, tail = _parts(model, connection)
    width = len(fields)
    if not row:  # PostgreSQL: the columns as arrays, all rows in one statement
        statements = [(head, [values[i::width] for i in range(width)], objs)]
    else:  # rows per statement within the backend's limit on parameters (old SQLite: 999)
        per_statement = max(1, connection.ops.bulk_batch_size(list(fields), objs))
        statements = []
        for start in range(0, len(objs), per_statement):
            chunk = objs[start : start + per_statement]
            params = values[start * width : (start + len(chunk)) * width]
            statements.append((head + ", ".join([row] * len(chunk)) + tail, params, chunk))
    with connection.cursor() as cursor:
        for sql, params, chunk in statements:
            cursor.execute(sql, params)
            ids = cursor.fetchall()
            if len(ids) != len(chunk):
                raise RuntimeError(f"{model._meta.label}: {len(ids)} ids returned for {len(chunk)} rows")
            for obj, (pk,) in zip(chunk, ids, strict=True):
                obj.pk = pk
                obj._state.adding = False
                obj._state.db = alias


def insert_new(objs: Sequence[Model]) -> None:
    """Insert these new, unsaved instances of one model and set their primary keys."""
    insert_prepared(prepare_new(objs))
