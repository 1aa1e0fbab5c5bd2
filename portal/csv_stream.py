"""CSV files the portal writes: streamed, UTF-8 with a byte-order mark, formula-safe.

Every CSV download goes through here, so that all of them:

* open correctly in spreadsheet programs with Korean text (UTF-8 with a BOM first);
* cannot smuggle a formula into the reader's spreadsheet: a text cell that begins with ``=``,
  ``+``, ``-``, ``@``, a tab or a carriage return is written with a leading apostrophe, which
  spreadsheet programs show as text (numbers are written as they are: ``-3`` is a number);
* use constant memory whatever the number of rows: the response is a ``StreamingHttpResponse``
  fed by a generator, and tables are read from the database in pages by id
  (``queryset_pages``), never all at once.

Large tables (millions of rows) go through ``copy_csv_chunks``: PostgreSQL writes the CSV itself
(``COPY (SELECT ...) TO STDOUT``), one id range at a time, and Python only passes the bytes on. The
SELECT neutralises its text columns with ``sql_csv_safe``, the same rule as ``csv_safe``.

Auditing the export (who, why) is the caller's job: it knows the reason.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from django.db import connection
from django.db.models import Model, QuerySet
from django.http import StreamingHttpResponse

__all__ = [
    "BOM",
    "copy_csv_chunks",
    "csv_chunks",
    "csv_response",
    "csv_safe",
    "queryset_pages",
    "sql_csv_safe",
]

BOM = "\ufeff"
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
# Bytes gathered before a chunk is handed to the server: large enough to keep the per-chunk cost
# small, small enough to keep memory flat.
_CHUNK_CHARS = 256 * 1024


def csv_safe(value: Any) -> Any:
    """``value`` as a spreadsheet will read it as text, never as a formula.

    Only text is changed; numbers, booleans and ``None`` pass through (``None`` is an empty cell).
    """
    if value.__class__ is str and value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def csv_chunks(header: Sequence[Any], rows: Iterable[Sequence[Any]]) -> Iterator[bytes]:
    """The CSV file as a stream of UTF-8 chunks: the BOM and header first, then every row."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    buffer.write(BOM)
    writer.writerow([csv_safe(cell) for cell in header])
    safe = csv_safe
    writerow = writer.writerow
    for row in rows:
        writerow([safe(cell) for cell in row])
        if buffer.tell() >= _CHUNK_CHARS:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    tail = buffer.getvalue()
    if tail:
        yield tail.encode("utf-8")


def csv_response(
    *, filename: str, header: Sequence[Any], rows: Iterable[Sequence[Any]]
) -> StreamingHttpResponse:
    """A streamed CSV download named ``filename`` (ASCII, no quotes)."""
    if not filename.isascii() or '"' in filename or "/" in filename:
        raise ValueError("CSV file names are plain ASCII")
    response = StreamingHttpResponse(
        csv_chunks(header, rows), content_type="text/csv; charset=utf-8"
    )
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


def queryset_pages(
    queryset: QuerySet[Model], fields: Sequence[str], *, page_size: int = 5_000
) -> Iterator[tuple[Any, ...]]:
    """The rows of ``queryset`` as tuples of ``fields``, read in pages ordered by id.

    Each page is one query (``id > last ORDER BY id LIMIT page_size``), so no cursor stays open
    between pages and memory holds one page at a time. The id is read as well but not yielded.
    """
    last: Any = None
    base = queryset.order_by("pk")
    while True:
        page_qs = base if last is None else base.filter(pk__gt=last)
        page = list(page_qs.values_list("pk", *fields)[:page_size])
        if not page:
            return
        last = page[-1][0]
        for row in page:
            yield row[1:]
        if len(page) < page_size:
            return


def sql_csv_safe(expression: str) -> str:
    """SQL for ``expression`` (text) as ``csv_safe`` writes it: a leading apostrophe when it begins
    with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return."""
    return (
        f"CASE WHEN left({expression}, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) "
        f"THEN '''' || {expression} ELSE {expression} END"
    )


def copy_csv_chunks(
    *,
    header: Sequence[Any],
    select: str,
    params: Sequence[Any],
    id_columns: Sequence[str],
    table: str,
    page_ids: int = 100_000,
) -> Iterator[bytes]:
    """The CSV of ``select`` (PostgreSQL), written by the database with COPY, in pages of ids.

    ``select`` ends its WHERE clause with ``{page}``, which becomes ``c > %s AND c <= %s`` for
    each column ``c`` of ``id_columns`` (parameters appended after ``params``): name every column
    that carries the paged id (a foreign key and the key it joins), so that the planner reads
    only that range of each table. ``table`` is where the highest id is read once at the start,
    so rows added during the export are left for the next one. The BOM and the header come first.
    """
    head = io.StringIO()
    head.write(BOM)
    csv.writer(head, lineterminator="\n").writerow([csv_safe(cell) for cell in header])
    yield head.getvalue().encode("utf-8")
    page_condition = " AND ".join(f"{c} > %s AND {c} <= %s" for c in id_columns)
    statement = f"COPY ({select.format(page=page_condition)}) TO STDOUT (FORMAT csv)"
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT COALESCE(MIN(id), 1) - 1, COALESCE(MAX(id), 0) FROM {table}")  # noqa: S608
        low, high = cursor.fetchone()
        raw = cursor.cursor  # psycopg's own cursor: COPY is not part of the DB-API
        while low < high:
            bounds = [low, low + page_ids] * len(id_columns)
            with raw.copy(statement, [*params, *bounds]) as copy:
                for data in copy:
                    yield bytes(data)
            low += page_ids
