"""Fast inserts for bulk imports (private to ``enrollment.services``): PostgreSQL COPY through
``portal.db.copy_rows``, with ids drawn from the table's sequence.

``bulk_create`` spends most of its time building one huge INSERT in Python; COPY streams plain
rows. Other databases (the embedded SQLite) fall back to ``bulk_create``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from django.db import connection, models
from django.db.models.expressions import DatabaseDefault

from portal.db import copy_rows

M = TypeVar("M", bound=models.Model)


def _usescopy_rows() -> bool:
    return connection.vendor == "postgresql"


def _next_ids(model: type[models.Model], count: int) -> list[int]:
    table = model._meta.db_table
    pk_column = model._meta.pk.column
    with connection.cursor() as cursor:
        # One array rather than ``count`` result rows: less to parse on the Python side.
        cursor.execute(
            "SELECT array_agg(nextval(pg_get_serial_sequence(%s, %s))) FROM generate_series(1, %s)",
            [table, pk_column, count],
        )
        row = cursor.fetchone()
        return list(row[0]) if row is not None else []


def reserve_ids(model: type[models.Model], count: int) -> list[int] | None:
    """``count`` primary keys drawn from the table's sequence, or None where that is not possible
    (then ``insert_models`` assigns them at insert time)."""
    return _next_ids(model, count) if _usescopy_rows() else None


def insert_models(objects: list[M]) -> list[M]:
    """Insert new model instances (every concrete field set, no database defaults left) and give
    them their primary keys (keys already set, e.g. from ``reserve_ids``, are kept)."""
    if not objects:
        return objects
    model = type(objects[0])
    if not _usescopy_rows():
        return model._default_manager.bulk_create(objects)
    missing = [obj for obj in objects if obj.pk is None]
    if missing:
        for obj, pk in zip(missing, _next_ids(model, len(missing)), strict=True):
            obj.pk = pk
    fields = model._meta.concrete_fields
    for field in fields:
        if isinstance(getattr(objects[0], field.attname), DatabaseDefault):
            raise ValueError(f"{model.__name__}.{field.name} must be set for a bulk insert")
    attnames = [f.attname for f in fields]
    copy_rows(
        model._meta.db_table,
        [str(f.column) for f in fields],
        [[getattr(obj, name) for name in attnames] for obj in objects],
    )
    return objects


def insert_rows(model: type[models.Model], rows: Sequence[Mapping[str, Any]]) -> None:
    """Insert rows given as {attname: value} (all rows with the same keys)."""
    if not rows:
        return
    if not _usescopy_rows():
        model._default_manager.bulk_create([model(**row) for row in rows])
        return
    names = list(rows[0])
    columns = [str(getattr(model._meta.get_field(name), "column", name)) for name in names]
    copy_rows(model._meta.db_table, columns, [[row[name] for name in names] for row in rows])


def values_matching(
    model: type[models.Model],
    column: str,
    values: Sequence[Any],
    *,
    also: str | None = None,
    not_empty: bool = False,
    **equal: Any,
) -> list[Any]:
    """``column`` values (or (column, ``also``) pairs) of rows whose ``column`` is in ``values``
    and whose other columns equal ``equal``; one array parameter instead of thousands of IN
    parameters on PostgreSQL. ``not_empty`` adds ``NOT (column = '')``, the predicate of partial
    indexes such as the one on (site, external reference), so that the planner can use them."""
    if not values:
        return []
    if not _usescopy_rows():
        rows = model._default_manager.filter(**{f"{column}__in": values}, **equal)
        if not_empty:
            rows = rows.exclude(**{column: ""})
        if also:
            return list(rows.values_list(column, also))
        return list(rows.values_list(column, flat=True))
    quote = connection.ops.quote_name
    selected = quote(column) + (f", {quote(also)}" if also else "")
    conditions = [f"{quote(column)} = ANY(%s)"] + [f"{quote(name)} = %s" for name in equal]
    if not_empty:
        conditions.append(f"NOT ({quote(column)} = '')")
    sql = f"SELECT {selected} FROM {quote(model._meta.db_table)} WHERE {' AND '.join(conditions)}"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql, [list(values), *equal.values()])
        rows = cursor.fetchall()
    return [tuple(row) for row in rows] if also else [row[0] for row in rows]
