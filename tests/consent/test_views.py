"""The consent pages: signing on the web with re-authentication, my consent, change, withdraw,
receipts, and the coordinator's in-person consent, quality check and worklist."""

from __future__ import annotations

import base64
import io

import pytest
from django.core import mail
from django.urls import reverse

from consent.models import ConsentArtifact, ConsentEvent, ConsentReceipt, ConsentState
from consent.services import ItemSpec, receipt_issue
from portal.audit import Action
from portal.models import AuditEvent
from portal.roles import Role
from tests.audits import assert_access_denied
from tests.consent import signing_builders as ca
from tests.consent.signing_builders import reauthenticate, sign_data, tiny_png
from tests.factories import DEFAULT_PASSWORD, SiteFactory, UserFactory, staff_user

pytestmark = pytest.mark.django_db


def test_the_password_on_the_signing_form_confirms_the_signature(
    client, version, signed_in_participant
):
    page = client.get(reverse("consent:sign"))
    assert page.status_code == 200
    text = page.content.decode()
    assert "백만 명" in text
    assert 'autocomplete="current-password"' in text
    response = client.post(reverse("consent:sign"), sign_data(version))
    assert response.status_code == 302 and response["Location"] == reverse("consent:mine")
    event = ConsentEvent.objects.get()
    assert event.kind == "grant" and event.method == "typed_name" and event.channel == "web"
    signed_in_participant.refresh_from_db()
    assert signed_in_participant.status == "consented"
    # The password just typed counts as a re-authentication: changing choices does not ask again.
    change = client.post(
        reverse("consent:change"),
        {"item_genomic_analysis": "no", "item_recontact": "yes", "confirm": "on"},
    )
    assert change.status_code == 302 and "reauthenticate" not in change["Location"]


def test_a_wrong_password_keeps_every_answer_and_marks_the_password(
    client, version, signed_in_participant
):
    data = sign_data(version, password="not-my-password-at-all", item_genomic_analysis="no")
    response = client.post(reverse("consent:sign"), data)
    assert response.status_code == 400
    assert not ConsentEvent.objects.exists()
    form = response.context["form"]
    assert list(form.errors) == ["password"]
    html = response.content.decode()
    assert "비밀번호가 맞지 않습니다" in html
    # The answers are on the page again, the password is not.
    assert form["item_genomic_analysis"].value() == "no"
    assert form["typed_name"].value() == ca.NAME
    assert 'value="not-my-password-at-all"' not in html
    assert 'aria-describedby="password-help password-error"' in html
    assert 'href="#id_password"' in html


def test_missing_answers_are_listed_at_the_top_with_links_to_each_field(
    client, version, signed_in_participant
):
    data = sign_data(version)
    del data["item_data_sharing"], data["confirm"], data["password"]
    response = client.post(reverse("consent:sign"), data)
    assert response.status_code == 400
    html = response.content.decode()
    start = html.index('id="error-summary"')
    summary = html[start : html.index("</div>", start)]
    assert 'tabindex="-1" autofocus' in summary
    assert "3개" in summary
    for target in ("#id_item_data_sharing_0", "#id_confirm", "#id_password"):
        assert f'href="{target}"' in summary
    # Each field in error says so and points at its message.
    assert html.count('aria-describedby="item_data_sharing-error"') == 2  # both radios
    assert 'id="item_data_sharing-error"' in html and 'id="confirm-error"' in html
    assert not ConsentEvent.objects.exists()


