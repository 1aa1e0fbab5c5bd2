"""Shipments: manifests of a site's tubes, consent checked at send time, the outbox row in the same
transaction, delivered to the strict loopback dam."""

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import timezone, translation

from dam.models import Manifest, ManifestLine, MessageType, OutboxMessage
from dam.payloads import iso
from dam.services.delivery import outbox_deliver
from dam.services.manifests import (
    manifest_create,
    manifest_line_remove,
    manifest_sample_add,
    manifest_submit,
)
from dam.services.pseudonyms import pseudonym_of
from enrollment.models import Site
from portal.models import AuditEvent
from portal.roles import Role
from tests.dam.custody_builders import consented, tube, withdraw
from tests.enrollment.funnel_helpers import sign_in
from tests.factories import SiteFactory, staff_user

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


def _other_site() -> Site:
    return SiteFactory()


def _manifest_with(site, coordinator, samples):
    manifest = manifest_create(site=site, by=coordinator)
    for sample in samples:
        manifest_sample_add(manifest=manifest, barcode=sample.barcode, by=coordinator)
    return manifest


def test_submitting_writes_the_manifest_message_exactly_as_the_interface(site, coordinator):
    participant = consented(site)
    collected = timezone.now() - dt.timedelta(hours=3)
    first = tube(participant, coordinator, sample_type="SERUM", collected_at=collected)
    second = tube(participant, coordinator, volume_ml=Decimal("2.25"), collected_at=collected)
    manifest = _manifest_with(site, coordinator, [first, second])
    shipped = timezone.now()
    manifest = manifest_submit(manifest=manifest, by=coordinator, shipped_at=shipped)
    message = OutboxMessage.objects.get(type=MessageType.MANIFEST_SUBMITTED)
    assert manifest.outbox_message == message
    assert (message.participant, message.sequence, message.subject) == (None, None, "")
    subject = pseudonym_of(participant=participant)
    assert message.payload == {
        "manifest_id": manifest.code,
        "site": site.code,
        "shipped_at": iso(shipped),
        "samples": [
            {
                "sample_id": first.barcode,
                "subject": subject,
                "type": "SERUM",
                "collected_at": iso(collected),
                "volume_ml": 4.5,
            },
            {
                "sample_id": second.barcode,
                "subject": subject,
                "type": "WB_EDTA",
                "collected_at": iso(collected),
                "volume_ml": 2.25,
            },
        ],
    }
    assert set(manifest.lines.values_list("state", flat=True)) == {"sent"}
    assert AuditEvent.objects.filter(
        action="manifest.submitted", object_id=str(manifest.pk)
    ).exists()


def test_the_strict_dam_accepts_the_manifest_and_the_participant_is_in_the_dam(
    site, coordinator, dam_receiver
):
    participant = consented(site)
    sample = tube(participant, coordinator)
    manifest = manifest_submit(manifest=_manifest_with(site, coordinator, [sample]), by=coordinator)
    report = outbox_deliver()
    assert report.error is None
    assert dam_receiver.statuses() == {"accepted": 3}  # registered, consent, manifest
    assert dam_receiver.manifests[manifest.code]["samples"][0]["sample_id"] == sample.barcode
    message = OutboxMessage.objects.get(type=MessageType.MANIFEST_SUBMITTED)
    assert (message.state, message.dam_status) == ("delivered", "accepted")
    participant.refresh_from_db()
    assert participant.status == "in_dam"


def test_lines_are_checked_at_send_time_and_held_back_lines_are_never_sent(
    site, coordinator, dam_receiver
):
    keeps, withdraws, changes_mind, never_shared = (
        consented(site),
        consented(site),
        consented(site),
        consented(site, sharing=False),
    )
    samples = [tube(p, coordinator) for p in (keeps, withdraws, changes_mind, never_shared)]
    manifest = _manifest_with(site, coordinator, samples)
    # After the lines were added, consent changes: each must be caught at submission.
    withdraw(withdraws, level="no_further_contact")
    from consent.services import consent_update

    consent_update(
        participant=changes_mind, choices={"sample_storage": False}, by=None, confirmed=True
    )
    manifest = manifest_submit(manifest=manifest, by=coordinator)
    lines = {line.sample.barcode: line for line in manifest.lines.select_related("sample")}
    assert lines[samples[0].barcode].state == "sent"
    held = {
        barcode: (line.hold_code, line.hold_reason)
        for barcode, line in lines.items()
        if line.state == "held_back"
    }
    assert held == {
        samples[1].barcode: ("withdrawn", "The participant has withdrawn."),
        samples[2].barcode: ("declined", "The participant did not agree to sample storage."),
        samples[3].barcode: (
            "not_registered",
            "The participant is not registered with the dam: their consent never allowed data "
            "sharing.",
        ),
    }
    message = OutboxMessage.objects.get(type=MessageType.MANIFEST_SUBMITTED)
    assert [s["sample_id"] for s in message.payload["samples"]] == [samples[0].barcode]
    outbox_deliver()
    sent_bytes = b"".join(dam_receiver.bodies)
    for held_sample in samples[1:]:
        assert held_sample.barcode.encode() not in sent_bytes
    assert pseudonym_of(participant=never_shared).encode() not in sent_bytes


def test_nothing_left_to_send_is_refused_and_the_manifest_stays_a_draft(site, coordinator):
    participant = consented(site)
    manifest = _manifest_with(site, coordinator, [tube(participant, coordinator)])
    withdraw(participant)
    with pytest.raises(ValidationError, match="nothing to send"):
        manifest_submit(manifest=manifest, by=coordinator)
    manifest.refresh_from_db()
    assert manifest.state == "draft"
    assert not OutboxMessage.objects.filter(type=MessageType.MANIFEST_SUBMITTED).exists()
    with pytest.raises(ValidationError, match="at least one sample"):
        manifest_submit(manifest=manifest_create(site=site, by=coordinator), by=coordinator)


