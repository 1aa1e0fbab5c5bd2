"""consent_allows / consent_allows_bulk: the rule, the reasons, history by signed-at time."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from consent.models import ConsentState, Purpose
from consent.selectors.checks import consent_allows, consent_allows_bulk
from consent.services.activation import version_activate
from enrollment.models import Participant
from tests.consent.ledger_builders import ITEMS_V1, make_version, record
from tests.factories import ParticipantFactory

pytestmark = pytest.mark.django_db

ALL_YES = {
    "data_sharing": True,
    "sample_storage": True,
    "genomic_analysis": True,
    "recontact": True,
}


@pytest.fixture
def v1():
    return make_version("v1", activated_at=timezone.now() - timedelta(days=60))


def test_starting_purposes_are_seeded():
    genomic = Purpose.objects.get(code="genomic_research")
    assert genomic.required_items == ["data_sharing", "genomic_analysis"]
    assert genomic.duo_code == "DUO:0000016"


def test_all_required_items_yes_allows(v1):
    participant = ParticipantFactory()
    record(participant, v1, ALL_YES)
    decision = consent_allows(participant, "genomic_research")
    assert decision.allowed
    assert decision.reason == "allowed"


def test_declined_item_is_named(v1):
    participant = ParticipantFactory()
    record(participant, v1, {**ALL_YES, "genomic_analysis": False})
    decision = consent_allows(participant, "genomic_research")
    assert not decision.allowed
    assert decision.reason == "item genomic_analysis declined"
    assert consent_allows(participant, "general_research").allowed


def test_participant_without_consent_is_refused():
    participant = ParticipantFactory()
    decision = consent_allows(participant, "general_research")
    assert (decision.allowed, decision.reason) == (False, "no consent on record")


def test_withdrawal_with_no_further_use_blocks_everything(v1):
    participant = ParticipantFactory()
    record(participant, v1, ALL_YES)
    record(participant, v1, ALL_YES, kind="withdraw", withdrawal_level="no_further_use")
    for purpose in ("general_research", "recontact_new_study", "follow_up_collection"):
        decision = consent_allows(participant, purpose)
        assert (decision.allowed, decision.reason) == (False, "withdrawn")


def test_no_further_contact_still_allows_use_of_what_is_held(v1):
    participant = ParticipantFactory()
    record(participant, v1, ALL_YES)
    record(participant, v1, ALL_YES, kind="withdraw", withdrawal_level="no_further_contact")
    assert consent_allows(participant, "general_research").allowed
    assert consent_allows(participant, "recontact_new_study").reason == "withdrawn"


def test_voided_consent_does_not_count(v1):
    participant = ParticipantFactory()
    grant = record(participant, v1, ALL_YES, kind="grant")
    record(participant, v1, {}, kind="void", voids=grant)
    assert consent_allows(participant, "general_research").reason == "consent voided"
    # As of any time, the voided consent never counted.
    assert consent_allows(participant, "general_research", at=timezone.now()).reason == (
        "no consent on record"
    )


def test_new_item_counts_as_no_until_reconsent_while_earlier_choices_stand(v1, manager):
    participant = ParticipantFactory()
    record(participant, v1, ALL_YES)
    v2 = make_version("v2", [*ITEMS_V1, ("overseas_transfer", False)], status="approved")
    result = version_activate(version=v2, by=manager)
    assert result.reconsent_due == 1
    assert ConsentState.objects.get(participant=participant).status == "reconsent_due"

    overseas = Purpose.objects.create(
        code="overseas_only", name="Overseas", required_items=["data_sharing", "overseas_transfer"]
    )
    decision = consent_allows(participant, overseas)
    assert (decision.allowed, decision.reason) == (
        False,
        "re-consent due for item overseas_transfer",
    )
    assert consent_allows(participant, "genomic_research").allowed

    record(participant, v2, {**ALL_YES, "overseas_transfer": True}, kind="reconsent")
    assert consent_allows(participant, overseas).allowed


def test_historical_answer_uses_signed_at_not_recorded_at(v1):
    participant = ParticipantFactory()
    now = timezone.now()
    record(participant, v1, ALL_YES, signed_at=now - timedelta(days=30))
    # A paper form signed ten days ago, entered only now, withdrew genomic analysis.
    record(
        participant,
        v1,
        {**ALL_YES, "genomic_analysis": False},
        kind="update",
        signed_at=now - timedelta(days=10),
    )
    assert consent_allows(participant, "genomic_research", at=now - timedelta(days=20)).allowed
    later = consent_allows(participant, "genomic_research", at=now - timedelta(days=5))
    assert later.reason == "item genomic_analysis declined"
    before = consent_allows(participant, "genomic_research", at=now - timedelta(days=40))
    assert before.reason == "no consent on record"


def test_historical_withdrawal(v1):
    participant = ParticipantFactory()
    now = timezone.now()
    record(participant, v1, ALL_YES, signed_at=now - timedelta(days=30))
    record(
        participant,
        v1,
        ALL_YES,
        kind="withdraw",
        withdrawal_level="no_further_use",
        signed_at=now - timedelta(days=3),
    )
    assert consent_allows(participant, "general_research", at=now - timedelta(days=4)).allowed
    assert consent_allows(participant, "general_research", at=now).reason == "withdrawn"


def test_historical_reconsent_due_for_item_of_a_later_version(v1, manager):
    participant = ParticipantFactory()
    record(participant, v1, ALL_YES, signed_at=timezone.now() - timedelta(days=9))
    v2 = make_version("v2", [*ITEMS_V1, ("overseas_transfer", False)], status="approved")
    version_activate(version=v2, by=manager, at=timezone.now() - timedelta(days=5))
    purpose = Purpose.objects.create(
        code="overseas_only", name="Overseas", required_items=["overseas_transfer"]
    )
    before = consent_allows(participant, purpose, at=timezone.now() - timedelta(days=7))
    assert before.reason == "item overseas_transfer not part of the signed consent"
    after = consent_allows(participant, purpose, at=timezone.now() - timedelta(days=1))
    assert after.reason == "re-consent due for item overseas_transfer"


def test_bulk_matches_single_answers_and_flags_unknown_codes(v1):
    participants: list[Participant] = [ParticipantFactory() for _ in range(6)]
    record(participants[0], v1, ALL_YES)
    record(participants[1], v1, {**ALL_YES, "data_sharing": False})
    record(participants[2], v1, ALL_YES)
    record(participants[2], v1, ALL_YES, kind="withdraw", withdrawal_level="no_further_use")
    record(participants[3], v1, {**ALL_YES, "genomic_analysis": False})
    codes = [p.code for p in participants] + ["NOSUCHCODE"]
    decisions = consent_allows_bulk(codes=codes, purpose="genomic_research")
    assert decisions["NOSUCHCODE"].reason == "unknown participant"
    for p in participants:
        assert decisions[p.code] == consent_allows(p, "genomic_research")
    assert [decisions[p.code].reason for p in participants[:5]] == [
        "allowed",
        "item data_sharing declined",
        "withdrawn",
        "item genomic_analysis declined",
        "no consent on record",
    ]


@pytest.mark.parametrize("at_offset", [None, timedelta(0)])
def test_bulk_query_count_does_not_grow_with_participants(v1, at_offset, django_assert_num_queries):
    purpose = Purpose.objects.get(code="genomic_research")
    few = [ParticipantFactory() for _ in range(3)]
    many = [ParticipantFactory() for _ in range(60)]
    for p in few + many:
        record(p, v1, ALL_YES)
    at = None if at_offset is None else timezone.now()
    expected = 1 if at is None else 3  # the decision; versions and their items for "re-consent due"
    with django_assert_num_queries(expected):
        consent_allows_bulk(codes=[p.code for p in few], purpose=purpose, at=at)
    with django_assert_num_queries(expected):
        result = consent_allows_bulk(codes=[p.code for p in many], purpose=purpose, at=at)
    assert all(d.allowed for d in result.values())


def test_inactive_purpose_refuses_everyone(v1):
    participant = ParticipantFactory()
    record(participant, v1, ALL_YES)
    Purpose.objects.filter(code="general_research").update(is_active=False)
    assert consent_allows(participant, "general_research").reason == "purpose not in use"


def test_purpose_admin_form_takes_a_comma_separated_list():
    from consent.admin import PurposeForm

    form = PurposeForm(
        data={
            "code": "cohort_study",
            "name": "Cohort study",
            "required_items": "data_sharing, ehr_linkage",
            "duo_code": "DUO:0000042",
            "activity": "use",
            "is_active": "on",
        }
    )
    assert form.is_valid(), form.errors
    assert form.save().required_items == ["data_sharing", "ehr_linkage"]
    bad = PurposeForm(data={**form.data, "code": "x2", "required_items": "Data Sharing!"})
    assert not bad.is_valid() and "required_items" in bad.errors
