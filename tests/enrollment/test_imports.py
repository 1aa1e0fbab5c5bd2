import datetime as dt
from typing import Any

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from enrollment.audit import Action
from enrollment.models import (
    DuplicateFlag,
    Participant,
    PersonalData,
    ReferralImport,
    StatusTransition,
)
from enrollment.services import referrals_import
from enrollment.services.imports import ImportRefused
from enrollment.vault import profile_for_participant
from portal.models import AuditEvent
from tests.enrollment.people import (
    participant_with_profile,
)
from tests.factories import CohortFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]

HEADER = (
    "external_ref,cohort,name,latin_name,birth_date,sex,phone,email,address,referring_clinician\n"
)
GOOD = (
    "R-001,rare,김민수,Kim Minsu,1970-05-01,M,010-1111-0001,minsu@example.org,부산시 서구,이의사\n"
    "R-002,rare,이영희,,19820212,여,010-1111-0002,,대전시 중구,이의사\n"
)


@pytest.fixture(autouse=True)
def cohorts():
    CohortFactory(code="rare", name="희귀질환", group="rare_disease", open_for_volunteers=False)


def run(site, coordinator, text, encoding="utf-8"):
    return referrals_import(site=site, by=coordinator, data=text.encode(encoding))


def test_valid_rows_import_with_vault_rows_and_funnel_steps(site, coordinator):
    result = run(site, coordinator, HEADER + GOOD)
    assert (result.rows_total, result.created, result.existing, result.errors) == (2, 2, 0, [])
    minsu = Participant.objects.get(site=site, external_ref="R-001")
    assert (minsu.kind, minsu.sex, minsu.birth_year, minsu.referring_clinician) == (
        "patient",
        "male",
        1970,
        "이의사",
    )
    assert profile_for_participant(minsu).phone == "+821011110001"
    assert StatusTransition.objects.filter(to_status="registered").count() == 2
    assert ReferralImport.objects.get().rows_created == 2


def test_reupload_of_the_same_file_creates_no_duplicates(site, coordinator):
    run(site, coordinator, HEADER + GOOD)
    again = run(site, coordinator, HEADER + GOOD)
    assert (again.created, again.existing) == (0, 2)
    assert Participant.objects.count() == 2 and PersonalData.objects.count() == 2


@pytest.mark.parametrize("encoding", ["utf-8", "utf-8-sig", "cp949", "euc-kr"])
def test_korean_encodings_are_read(site, coordinator, encoding):
    result = run(site, coordinator, HEADER + GOOD, encoding=encoding)
    assert result.created == 2
    assert profile_for_participant(Participant.objects.get(external_ref="R-002")).name == "이영희"


def test_bad_rows_are_reported_by_line_and_column_and_nothing_is_imported(site, coordinator):
    text = (
        HEADER
        + GOOD
        + (
            "R-003,rare,박철수,,1999-13-01,M,010-1111-0003,,,\n"
            "R-004,unknown,최지우,,1990-01-01,M,02-12,,,\n"
            ",rare,,,1990-01-01,X,,,,\n"
            "R-001,rare,김민수,,1970-05-01,M,010-1111-0001,,,\n"
        )
    )
    result = run(site, coordinator, text)
    assert result.created == 0 and result.invalid_rows == 4
    where = {(e.line, e.column) for e in result.errors}
    assert {
        (4, "birth_date"),
        (5, "cohort"),
        (5, "phone"),
        (6, "external_ref"),
        (6, "name"),
        (6, "sex"),
        (7, "external_ref"),
    } <= where
    assert "Line 4, column “birth_date”" in str(result.errors[0])
    assert not Participant.objects.exists() and not PersonalData.objects.exists()
    record = ReferralImport.objects.get()
    assert (record.outcome, record.refusal, record.rows_invalid) == ("refused", "invalid_rows", 4)
    audit = AuditEvent.objects.get(action=Action.REFERRALS_IMPORTED)
    assert audit.outcome == "refused" and audit.object_id == str(record.pk)


def test_a_bad_row_after_the_first_batches_leaves_nothing_behind(site, coordinator):
    lines = [f"R-{n:05d},rare,김민수,,1970-05-01,M,010-2000-{n:04d},,,\n" for n in range(1, 1600)]
    lines[1500] = "R-BAD,rare,김민수,,1970-13-01,M,010-1111-0001,,,\n"  # line 1,502
    result = run(site, coordinator, HEADER + "".join(lines))
    assert [(e.line, e.column) for e in result.errors] == [(1502, "birth_date")]
    assert result.created == 0
    assert not Participant.objects.exists() and not StatusTransition.objects.exists()
    assert ReferralImport.objects.get().outcome == "refused"


