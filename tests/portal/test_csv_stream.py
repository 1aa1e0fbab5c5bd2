"""The one CSV writer: BOM, formula-safe cells, streamed in pages by id."""

from __future__ import annotations

import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from portal.csv_stream import (
    copy_csv_chunks,
    csv_chunks,
    csv_response,
    csv_safe,
    queryset_pages,
    sql_csv_safe,
)
from portal.models import AuditEvent


@pytest.mark.parametrize(
    ("cell", "written"),
    [
        ('=HYPERLINK("http://x")', '\'=HYPERLINK("http://x")'),
        ("+82 10", "'+82 10"),
        ("-1+2", "'-1+2"),
        ("@SUM(A1)", "'@SUM(A1)"),
        ("\tcmd", "'\tcmd"),
        ("\rcmd", "'\rcmd"),
        ("동의", "동의"),
        ("a=b", "a=b"),
        ("", ""),
    ],
)
def test_text_cells_that_could_start_a_formula_are_neutralised(cell, written):
    assert csv_safe(cell) == written


def test_numbers_stay_numbers_even_when_negative():
    assert csv_safe(-3) == -3
    assert csv_safe(2.5) == 2.5
    assert csv_safe(None) is None


def test_the_file_starts_with_a_bom_and_reads_back_as_written():
    rows = [("P-1", "동의함", -2, "=1+1"), ("P-2", "line\nbreak", 0, None)]
    data = b"".join(csv_chunks(["code", "항목", "n", "note"], rows))
    assert data.startswith("\ufeff".encode())
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert parsed == [
        ["code", "항목", "n", "note"],
        ["P-1", "동의함", "-2", "'=1+1"],
        ["P-2", "line\nbreak", "0", ""],
    ]


def test_a_large_table_comes_in_several_chunks():
    rows = (("x" * 100, i) for i in range(10_000))
    chunks = list(csv_chunks(["a", "b"], rows))
    assert len(chunks) > 1
    assert max(len(c) for c in chunks) < 400_000


def test_the_response_streams_with_a_download_name():
    response = csv_response(filename="t.csv", header=["a"], rows=[("b",)])
    assert response.streaming
    assert response["Content-Disposition"] == 'attachment; filename="t.csv"'
    assert b"".join(response.streaming_content) == "\ufeffa\r\nb\r\n".encode()


def test_a_file_name_with_a_quote_is_refused():
    with pytest.raises(ValueError):
        csv_response(filename='a".csv', header=["a"], rows=[])


@pytest.mark.django_db
def test_rows_are_read_in_pages_by_id_and_all_come_back_once():
    AuditEvent.objects.bulk_create(
        [AuditEvent(action="test.row", object_id=str(i)) for i in range(25)]
    )
    qs = AuditEvent.objects.filter(action="test.row")
    with CaptureQueriesContext(connection) as queries:
        rows = list(queryset_pages(qs, ["object_id"], page_size=10))
    assert sorted(int(r[0]) for r in rows) == list(range(25))
    assert len(queries) == 3
    assert all("LIMIT 10" in q["sql"] and "ORDER BY" in q["sql"] for q in queries)


@pytest.mark.django_db
def test_copy_writes_the_csv_in_the_database_page_by_page_and_neutralised():
    values = ["=1+1", "-x", "@a", "\tb", "ok", "동의"]
    AuditEvent.objects.bulk_create([AuditEvent(action="test.copy", object_id=v) for v in values])
    select = (
        f"SELECT id, {sql_csv_safe('object_id')} FROM portal_auditevent "
        "WHERE action = %s AND {page} ORDER BY id"
    )
    chunks = list(
        copy_csv_chunks(
            header=["id", "값"],
            select=select,
            params=["test.copy"],
            id_columns=["id"],
            table="portal_auditevent",
            page_ids=2,
        )
    )
    data = b"".join(chunks)
    assert data.startswith("\ufeffid,값\n".encode())
    parsed = list(csv.reader(io.StringIO(data.decode("utf-8-sig"))))
    assert [row[1] for row in parsed[1:]] == ["'=1+1", "'-x", "'@a", "'\tb", "ok", "동의"]
    assert len(chunks) > 3  # several pages
