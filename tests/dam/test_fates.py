"""Notes on tubes, fates after withdrawal, the worklist and the participant's certificate."""

import datetime as dt
import io

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, transaction
from django.urls import reverse
from django.utils import timezone, translation
from pypdf import PdfReader

from dam.models import Sample, SampleFate, SampleNote
from dam.services import (
    fate_certificate_render,
    sample_fate_record,
    sample_note_add,
    samples_awaiting_fate,
)
from enrollment.models import Site
from portal.models import AuditEvent
from portal.roles import Role
from tests.dam.custody_builders import consented, tube, withdraw
from tests.enrollment.funnel_helpers import sign_in
from tests.factories import SiteFactory, UserFactory, staff_user
from tests.pdf_checks import tagged_pdf_facts

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


def _other_site() -> Site:
    return SiteFactory()


def _an_hour_ago():
    return timezone.now() - dt.timedelta(hours=1)


# --- notes --------------------------------------------------------------------------------------


def test_notes_are_added_in_order_and_audited(site, coordinator):
    sample = tube(consented(site), coordinator)
    sample_note_add(sample=sample, kind="processing", text="Centrifuged  at 4 °C", by=coordinator)
    sample_note_add(sample=sample, kind="storage", text="Freezer B, rack 3", by=coordinator)
    assert [(n.kind, n.text) for n in sample.notes.order_by("id")] == [
        ("processing", "Centrifuged at 4 °C"),
        ("storage", "Freezer B, rack 3"),
    ]
    assert (
        AuditEvent.objects.filter(action="sample.note_added", object_id=str(sample.pk)).count() == 2
    )


def test_notes_cannot_be_edited_or_deleted(site, coordinator):
    sample = tube(consented(site), coordinator)
    note = sample_note_add(sample=sample, kind="storage", text="Freezer B", by=coordinator)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        SampleNote.objects.filter(pk=note.pk).update(text="Freezer C")
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        SampleNote.objects.filter(pk=note.pk).delete()


def test_empty_note_and_unknown_kind_are_refused(site, coordinator):
    sample = tube(consented(site), coordinator)
    with pytest.raises(ValidationError) as refused:
        sample_note_add(sample=sample, kind="gossip", text="  ", by=coordinator)
    assert set(refused.value.message_dict) == {"kind", "text"}


def test_coordinator_of_another_site_cannot_add_notes(site, coordinator):
    sample = tube(consented(site), coordinator)
    other = staff_user(Role.COORDINATOR, sites=[_other_site()])
    with pytest.raises(PermissionDenied):
        sample_note_add(sample=sample, kind="storage", text="x", by=other)


def test_sample_page_adds_a_note(client, site):
    coordinator = staff_user(Role.COORDINATOR, sites=[site], mfa=True)
    sample = tube(consented(site), coordinator)
    sign_in(client, coordinator)
    url = reverse("dam:sample", args=[sample.barcode])
    response = client.post(url, {"note-kind": "storage", "note-text": "Rack 7"}, follow=True)
    assert response.status_code == 200
    assert "Rack 7" in response.content.decode()
    empty = client.post(url, {"note-kind": "storage", "note-text": ""})
    assert empty.status_code == 200
    assert "This field is required" in empty.content.decode()


def test_sample_page_of_another_site_is_404(client, site):
    coordinator = staff_user(Role.COORDINATOR, sites=[site])
    sample = tube(consented(site), coordinator)
    sign_in(client, staff_user(Role.COORDINATOR, sites=[_other_site()], mfa=True))
    assert client.get(reverse("dam:sample", args=[sample.barcode])).status_code == 404


# --- fates --------------------------------------------------------------------------------------


def test_fate_is_refused_before_a_withdrawal_with_no_further_use(site, coordinator):
    participant = consented(site)
    sample = tube(participant, coordinator)
    with pytest.raises(ValidationError, match="has not"):
        sample_fate_record(sample=sample, fate="destroyed", done_at=_an_hour_ago(), by=coordinator)
    withdraw(participant, level="no_further_collection")
    with pytest.raises(ValidationError, match="has not"):
        sample_fate_record(sample=sample, fate="destroyed", done_at=_an_hour_ago(), by=coordinator)


def test_worklist_lists_samples_of_withdrawn_participants_until_their_fate_is_recorded(
    site, coordinator
):
    participant = consented(site)
    first, second = tube(participant, coordinator), tube(participant, coordinator)
    still_in = tube(consented(site), coordinator)
    assert not samples_awaiting_fate().exists()
    withdraw(participant, level="no_further_use", samples_fate="destroy")
    assert set(samples_awaiting_fate()) == {first, second}
    sample_fate_record(sample=first, fate="destroyed", done_at=_an_hour_ago(), by=coordinator)
    assert list(samples_awaiting_fate()) == [second]
    assert still_in not in samples_awaiting_fate()