def test_a_refused_file_is_recorded_and_audited(site, coordinator):
    with pytest.raises(ImportRefused):
        run(site, coordinator, "")
    record = ReferralImport.objects.get()
    assert (record.outcome, record.refusal) == ("refused", "empty")
    assert AuditEvent.objects.get(action=Action.REFERRALS_IMPORTED).outcome == "refused"


@pytest.mark.parametrize(
    "data, message",
    [
        (b"PK\x03\x04binary", "spreadsheet"),
        (b"\x00\x01\x02\x03", "not a CSV"),
        (b"name,phone\n\xc0\xc1\xff\xfe,1\n", "could not be read"),
        ("이름,전화\n홍길동,010\n".encode(), "Missing: external_ref"),
        (b"", "empty"),
    ],
)
def test_files_that_cannot_be_read_are_refused_with_a_clear_message(
    site, coordinator, data, message
):
    with pytest.raises(ImportRefused, match=message):
        referrals_import(site=site, by=coordinator, data=data)
    assert not Participant.objects.exists()


def test_too_large_a_file_is_refused(site, coordinator, settings):
    settings.REFERRAL_IMPORT_MAX_BYTES = 100
    with pytest.raises(ImportRefused, match="too large"):
        run(site, coordinator, HEADER + GOOD * 5)
    assert not Participant.objects.exists()


def test_rows_sharing_a_phone_with_an_existing_record_are_flagged_not_merged(site, coordinator):
    earlier = participant_with_profile(site=site, phone="010-1111-0001", email="x@example.org")
    result = run(site, coordinator, HEADER + GOOD)
    assert result.created == 2 and result.possible_duplicates == 1
    flag = DuplicateFlag.objects.get()
    assert flag.matches == earlier and flag.matched_on == "phone"


def test_import_command_reads_a_file(site, tmp_path, capsys):
    path = tmp_path / "referrals.csv"
    path.write_bytes((HEADER + GOOD).encode("cp949"))
    call_command("import_referrals", "--site", site.code, str(path))
    assert "2 created" in capsys.readouterr().out
    with pytest.raises(CommandError, match="No site"):
        call_command("import_referrals", "--site", "nowhere", str(path))


def test_a_referral_reimported_after_the_participant_moved_site_is_not_added_again(
    site, coordinator
):
    from enrollment.services.funnel import participant_site_change
    from tests.factories import SiteFactory

    run(site, coordinator, HEADER + GOOD)
    minsu = Participant.objects.get(external_ref="R-001")
    participant_site_change(participant=minsu, site=SiteFactory(), actor=None, reason="moved")
    again = run(site, coordinator, HEADER + GOOD)
    assert (again.created, again.existing) == (0, 2)
    assert Participant.objects.filter(external_ref="R-001").count() == 1
    assert PersonalData.objects.count() == 2
    minsu.refresh_from_db()
    assert minsu.site_id != site.pk and minsu.source_site_id == site.pk


def test_the_same_reference_from_another_site_is_another_participant(site, coordinator):
    from portal.roles import Role
    from tests.factories import SiteFactory, staff_user

    other: Any = SiteFactory()
    run(site, coordinator, HEADER + GOOD)
    result = referrals_import(
        site=other,
        by=staff_user(Role.COORDINATOR, sites=[other]),
        data=(HEADER + GOOD.replace("010-1111-", "010-2222-").replace("minsu@", "m2@")).encode(),
    )
    assert result.created == 2
    assert Participant.objects.filter(external_ref="R-001").count() == 2


def test_a_name_and_birth_date_match_is_flagged_for_the_coordinator(site, coordinator):
    earlier = participant_with_profile(
        site=site,
        name="김 민수",
        birth_date=dt.date(1970, 5, 1),
        phone="010-9999-0001",
        email="other@example.org",
    )
    result = run(site, coordinator, HEADER + GOOD)
    assert result.created == 2 and result.possible_duplicates == 1
    flag = DuplicateFlag.objects.get()
    assert flag.matches == earlier and flag.matched_on == "name_birth"
    assert flag.participant == Participant.objects.get(external_ref="R-001")