def test_receipt_is_mailed_and_downloadable_with_the_name_and_hashes(
    client, version, signed_in_participant, django_capture_on_commit_callbacks
):
    import pypdf

    reauthenticate(client)
    drawn = "data:image/png;base64," + base64.b64encode(tiny_png()).decode()
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("consent:sign"), sign_data(version, drawn_signature=drawn))
    event = ConsentEvent.objects.get()
    assert event.method == "drawn" and event.signature_sha256
    assert ConsentArtifact.objects.get(event=event).sha256 == event.signature_sha256
    assert len(mail.outbox) == 1 and mail.outbox[0].to == ["haneul@example.org"]
    assert event.verification_code in mail.outbox[0].subject
    response = client.get(reverse("consent:receipt", args=[event.pk]))
    assert response["Content-Type"] == "application/pdf"
    pdf = b"".join(response.streaming_content)
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf)).pages)
    flat = "".join(text.split())
    assert ca.NAME in flat
    assert event.hash in flat
    assert version.text_sha256 in flat
    assert event.verification_code in flat
    assert "UTC+09:00" in flat
    # The stylesheet was applied: the Korean font it names is embedded.
    fonts = {
        str(font.get_object()["/BaseFont"])
        for page in pypdf.PdfReader(io.BytesIO(pdf)).pages
        for font in page["/Resources"]["/Font"].values()  # type: ignore[index]
    }
    assert any(name.endswith("+NanumGothic") for name in fonts), fonts


def test_a_required_item_answered_no_is_explained_plainly(client, version, signed_in_participant):
    reauthenticate(client)
    response = client.post(reverse("consent:sign"), sign_data(version, item_data_sharing="no"))
    assert response.status_code == 400
    assert "참여하지 않으셔도 됩니다" in response.content.decode()
    assert not ConsentEvent.objects.exists()


def test_a_wrong_comprehension_answer_blocks_signing(client, version, signed_in_participant):
    reauthenticate(client)
    question = version.questions.get()
    response = client.post(reverse("consent:sign"), sign_data(version, **{f"q_{question.pk}": "1"}))
    assert response.status_code == 400
    assert not ConsentEvent.objects.exists()


def test_a_typed_name_that_is_not_the_registered_name_is_refused(
    client, version, signed_in_participant
):
    reauthenticate(client)
    response = client.post(reverse("consent:sign"), sign_data(version, typed_name="홍길동"))
    assert response.status_code == 400
    assert "등록하신 성명과 일치하지 않습니다" in response.content.decode()
    assert not ConsentEvent.objects.exists()


def test_a_spoofed_signature_upload_is_refused(client, version, signed_in_participant):
    reauthenticate(client)
    fake = "data:image/png;base64," + base64.b64encode(b"GIF89a not a png").decode()
    response = client.post(reverse("consent:sign"), sign_data(version, drawn_signature=fake))
    assert response.status_code == 400
    assert "PNG 이미지여야 합니다" in response.content.decode()


def test_my_consent_change_and_withdraw(
    client, version, signed_in_participant, django_capture_on_commit_callbacks
):
    reauthenticate(client)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(reverse("consent:sign"), sign_data(version))
    page = client.get(reverse("consent:mine")).content.decode()
    signed = ConsentEvent.objects.get(participant=signed_in_participant)
    assert "유전체 분석" in page and "PDF 내려받기" in page
    assert reverse("consent:receipt", args=[signed.pk]) in page
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("consent:change"),
            {"item_genomic_analysis": "no", "item_recontact": "yes", "confirm": "on"},
        )
    assert response.status_code == 302
    state = ConsentState.objects.get(participant=signed_in_participant)
    assert state.choices["genomic_analysis"] is False
    assert "genomic_analysis" in state.first_granted_at  # the first "yes" is kept
    page = client.get(reverse("consent:withdraw")).content.decode()
    assert "이미 연구자에게 제공된 자료는 회수할 수 없습니다" in page
    refused = client.post(reverse("consent:withdraw"), {"level": "no_further_use", "confirm": "on"})
    assert refused.status_code == 400
    with django_capture_on_commit_callbacks(execute=True):
        done = client.post(
            reverse("consent:withdraw"),
            {"level": "no_further_use", "samples_fate": "retain_anonymized", "confirm": "on"},
        )
    assert done.status_code == 302
    state.refresh_from_db()
    signed_in_participant.refresh_from_db()
    assert (state.status, state.withdrawal_level, state.samples_fate) == (
        "withdrawn",
        "no_further_use",
        "retain_anonymized",
    )
    assert signed_in_participant.status == "withdrawn"
    assert ConsentEvent.objects.filter(participant=signed_in_participant).count() == 3
    assert len(mail.outbox) == 3


