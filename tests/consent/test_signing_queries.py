"""The web signing request (``POST /consent/sign/``) within a pinned number of SQL queries.

Signing is the busiest write of the portal; a change that adds a query to it should be a decision,
not an accident. The budget covers the whole request: session, user and roles, allauth's
re-authentication check, the page's reads, and the transaction (lock, chain head and database
time, event, projection, funnel step with its aggregates, audit row).
"""

from __future__ import annotations

import pytest
from django.urls import reverse

from consent.models import ConsentEvent, ConsentState
from consent.projection import ReconsentRule, state_fold
from tests.consent import signing_builders as ca
from tests.consent.signing_builders import reauthenticate, sign_data
from tests.factories import UserFactory

pytestmark = pytest.mark.django_db

# Measured at 23 queries inside the test transaction (35 before the dam's outbox, the pseudonym, the
# funnel counts and the version's items were each read or written in fewer statements; 25 before
# the page took the participant's lock with its first read and the session was saved in one
# statement), the signing transaction's own BEGIN/COMMIT counted as savepoints. That includes
# registering the subject with the dam, which a first consent allowing data sharing does in the
# same transaction (dam.receivers): one read of what was sent under the lock, the pseudonym, one
# insert of both outbox rows. The password is checked against the session's proof: no query.
SIGNING_QUERY_BUDGET = 23


@pytest.fixture
def signed_in_volunteer(client, signed_in_participant):
    """The signed-in participant, with the password just confirmed (signing asks for it)."""
    reauthenticate(client)
    return signed_in_participant


def test_signing_stays_within_its_query_budget(
    client, signed_in_volunteer, django_assert_max_num_queries
):
    version = ca.active_version()
    data = sign_data(version)
    with django_assert_max_num_queries(SIGNING_QUERY_BUDGET):
        response = client.post(reverse("consent:sign"), data)
    assert response.status_code == 302
    event = ConsentEvent.objects.get(participant=signed_in_volunteer)
    signed_in_volunteer.refresh_from_db()
    assert signed_in_volunteer.status == "consented"
    # The projection folded one step further is the projection folded from the whole chain.
    state = ConsentState.objects.get(participant=signed_in_volunteer)
    rebuilt = state_fold([event], needs_reconsent=ReconsentRule())
    assert {name: getattr(state, name) for name in rebuilt.as_fields()} == rebuilt.as_fields()


def _live_equals_full_fold(participant) -> None:
    state = ConsentState.objects.get(participant=participant)
    events = list(ConsentEvent.objects.filter(participant=participant).order_by("sequence"))
    folded = state_fold(events, needs_reconsent=ReconsentRule()).as_fields()
    assert {name: getattr(state, name) for name in folded} == folded


def test_the_state_folded_one_event_further_equals_the_fold_of_the_whole_chain():
    from consent.services import consent_record, consent_update, consent_void, consent_withdraw

    version = ca.active_version()
    participant = ca.eligible_participant()
    staff = UserFactory()

    def sign():
        return consent_record(
            participant=participant,
            version=version,
            choices={**ca.all_yes(version), "genomic_analysis": False},
            signature=ca.typed(),
            by=None,
            answers=ca.right_answers(version),
        )

    first = sign()
    _live_equals_full_fold(participant)
    consent_update(
        participant=participant, choices={"genomic_analysis": True}, by=None, confirmed=True
    )
    _live_equals_full_fold(participant)
    consent_void(event=first, by=staff, reason="signature unreadable")
    _live_equals_full_fold(participant)
    participant.refresh_from_db()
    sign()  # again, from the voided state
    _live_equals_full_fold(participant)
    # A projection that is not the fold of the chain before the new event is not trusted: the
    # next event folds the whole chain again.
    ConsentState.objects.filter(participant=participant).update(first_granted_at={}, event_count=1)
    consent_update(participant=participant, choices={"recontact": False}, by=None, confirmed=True)
    _live_equals_full_fold(participant)
    consent_withdraw(participant=participant, level="no_further_contact", by=None, confirmed=True)
    _live_equals_full_fold(participant)
    assert ConsentState.objects.get(participant=participant).status == "withdrawn"
