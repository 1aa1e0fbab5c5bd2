"""Coming of age (19): the adult decides for themselves.

A minor's consent is signed by their guardian. On the 19th birthday the daily task writes a
``majority`` event into the ledger; from then on the checks answer "re-consent due at majority",
and after the grace period new uses are held back, until the adult signs in their own name (on the
same version, without a representative). The guardian can no longer sign for them. A rebuild keeps
all of it, because it is in the ledger.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone, translation

from consent.models import ConsentEvent, ConsentState
from consent.projection import state_rebuild_all
from consent.selectors.checks import consent_allows
from consent.services import InPerson, Signature, consent_record, consent_withdraw
from consent.services.coming_of_age import minors_flag_coming_of_age
from portal.roles import Role
from tests.consent import signing_builders as ca
from tests.enrollment.people import years_ago
from tests.factories import staff_user

pytestmark = pytest.mark.django_db

GUARDIAN = Signature(
    typed_name="김보호",
    confirmed=True,
    signer_kind="legal_representative",
    representative_relation="parent",
)


@pytest.fixture
def came_of_age() -> tuple[Any, Any]:
    """The guardian signed on paper yesterday (aged 18); 19 today, flagged by the daily task."""
    version = ca.active_version(effective_from=timezone.now() - dt.timedelta(days=30))
    participant = ca.eligible_participant(
        guardian_name="김보호",
        guardian_relationship="어머니",
        is_minor=True,
        birth_date=years_ago(19),
    )
    consent_record(
        participant=participant,
        version=version,
        choices=ca.all_yes(version),
        signature=GUARDIAN,
        by=staff_user(Role.COORDINATOR, sites=[participant.site] if participant.site else []),
        in_person=InPerson(
            channel="scanned_paper",
            signed_at=timezone.now() - dt.timedelta(days=1),
            paper_form=b"%PDF-1.4\n% scanned\n",
        ),
    )
    assert minors_flag_coming_of_age().flagged == 1
    participant.refresh_from_db()
    return participant, version


def test_coming_of_age_is_a_ledger_fact_that_a_rebuild_keeps(came_of_age):
    participant, _version = came_of_age
    event = ConsentEvent.objects.filter(participant=participant).order_by("sequence").last()
    assert event is not None and event.kind == "majority"
    assert ConsentState.objects.get(participant=participant).status == "reconsent_due"
    state_rebuild_all()
    state = ConsentState.objects.get(participant=participant)
    assert state.status == "reconsent_due" and state.majority_since is not None


def test_checks_say_reconsent_due_at_majority_then_hold_new_uses_after_the_grace_period(
    came_of_age, settings
):
    participant, _version = came_of_age
    decision = consent_allows(participant, "general_research")
    assert decision.allowed and decision.reason == "re-consent due at majority"
    assert consent_allows(participant, "general_research", at=timezone.now()) == decision
    settings.MAJORITY_GRACE_DAYS = 0
    held = consent_allows(participant, "general_research")
    assert not held.allowed
    assert held.reason == "re-consent due at majority; new uses held back"
    assert consent_allows(participant, "general_research", at=timezone.now()) == held


def test_the_adult_signs_the_same_version_in_their_own_name(came_of_age):
    participant, version = came_of_age
    event = consent_record(
        participant=participant,
        version=version,
        choices=ca.all_yes(version),
        signature=ca.typed(),
        by=None,
        answers=ca.right_answers(version),
    )
    assert (event.kind, event.signer_kind) == ("reconsent", "self")
    state = ConsentState.objects.get(participant=participant)
    assert state.status == "active" and state.majority_since is None
    assert consent_allows(participant, "general_research").reason == "allowed"


def test_the_guardian_can_no_longer_sign_or_withdraw_for_them(came_of_age):
    participant, version = came_of_age
    # The refusal is asserted in Korean, the default language, whatever ran before in this thread.
    translation.activate("ko")
    with pytest.raises(ValidationError, match="성년이 되었으므로"):
        consent_record(
            participant=participant,
            version=version,
            choices=ca.all_yes(version),
            signature=GUARDIAN,
            by=None,
            answers=ca.right_answers(version),
        )
    with pytest.raises(ValidationError, match="성년이 되었으므로"):
        consent_withdraw(
            participant=participant,
            level="no_further_contact",
            by=None,
            confirmed=True,
            signer_kind="legal_representative",
            representative_relation="parent",
        )


def test_a_birthday_in_the_past_dates_the_fact(came_of_age):
    participant, _version = came_of_age
    event = ConsentEvent.objects.get(participant=participant, kind="majority")
    assert timezone.localtime(event.signed_at).date() == timezone.localdate()
    assert event.signed_at <= event.recorded_at + dt.timedelta(0)
