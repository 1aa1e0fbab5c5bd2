"""Phones in any written form become one E.164 value everywhere; invisible characters stay out."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from enrollment.models import Participant
from enrollment.services import participant_register_volunteer, referrals_import
from enrollment.vault import (
    has_hidden_characters,
    normalise_phone,
    participant_find,
    profile_for_participant,
)
from tests.enrollment.people import profile
from tests.factories import CohortFactory, SiteFactory, UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

FULL_WIDTH = (
    "\uff10\uff11\uff10-\uff11\uff12\uff13\uff14-5678"  # "010-1234-5678", mostly full-width
)
MIXED = "010-\uff12\uff13\uff14\uff15-6789"


@pytest.mark.parametrize(
    "written, e164",
    [
        (FULL_WIDTH, "+821012345678"),
        (MIXED, "+821023456789"),
        ("+\uff18\uff12 10 2345 6789", "+821023456789"),
    ],
)
def test_phone_normalisation_folds_full_width_digits(written, e164):
    assert normalise_phone(written) == e164


def test_a_full_width_phone_registered_on_the_web_is_stored_normalised_and_found(coordinator):
    participant = participant_register_volunteer(
        user=UserFactory(),
        profile=profile(phone=FULL_WIDTH, email="fw@example.org"),
        sex="female",
        cohort=CohortFactory(),
        site=coordinator.site_memberships.get().site,
    )
    assert profile_for_participant(participant).phone == "+821012345678"
    assert participant_find(by=coordinator, phone="010-1234-5678") == participant
    # ... and it is a duplicate of the same number written in ASCII.
    second = participant_register_volunteer(
        user=UserFactory(),
        profile=profile(phone="01012345678", email="other@example.org"),
        sex="female",
        cohort=CohortFactory(),
        site=SiteFactory(),
    )
    assert second.duplicate_flags.get().matches == participant


def test_an_imported_full_width_phone_is_stored_normalised(site, coordinator):
    CohortFactory(code="rare", open_for_volunteers=False)
    header = "external_ref,cohort,name,birth_date,sex,phone\n"
    result = referrals_import(
        site=site,
        by=coordinator,
        data=(header + f"R-1,rare,김민수,1970-05-01,M,{MIXED}\n").encode(),
    )
    assert result.created == 1
    imported = Participant.objects.get(external_ref="R-1")
    assert profile_for_participant(imported).phone == "+821023456789"


@pytest.mark.parametrize(
    "text",
    [
        "홍\u202e동길",
        "홍\u200b길동",
        "Kim\u200dMinsu",
        "홍길동\u0007",
        "\u2066홍길동\u2069",
        "홍\ue000",
    ],
)
def test_control_and_format_characters_are_found(text):
    assert has_hidden_characters(text)


@pytest.mark.parametrize("text", ["홍길동", "Kim Min-su", "O'Brien", "서울시 마포구 1-2"])
def test_ordinary_names_are_fine(text):
    assert not has_hidden_characters(text)


@pytest.mark.parametrize(
    "field", ["name", "latin_name", "address", "guardian_name", "guardian_relationship"]
)
def test_registration_refuses_hidden_characters_in_personal_data(field):
    overrides = {field: "홍\u202e길동"}
    with pytest.raises(ValidationError, match="invisible or control characters"):
        participant_register_volunteer(
            user=UserFactory(),
            profile=profile(**overrides),
            sex="female",
            cohort=CohortFactory(),
            site=SiteFactory(),
        )
    assert not Participant.objects.exists()


def test_an_address_may_have_line_breaks():
    assert not has_hidden_characters("서울시 마포구\n1-2", allow_newlines=True)


def test_import_refuses_hidden_characters(site, coordinator):
    CohortFactory(code="rare", open_for_volunteers=False)
    header = "external_ref,cohort,name,birth_date,sex,phone\n"
    result = referrals_import(
        site=site,
        by=coordinator,
        data=(header + "R-1,rare,김\u200b민수,1970-05-01,M,010-1111-0001\n").encode(),
    )
    assert result.created == 0
    assert [(e.line, e.column) for e in result.errors] == [(2, "name")]
