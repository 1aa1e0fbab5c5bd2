"""Synthetic consent ledgers: hashed like real ones, states equal to a rebuild from the ledger."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from consent.ledger import ledger_verify
from consent.models import ConsentEvent, ConsentState
from consent.projection import state_rebuild_all
from consent.seeding import consent_ledgers_seed
from enrollment.models import StatusTransition
from tests.factories import ParticipantFactory

pytestmark = pytest.mark.django_db

FIELDS = [
    "version_id",
    "status",
    "choices",
    "first_granted_at",
    "signed_at",
    "withdrawal_level",
    "samples_fate",
    "last_event_id",
    "event_count",
]


def _walk(participant, steps):
    previous = ""
    for status, at in steps:
        StatusTransition.objects.create(
            participant=participant,
            from_status=previous,
            to_status=status,
            at=at,
            site_id_at=participant.site_id,
            cohort_id_at=participant.cohort_id,
        )
        previous = status


def test_seeded_ledgers_verify_and_match_a_rebuild():
    now = timezone.now()
    people = [ParticipantFactory() for _ in range(60)]
    for n, p in enumerate(people):
        registered = dt.datetime(2024, 2, 1, tzinfo=dt.UTC) + dt.timedelta(days=9 * n)
        steps = [("registered", registered), ("eligible", registered + dt.timedelta(days=2))]
        if n % 6:
            steps.append(("consented", registered + dt.timedelta(days=5)))
        if n % 12 == 1:
            steps.append(("withdrawn", min(registered + dt.timedelta(days=200), now)))
        _walk(p, steps)
    result = consent_ledgers_seed(
        first_id=people[0].pk, last_id=people[-1].pk, seeded_at=now, workers=1, seed=3
    )
    assert result.participants == 50
    assert 2.0 <= result.events / result.participants <= 4.0
    assert ConsentEvent.objects.filter(kind="withdraw").count() == 5
    assert ConsentEvent.objects.filter(kind="reconsent").exists()
    assert ConsentState.objects.filter(status="reconsent_due").exists()
    verified = ledger_verify()
    assert verified.ok and verified.events == result.events

    seeded = {s.participant_id: [getattr(s, f) for f in FIELDS] for s in ConsentState.objects.all()}
    state_rebuild_all()
    rebuilt = {
        s.participant_id: [getattr(s, f) for f in FIELDS] for s in ConsentState.objects.all()
    }
    assert seeded == rebuilt
