"""Settings and reads that stay correct behind a transaction pooler (PgBouncer)."""

from __future__ import annotations

import json

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from enrollment.models import Participant
from portal.paging import pages_by_id, rows_by_id
from tests.factories import ParticipantFactory
from tests.portal.production import manage, production_env

SHOW = (
    "import json; from django.conf import settings; d = settings.DATABASES['default']; "
    "print(json.dumps([d['CONN_MAX_AGE'], d['CONN_HEALTH_CHECKS'], "
    "d['DISABLE_SERVER_SIDE_CURSORS'], d.get('OPTIONS', {}).get('prepare_threshold', 'default')]))"
)


def test_pooler_settings_come_from_the_environment():
    env = production_env(
        CONN_MAX_AGE="0",
        CONN_HEALTH_CHECKS="false",
        DISABLE_SERVER_SIDE_CURSORS="true",
        DATABASE_PREPARED_STATEMENTS="false",
    )
    result = manage("shell", "-c", SHOW, env=env)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout.strip().splitlines()[-1]) == [0, False, True, None]


def test_malformed_pooler_setting_is_refused_by_name():
    result = manage("check", env=production_env(DISABLE_SERVER_SIDE_CURSORS="maybe"))
    assert result.returncode != 0
    assert "DISABLE_SERVER_SIDE_CURSORS" in result.stderr


@pytest.mark.django_db
def test_pages_by_id_reads_every_row_once_in_order_with_plain_queries():
    made = sorted(p.pk for p in ParticipantFactory.create_batch(7))
    with CaptureQueriesContext(connection) as queries:
        pages = [[p.pk for p in page] for page in pages_by_id(Participant.objects.all(), size=3)]
    assert [len(page) for page in pages] == [3, 3, 1]
    assert [pk for page in pages for pk in page] == made
    assert len(queries) == 3
    assert not any("DECLARE" in q["sql"].upper() for q in queries.captured_queries)


@pytest.mark.django_db
def test_rows_by_id_survives_rows_changing_between_pages():
    made = sorted(p.pk for p in ParticipantFactory.create_batch(5))
    seen = []
    for participant in rows_by_id(Participant.objects.all(), size=2):
        seen.append(participant.pk)
        if len(seen) == 1:
            Participant.objects.filter(pk=made[-1]).delete()
    assert seen == made[:-1]