def test_another_participants_receipt_is_not_found(client, version, signed_in_participant):
    other = ca.eligible_participant()

    event = ca.sign_all_yes(other, version)
    assert client.get(reverse("consent:receipt", args=[event.pk])).status_code == 404
    assert_access_denied(
        actor=signed_in_participant.user,
        object_type="consent.consentevent",
        object_id=event.pk,
        reason="out of scope",
    )


def test_a_receipt_not_made_yet_is_queued_and_the_page_renders_and_mails_nothing(
    client, version, signed_in_participant, django_capture_on_commit_callbacks
):
    event = ca.sign_all_yes(
        signed_in_participant, version
    )  # its receipt task never ran (no commit here)
    url = reverse("consent:receipt", args=[event.pk])
    with django_capture_on_commit_callbacks() as queued:
        response = client.get(url)
    assert response.status_code == 202
    assert response["Content-Type"].startswith("text/html")
    page = response.content.decode()
    assert "동의 확인서를 준비하고 있습니다" in page and event.verification_code in page
    assert not ConsentReceipt.objects.exists()
    assert mail.outbox == []
    assert len(queued) == 1  # the task that makes and mails it, after the commit
    with django_capture_on_commit_callbacks() as again:
        assert client.get(url).status_code == 202
    assert again == []  # asked for once, not once per reload

    queued[0]()  # the task runs (eagerly here): it renders, stores and mails the receipt
    assert ConsentReceipt.objects.filter(event=event).count() == 1
    assert len(mail.outbox) == 1
    response = client.get(url)
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert b"".join(response.streaming_content).startswith(b"%PDF")
    assert len(mail.outbox) == 1


def test_a_stored_receipt_is_served_without_mailing_it_again(
    client, version, signed_in_participant
):
    event = ca.sign_all_yes(signed_in_participant, version)
    receipt_issue(event_id=event.pk)
    assert len(mail.outbox) == 1
    response = client.get(reverse("consent:receipt", args=[event.pk]))
    assert response["Content-Type"] == "application/pdf"
    assert len(mail.outbox) == 1


