"""Walk a large query in pages by primary key, without a server-side cursor.

Behind a transaction pooler (PgBouncer in transaction mode) a server-side cursor opened outside a
transaction lives on a server connection the pooler may hand to someone else between two fetches;
``QuerySet.iterator()`` then fails under load. Each page here is one ordinary query
(``WHERE pk > last ORDER BY pk LIMIT n``), so any connection can answer it, and work done between
pages (its own short transactions) never holds a cursor open.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import TypeVar

from django.db.models import Model, QuerySet

M = TypeVar("M", bound=Model)


def pages_by_id(queryset: QuerySet[M], *, size: int = 1000) -> Iterator[list[M]]:
    """Yield lists of at most ``size`` rows, in primary-key order, until the query is exhausted."""
    if size < 1:
        raise ValueError("size must be at least 1")
    last = None
    ordered = queryset.order_by("pk")
    while True:
        page = list((ordered if last is None else ordered.filter(pk__gt=last))[:size])
        if not page:
            return
        yield page
        if len(page) < size:
            return
        last = page[-1].pk


def rows_by_id(queryset: QuerySet[M], *, size: int = 1000) -> Iterator[M]:
    """Every row of ``queryset`` in primary-key order, read a page at a time."""
    for page in pages_by_id(queryset, size=size):
        yield from page