def test_kept_anonymized_only_where_the_participant_chose_so(site, coordinator):
    destroy = consented(site)
    keep = consented(site)
    a, b = tube(destroy, coordinator), tube(keep, coordinator)
    withdraw(destroy, samples_fate="destroy")
    withdraw(keep, samples_fate="retain_anonymized")
    with pytest.raises(ValidationError) as refused:
        sample_fate_record(sample=a, fate="kept_anonymized", done_at=_an_hour_ago(), by=coordinator)
    assert "destroyed, not kept anonymized" in refused.value.message_dict["fate"][0]
    record = sample_fate_record(
        sample=b, fate="kept_anonymized", done_at=_an_hour_ago(), by=coordinator
    )
    assert (record.fate, record.recorded_by) == ("kept_anonymized", coordinator)
    assert AuditEvent.objects.filter(action="sample.fate_recorded", object_id=str(b.pk)).exists()


def test_a_second_fate_is_a_correction_with_a_reason(site, coordinator):
    participant = consented(site)
    sample = tube(participant, coordinator)
    withdraw(participant)
    first = sample_fate_record(
        sample=sample, fate="destroyed", done_at=_an_hour_ago(), by=coordinator
    )
    with pytest.raises(ValidationError) as refused:
        sample_fate_record(
            sample=sample, fate="not_recallable", done_at=_an_hour_ago(), by=coordinator
        )
    assert "note" in refused.value.message_dict
    second = sample_fate_record(
        sample=sample,
        fate="not_recallable",
        done_at=_an_hour_ago(),
        by=coordinator,
        note="The tube had already gone to the dam.",
    )
    assert second.corrects == first
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        SampleFate.objects.filter(pk=first.pk).update(fate="not_recallable")


def test_fate_in_the_future_is_refused(site, coordinator):
    participant = consented(site)
    sample = tube(participant, coordinator)
    withdraw(participant)
    with pytest.raises(ValidationError) as refused:
        sample_fate_record(
            sample=sample,
            fate="destroyed",
            done_at=timezone.now() + dt.timedelta(days=1),
            by=coordinator,
        )
    assert "done_at" in refused.value.message_dict


def test_fates_page_lists_only_own_sites_and_records_a_fate(client, site):
    coordinator = staff_user(Role.COORDINATOR, sites=[site], mfa=True)
    elsewhere = _other_site()
    mine, theirs = consented(site), consented(elsewhere)
    sample = tube(mine, coordinator)
    other_sample = tube(theirs, staff_user(Role.COORDINATOR, sites=[elsewhere]))
    withdraw(mine)
    withdraw(theirs)
    sign_in(client, coordinator)
    page = client.get(reverse("dam:fates")).content.decode()
    assert sample.barcode in page
    assert other_sample.barcode not in page
    response = client.post(
        reverse("dam:sample", args=[sample.barcode]),
        {
            "fate-fate": "destroyed",
            "fate-done_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
            "fate-note": "",
        },
        follow=True,
    )
    assert "The sample&#x27;s fate was recorded." in response.content.decode()
    assert SampleFate.objects.get(sample=sample).fate == "destroyed"
    assert sample.barcode not in client.get(reverse("dam:fates")).content.decode()


# --- the certificate ----------------------------------------------------------------------------


def _pdf_text(content: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(content)).pages)


def test_certificate_lists_each_sample_with_what_was_done_in_both_languages(site, coordinator):
    participant = consented(site)
    destroyed = tube(participant, coordinator, sample_type="SERUM")
    pending = tube(participant, coordinator, sample_type="URINE")
    withdraw(participant, samples_fate="destroy")
    done_at = timezone.now() - dt.timedelta(hours=2)
    sample_fate_record(sample=destroyed, fate="destroyed", done_at=done_at, by=coordinator)
    pdf = fate_certificate_render(participant)
    assert pdf is not None and pdf.startswith(b"%PDF")
    facts = tagged_pdf_facts(pdf)
    assert facts["structure"] and facts["marked"] and facts["lang"] == "ko"
    assert participant.code in str(facts["title"])
    text = _pdf_text(pdf)
    assert participant.code in text
    assert destroyed.barcode in text and pending.barcode in text
    assert timezone.localtime(done_at).strftime("%Y-%m-%d %H:%M") in text
    # Korean first, then English.
    assert "검체" in text
    assert "Certificate of what was done with your samples" in text
    assert "Destroyed" in text
    assert "Not yet recorded" in text


def test_certificate_is_only_for_a_withdrawal_with_no_further_use(site, coordinator):
    participant = consented(site)
    tube(participant, coordinator)
    assert fate_certificate_render(participant) is None
    withdraw(participant, level="no_further_contact")
    assert fate_certificate_render(participant) is None


def test_participant_downloads_the_certificate_from_their_consent_page(client, site, coordinator):
    user = UserFactory()
    participant = consented(site, user=user)
    tube(participant, coordinator)
    sign_in(client, user)
    mine = client.get(reverse("consent:mine")).content.decode()
    assert reverse("dam:fate_certificate") not in mine
    assert client.get(reverse("dam:fate_certificate")).status_code == 404
    withdraw(participant)
    mine = client.get(reverse("consent:mine")).content.decode()
    assert reverse("dam:fate_certificate") in mine
    response = client.get(reverse("dam:fate_certificate"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response.content.startswith(b"%PDF")


def test_someone_else_cannot_get_a_participants_certificate(client, site, coordinator):
    participant = consented(site)
    tube(participant, coordinator)
    withdraw(participant)
    sign_in(client, UserFactory())
    assert client.get(reverse("dam:fate_certificate")).status_code == 404
    assert Sample.objects.count() == 1