def test_tablet_consent_with_countersignature_then_failed_check(client, version, site_team):
    site, first, second = site_team
    participant = ca.eligible_participant(site=site)
    client.force_login(first)
    url = reverse("consent:site_record", args=[participant.code, "tablet"])
    handover = reverse("consent:site_handover", args=[participant.code, "tablet"])
    # Before the patient holds the tablet, the coordinator checks the name.
    assert client.get(url).url == handover
    assert client.post(handover).url == url
    assert client.get(url).status_code == 200
    response = client.post(
        url,
        sign_data(version, countersigned_by=str(first.pk), countersign_confirm="on"),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    event = ConsentEvent.objects.get(participant=participant)
    assert (event.channel, event.staff_id, event.countersigned_by_id) == (
        "site_tablet",
        first.pk,
        first.pk,
    )
    qc_url = reverse("consent:site_qc", args=[event.pk])
    # The tablet stays with the consent form until the coordinator takes it back.
    assert client.get(qc_url).url == reverse("handover_return")
    back = client.post(reverse("handover_return"), {"secret": DEFAULT_PASSWORD})
    assert back.url == reverse("consent:site_participant", args=[participant.code])
    # The one who recorded it cannot check it.
    refused = client.post(
        qc_url,
        {
            "signature_present": "on",
            "date_present": "on",
            "printed_name_present": "on",
            "right_version": "on",
        },
    )
    assert refused.status_code == 400
    client.force_login(second)  # a new session: the tablet's hand-over lock was the first's
    worklist = client.get(reverse("consent:site_worklist")).content.decode()
    assert participant.code in worklist and qc_url in worklist
    failed = client.post(
        qc_url,
        {
            "signature_present": "on",
            "date_present": "on",
            "right_version": "on",
            "note": "이름이 적혀 있지 않음",
        },
    )
    assert failed.status_code == 302
    void = ConsentEvent.objects.get(participant=participant, kind="void")
    assert void.voids_id == event.pk and void.staff_id == second.pk
    state = ConsentState.objects.get(participant=participant)
    assert state.status == "voided" and state.choices == {}
    participant.refresh_from_db()
    assert participant.status == "eligible"
    client.force_login(first)
    worklist = client.get(reverse("consent:site_worklist")).content.decode()
    assert participant.code in worklist and "printed name" in worklist


def test_legal_representative_signs_with_relationship(client, version, site_team):
    site, first, _second = site_team
    participant = ca.eligible_participant(
        site=site,
        guardian_name="김보호",
        guardian_relationship="어머니",
        guardian_phone="010-1111-2222",
    )
    client.force_login(first)
    url = reverse("consent:site_record", args=[participant.code, "representative"])
    client.post(reverse("consent:site_handover", args=[participant.code, "representative"]))
    response = client.post(
        url,
        sign_data(
            version,
            typed_name="김보호",
            representative_relation="parent",
            countersigned_by=str(first.pk),
            countersign_confirm="on",
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    event = ConsentEvent.objects.get(participant=participant)
    assert (event.signer_kind, event.representative_relation) == ("legal_representative", "parent")
    assert event.representative_relationship == ""


def test_scanned_paper_form_is_type_checked_and_dated_in_the_past(client, site_team):
    import datetime as dt

    version = ca.active_version(effective_from=dt.datetime(2026, 1, 1, tzinfo=dt.UTC))
    site, first, _second = site_team
    participant = ca.eligible_participant(site=site)
    client.force_login(first)
    url = reverse("consent:site_record", args=[participant.code, "paper"])
    data = {f"item_{code}": "yes" for code in ca.all_yes(version)}
    data.update({"confirm": "on", "signed_on": "2026-01-20T10:30"})
    from django.core.files.uploadedfile import SimpleUploadedFile

    bad = client.post(
        url, {**data, "paper_form": SimpleUploadedFile("form.pdf", b"MZ\x90\x00 exe")}
    )
    assert bad.status_code == 400
    assert "PDF, JPEG 또는 PNG" in bad.content.decode()
    huge = SimpleUploadedFile("form.pdf", b"%PDF-1.4\n" + b"0" * (10 * 1024 * 1024))
    too_big = client.post(url, {**data, "paper_form": huge})
    assert too_big.status_code == 400 and "10 MB" in too_big.content.decode()
    pdf = b"%PDF-1.4\n% scanned\n"
    good = client.post(url, {**data, "paper_form": SimpleUploadedFile("form.pdf", pdf)})
    assert good.status_code == 302, good.content.decode()[:2000]
    event = ConsentEvent.objects.get(participant=participant)
    assert (event.channel, event.method) == ("scanned_paper", "paper")
    assert event.signed_at.isoformat().startswith("2026-01-20T01:30")  # 10:30 in Seoul
    assert event.signed_at < event.recorded_at
    artifact = ConsentArtifact.objects.get(event=event)
    assert artifact.content_type == "application/pdf" and artifact.sha256 == event.document_sha256
    future = client.post(
        url,
        {
            **data,
            "signed_on": "2099-01-01T10:00",
            "paper_form": SimpleUploadedFile("form.pdf", pdf),
        },
    )
    assert future.status_code == 400


def test_a_coordinator_of_another_site_gets_not_found(client, version, site_team):
    participant = ca.eligible_participant(site=site_team[0])
    outsider = staff_user(Role.COORDINATOR, sites=[SiteFactory()], mfa=True)  # type: ignore[list-item]
    client.force_login(outsider)
    url = reverse("consent:site_participant", args=[participant.code])
    assert client.get(url).status_code == 404
    assert_access_denied(
        actor=outsider,
        object_type="enrollment.participant",
        object_id=participant.code,
        reason="out of scope",
    )


def test_a_participant_not_yet_screened_is_told_what_to_do_first(client, version):
    from tests.enrollment.people import participant_with_profile

    user = UserFactory()
    participant = participant_with_profile(name=ca.NAME)
    participant.user = user
    participant.save(update_fields=["user"])
    client.force_login(user)
    assert client.get(reverse("consent:sign"))["Location"] == reverse("consent:mine")
    page = client.get(reverse("consent:mine")).content.decode()
    assert "먼저 “나의 참여”에서 선별 질문에" in page
    assert reverse("consent:sign") not in page


def test_a_staff_download_of_a_receipt_is_audited(client, version, site_team):
    from portal.audit import Action
    from portal.models import AuditEvent

    site, first, _second = site_team
    participant = ca.eligible_participant(site=site)

    event = ca.sign_all_yes(participant, version)
    receipt_issue(event_id=event.pk)  # what the task does after the commit
    client.force_login(first)
    response = client.get(reverse("consent:receipt", args=[event.pk]))
    assert response["Content-Type"] == "application/pdf"
    audit = AuditEvent.objects.get(action=Action.PERSONAL_DATA_VIEWED, actor=first)
    assert audit.object_id == str(participant.pk) and audit.reason == "consent receipt"


def test_the_english_version_can_be_read_and_signed_with_the_latin_name(
    client, signed_in_participant
):
    ca.active_version()
    english = ca.active_version(language="en")
    reauthenticate(client)
    page = client.get(reverse("consent:sign"), {"lang": "en"}).content.decode()
    assert 'name="lang" value="en"' in page
    response = client.post(
        reverse("consent:sign"), sign_data(english, lang="en", typed_name="kim haneul")
    )
    assert response.status_code == 302
    assert ConsentEvent.objects.get(participant=signed_in_participant).version_id == english.pk


def test_an_artifact_out_of_scope_is_refused_and_audited(client):
    outsider = staff_user(Role.COORDINATOR, sites=[SiteFactory()], mfa=True)  # type: ignore[list-item]
    client.force_login(outsider)
    response = client.get(reverse("consent:site_artifact", args=[987654]))
    assert response.status_code == 404
    denied = AuditEvent.objects.get(action=Action.PERMISSION_DENIED, actor=outsider)
    assert (denied.object_type, denied.object_id) == ("consent.consentartifact", "987654")


def test_a_participant_reading_in_english_sees_the_version_they_signed_in_english(
    client, version, signed_in_participant
):
    english_items = [
        ItemSpec(
            code=item.code,
            title=f"In English: {item.code}",
            text="The same choice, in English.",
            required=item.required,
            duo_codes=item.duo_codes,
        )
        for item in ca.ITEMS
    ]
    ca.active_version(language="en", items=english_items)
    ca.sign_all_yes(signed_in_participant, version)
    korean = client.get(reverse("consent:mine")).content.decode()
    assert "유전체 분석" in korean and "In English: genomic_analysis" not in korean
    client.post(reverse("set_language"), {"language": "en", "next": "/"})  # the header's switch
    english = client.get(reverse("consent:mine")).content.decode()
    assert "In English: genomic_analysis" in english and "유전체 분석" not in english


def test_without_an_english_version_the_signed_korean_one_is_shown(
    client, version, signed_in_participant
):
    ca.sign_all_yes(signed_in_participant, version)
    client.post(reverse("set_language"), {"language": "en", "next": "/"})
    assert "유전체 분석" in client.get(reverse("consent:mine")).content.decode()
