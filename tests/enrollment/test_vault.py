import base64
import datetime as dt

import pytest
from django.apps import apps
from django.core.management import call_command
from django.db import connection

from enrollment.audit import Action as EnrollmentAction
from enrollment.models import PersonalData
from enrollment.vault import _crypto as crypto
from enrollment.vault import (
    name_matches,
    participant_find,
    personal_data_read,
    profile_for_participant,
)
from portal.audit import Action
from portal.models import AuditEvent
from tests.enrollment.people import (
    participant_with_profile,
)
from tests.factories import SiteFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

OLD_KEY = base64.b64encode(b"o" * 32).decode()
NEW_KEY = base64.b64encode(b"n" * 32).decode()


def test_profile_round_trips_through_the_vault_in_normalised_form():
    participant = participant_with_profile()
    profile = profile_for_participant(participant)
    assert profile is not None
    assert profile.name == "홍길동"
    assert profile.birth_date == dt.date(1985, 3, 14)
    assert profile.phone == "+821023456789"
    assert profile.email == "gildong.hong@example.org"


def test_raw_table_holds_no_plaintext_name_phone_or_email():
    participant_with_profile()
    with connection.cursor() as cursor:
        cursor.execute("SELECT * FROM enrollment_personaldata")
        rows = cursor.fetchall()
    dump = repr(rows)
    assert len(rows) == 1
    for plaintext in (
        "홍길동",
        "Hong",
        "+821023456789",
        "01023456789",
        "2345",
        "example.org",
        "1985-03-14",
        "종로구",
    ):
        assert plaintext not in dump


def test_each_value_names_its_key_and_is_bound_to_its_row_and_field():
    first = participant_with_profile()
    second = participant_with_profile(phone="010-9999-0000", email="other@example.org")
    row = PersonalData.objects.get(pk=first.pk)
    assert row.name.startswith(f"{crypto.current_key_id()}:")
    # A ciphertext moved to another row, or to another column, no longer opens.
    PersonalData.objects.filter(pk=second.pk).update(name=row.name)
    with pytest.raises(crypto.VaultError):
        profile_for_participant(second)
    PersonalData.objects.filter(pk=first.pk).update(address=row.name)
    with pytest.raises(crypto.VaultError):
        profile_for_participant(first)


def test_staff_read_is_audited_by_id_without_values(coordinator):
    participant = participant_with_profile(site=coordinator.site_memberships.get().site)
    profile = personal_data_read(participant=participant, by=coordinator, reason="visit check-in")
    assert profile is not None and profile.name == "홍길동"
    event = AuditEvent.objects.get(action=Action.PERSONAL_DATA_VIEWED)
    assert event.actor == coordinator
    assert event.object_id == str(participant.pk)
    assert event.reason == "visit check-in"
    assert "홍길동" not in repr(event.details) and "example" not in repr(event.details)


@pytest.mark.parametrize(
    "typed, expected",
    [("홍길동", True), ("홍 길동", True), ("hong gildong", True), ("홍길순", False), ("", False)],
)
def test_name_matches_ignores_spacing_and_case(typed, expected):
    participant = participant_with_profile()
    assert name_matches(participant=participant, typed_name=typed) is expected


def test_name_matches_a_guardian_when_asked():
    participant = participant_with_profile(guardian_name="홍판서", guardian_relationship="부")
    assert name_matches(participant=participant, typed_name="홍판서", signer="guardian")
    assert not name_matches(participant=participant, typed_name="홍판서")


def test_find_by_exact_phone_or_email_in_any_written_form(coordinator):
    site = coordinator.site_memberships.get().site
    participant = participant_with_profile(site=site)
    assert participant_find(by=coordinator, phone="+82 10 2345 6789") == participant
    assert participant_find(by=coordinator, phone="01023456789") == participant
    assert participant_find(by=coordinator, email=" GILDONG.HONG@example.ORG ") == participant
    assert participant_find(by=coordinator, code=participant.code.lower()) == participant
    # No substring search: part of a phone or an e-mail finds nobody.
    assert participant_find(by=coordinator, phone="2345 6789") is None
    assert participant_find(by=coordinator, email="gildong.hong") is None
    searches = AuditEvent.objects.filter(action=EnrollmentAction.PARTICIPANT_SEARCHED, outcome="ok")
    assert searches.count() == 4


def test_coordinator_cannot_find_another_sites_participant_and_the_try_is_audited(coordinator):
    other = participant_with_profile(site=SiteFactory())
    assert participant_find(by=coordinator, email="gildong.hong@example.org") is None
    assert participant_find(by=coordinator, code=other.code) is None
    denied = AuditEvent.objects.filter(
        action=EnrollmentAction.PARTICIPANT_SEARCHED, outcome="denied"
    )
    assert denied.count() == 2
    assert set(denied.values_list("object_id", flat=True)) == {str(other.pk)}


def test_rotate_pii_key_re_encrypts_every_row_to_the_new_first_key(settings):
    settings.PII_KEYS = f"old:{OLD_KEY}"
    participants = [
        participant_with_profile(phone=f"010-1234-{n:04d}", email=f"p{n}@example.org")
        for n in range(5)
    ]
    before = {row.pk: row.name for row in PersonalData.objects.all()}
    assert set(PersonalData.objects.values_list("key_id", flat=True)) == {"old"}

    settings.PII_KEYS = f"new:{NEW_KEY},old:{OLD_KEY}"
    call_command("rotate_pii_key", batch_size=2, stdout=None)

    assert set(PersonalData.objects.values_list("key_id", flat=True)) == {"new"}
    for row in PersonalData.objects.all():
        assert row.name != before[row.pk]
        assert crypto.key_id_of(row.name) == "new"
        assert crypto.key_id_of(row.email) == "new"
    # The old key can now be dropped: everything opens with the new one alone.
    settings.PII_KEYS = f"new:{NEW_KEY}"
    assert [profile_for_participant(p).email for p in participants] == [
        f"p{n}@example.org" for n in range(5)
    ]


def test_no_model_field_asks_for_a_resident_registration_number():
    suspicious = ("resident", "rrn", "jumin", "registration_number", "주민")
    for model in apps.get_models():
        for field in model._meta.get_fields():
            label = f"{field.name} {getattr(field, 'verbose_name', '')}".lower()
            assert not any(word in label for word in suspicious), (model, field.name)


def test_the_quick_path_for_010_numbers_agrees_with_phonenumbers():
    import random

    import phonenumbers

    rng = random.Random(7)
    samples = [f"010{rng.randrange(10**8):08d}" for _ in range(3000)]
    samples += ["01059700000", "01059991234", "01059691234", "+82 10 5970 1234", "010.2345.6789"]
    for raw in samples:
        parsed = phonenumbers.parse(raw, "KR")
        valid = phonenumbers.is_valid_number(parsed)
        if valid:
            expected = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)
            assert crypto.normalise_phone(raw) == expected, raw
        else:
            with pytest.raises(ValueError):
                crypto.normalise_phone(raw)