def test_a_sample_is_sent_in_at_most_one_manifest(site, coordinator):
    sample = tube(consented(site), coordinator)
    first = _manifest_with(site, coordinator, [sample])
    second = _manifest_with(site, coordinator, [sample])  # drafts may both hold it
    other = tube(consented(site), coordinator)
    manifest_sample_add(manifest=second, barcode=other.barcode, by=coordinator)
    manifest_submit(manifest=first, by=coordinator)
    manifest_submit(manifest=second, by=coordinator)
    held = second.lines.get(sample=sample)
    assert (held.state, held.hold_reason) == (
        "held_back",
        "This sample was already sent in another manifest.",
    )
    assert second.lines.get(sample=other).state == "sent"
    with pytest.raises(ValidationError, match="already sent in manifest"):
        manifest_sample_add(
            manifest=manifest_create(site=site, by=coordinator),
            barcode=sample.barcode,
            by=coordinator,
        )
    with pytest.raises(IntegrityError), transaction.atomic():
        ManifestLine.objects.filter(pk=held.pk).update(state="sent")


def test_manifests_are_site_scoped(site, coordinator):
    elsewhere = _other_site()
    theirs = staff_user(Role.COORDINATOR, sites=[elsewhere])
    their_sample = tube(consented(elsewhere), theirs)
    with pytest.raises(PermissionDenied):
        manifest_create(site=elsewhere, by=coordinator)
    manifest = manifest_create(site=site, by=coordinator)
    with pytest.raises(ValidationError, match="at this site"):
        manifest_sample_add(manifest=manifest, barcode=their_sample.barcode, by=coordinator)
    with pytest.raises(PermissionDenied):
        manifest_sample_add(manifest=manifest, barcode=their_sample.barcode, by=theirs)


def test_submitted_manifest_cannot_change(site, coordinator):
    samples = [tube(consented(site), coordinator) for _ in range(2)]
    manifest = _manifest_with(site, coordinator, samples[:1])
    manifest_submit(manifest=manifest, by=coordinator)
    with pytest.raises(ValidationError, match="no longer be changed"):
        manifest_sample_add(manifest=manifest, barcode=samples[1].barcode, by=coordinator)
    with pytest.raises(ValidationError, match="no longer be changed"):
        manifest_line_remove(line=manifest.lines.get(), by=coordinator)
    with pytest.raises(ValidationError, match="no longer be changed"):
        manifest_submit(manifest=manifest, by=coordinator)
    assert OutboxMessage.objects.filter(type=MessageType.MANIFEST_SUBMITTED).count() == 1


def test_destroyed_sample_cannot_be_shipped(site, coordinator):
    from dam.services import sample_fate_record

    participant = consented(site)
    sample = tube(participant, coordinator)
    withdraw(participant)
    sample_fate_record(sample=sample, fate="destroyed", done_at=timezone.now(), by=coordinator)
    with pytest.raises(ValidationError, match="fate recorded"):
        manifest_sample_add(
            manifest=manifest_create(site=site, by=coordinator),
            barcode=sample.barcode,
            by=coordinator,
        )


# --- pages --------------------------------------------------------------------------------------


@pytest.fixture
def signed_in(client, site) -> Any:
    user = staff_user(Role.COORDINATOR, sites=[site], mfa=True)
    sign_in(client, user)
    return user


def test_coordinator_pages_create_add_review_and_submit(client, site, signed_in):
    ok, gone = consented(site), consented(site)
    ok_sample, gone_sample = tube(ok, signed_in), tube(gone, signed_in)
    response = client.post(reverse("dam:shipments"), {"site": site.pk})
    manifest = Manifest.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "dam:shipment", args=[manifest.code]
    )
    url = reverse("dam:shipment", args=[manifest.code])
    for sample in (ok_sample, gone_sample):
        client.post(url, {"barcode": sample.barcode.lower()})
    bad = client.post(url, {"barcode": "BDD-999999"})
    assert "No sample with this barcode was recorded at this site." in bad.content.decode()
    withdraw(gone)
    review = client.get(url).content.decode()
    assert "Will be held back" in review and "The participant has withdrawn." in review
    done = client.post(reverse("dam:shipment_submit", args=[manifest.code]), follow=True)
    page = done.content.decode()
    assert "Manifest submitted: 1 sent, 1 held back." in page
    assert "Held back" in page
    manifest.refresh_from_db()
    assert manifest.state == "submitted"


def test_other_sites_manifest_page_is_404(client, signed_in):
    elsewhere = _other_site()
    theirs = staff_user(Role.COORDINATOR, sites=[elsewhere])
    manifest = manifest_create(site=elsewhere, by=theirs)
    assert client.get(reverse("dam:shipment", args=[manifest.code])).status_code == 404
    assert client.post(reverse("dam:shipment_submit", args=[manifest.code])).status_code == 404
    assert manifest.code not in client.get(reverse("dam:shipments")).content.decode()


def test_steward_sees_manifests_of_every_site_with_acknowledgements(client, site, coordinator):
    sample = tube(consented(site), coordinator)
    manifest = manifest_submit(manifest=_manifest_with(site, coordinator, [sample]), by=coordinator)
    sign_in(client, staff_user(Role.DATA_STEWARD, mfa=True))
    listing = client.get(reverse("dam:steward_manifests")).content.decode()
    assert manifest.code in listing
    detail = client.get(reverse("dam:steward_manifest", args=[manifest.code])).content.decode()
    assert sample.barcode in detail and "Not reported yet" in detail
