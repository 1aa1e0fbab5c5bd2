"""Shipments: a coordinator groups a site's tubes into a manifest and submits it to the dam.

Every line is checked against consent at send time (``dam.storage_consent``): a line whose
participant withdrew or no longer allows sample storage, or who is not registered with the dam
(their consent never allowed data sharing, so the dam must not learn of them), is held back with the
reason and never sent. The sendable lines become one ``manifest.submitted`` outbox message, written
in the same transaction as the manifest's submission.
"""

from __future__ import annotations

import datetime as dt
import secrets

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from enrollment.models import Participant, Site
from portal.audit import audit_record
from portal.korean import particle_format
from portal.models import User
from portal.roles import site_ids_for

from ..audit import Action
from ..models import (
    Manifest,
    ManifestLine,
    MessageType,
    OutboxMessage,
    PseudonymDomain,
    Sample,
    SampleFate,
)
from ..payloads import iso
from ..storage_consent import StorageRefusal, storage_refusals
from .outbox import outbox_add
from .pseudonyms import pseudonyms_of_bulk

__all__ = [
    "manifest_create",
    "manifest_hold_backs",
    "manifest_line_remove",
    "manifest_sample_add",
    "manifest_submit",
]

NOT_REGISTERED = "not_registered"
ALREADY_SENT = "already_sent"
_ALPHABET = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789"


def _check_site(site_id: int, by: User) -> None:
    allowed = site_ids_for(by)
    if allowed is not None and site_id not in allowed:
        raise PermissionDenied(_("You can prepare shipments only for your own sites."))


def _new_code(site: Site) -> str:
    suffix = "".join(secrets.choice(_ALPHABET) for _i in range(6))
    return f"{site.code.upper()}-{timezone.localdate():%Y%m%d}-{suffix}"


@transaction.atomic
def manifest_create(*, site: Site, by: User) -> Manifest:
    """Start a draft manifest for ``site`` (one of ``by``'s sites)."""
    _check_site(site.pk, by)
    manifest = Manifest.objects.create(code=_new_code(site), site=site, created_by=by)
    audit_record(
        action=Action.MANIFEST_CREATED, actor=by, obj=manifest, details={"site": site.code}
    )
    return manifest


def _locked_draft(manifest: Manifest, by: User) -> Manifest:
    _check_site(manifest.site_id, by)
    locked = Manifest.objects.select_for_update().select_related("site").get(pk=manifest.pk)
    if locked.state != Manifest.State.DRAFT:
        raise ValidationError(_("This manifest has been submitted; it can no longer be changed."))
    return locked


@transaction.atomic
def manifest_sample_add(*, manifest: Manifest, barcode: str, by: User) -> ManifestLine:
    """Put the tube with ``barcode`` on a draft manifest of its own site.

    Refused when the tube is at another site, already on this manifest, already sent in another
    one, or has a fate recorded (destroyed, distributed or anonymized tubes are not shipped)."""
    manifest = _locked_draft(manifest, by)
    barcode = barcode.strip().upper()
    sample = (
        Sample.objects.select_for_update().filter(barcode=barcode, site_id=manifest.site_id).first()
    )
    if sample is None:
        raise ValidationError(
            {"barcode": [str(_("No sample with this barcode was recorded at this site."))]}
        )
    if ManifestLine.objects.filter(manifest=manifest, sample=sample).exists():
        raise ValidationError({"barcode": [str(_("This sample is already on this manifest."))]})
    sent = (
        ManifestLine.objects.filter(sample=sample, state=ManifestLine.State.SENT)
        .select_related("manifest")
        .first()
    )
    if sent is not None:
        raise ValidationError(
            {
                "barcode": [
                    str(
                        particle_format(
                            _("This sample was already sent in manifest %(code)s."),
                            {"code": sent.manifest.code},
                        )
                    )
                ]
            }
        )
    if SampleFate.objects.filter(sample=sample).exists():
        raise ValidationError(
            {"barcode": [str(_("This sample has a fate recorded after a withdrawal."))]}
        )
    return ManifestLine.objects.create(manifest=manifest, sample=sample, added_by=by)


@transaction.atomic
def manifest_line_remove(*, line: ManifestLine, by: User) -> None:
    """Take a line off a draft manifest."""
    _locked_draft(line.manifest, by)
    ManifestLine.objects.filter(pk=line.pk, state=ManifestLine.State.PLANNED).delete()


def manifest_hold_backs(lines: list[ManifestLine]) -> dict[int, StorageRefusal]:
    """The lines (by id) that may not be sent now, and why. Constant number of queries.

    Held back: the participant's consent no longer allows storage (or they withdrew), they are not
    registered with the dam, or the tube went out in another manifest meanwhile."""
    participants = {line.sample.participant_id: line.sample.participant for line in lines}
    refusals = storage_refusals(participants.values())
    registered = set(
        OutboxMessage.objects.filter(
            type=MessageType.SUBJECT_REGISTERED, participant_id__in=list(participants)
        ).values_list("participant_id", flat=True)
    )
    already_sent = set(
        ManifestLine.objects.filter(
            sample_id__in=[line.sample_id for line in lines], state=ManifestLine.State.SENT
        ).values_list("sample_id", flat=True)
    )
    held: dict[int, StorageRefusal] = {}
    for line in lines:
        if line.state != ManifestLine.State.SENT and line.sample_id in already_sent:
            held[line.pk] = StorageRefusal(ALREADY_SENT)
            continue
        participant_id = line.sample.participant_id
        refusal = refusals.get(participant_id)
        if refusal is None and participant_id not in registered:
            refusal = StorageRefusal(NOT_REGISTERED)
        if refusal is not None:
            held[line.pk] = refusal
    return held


@transaction.atomic
def manifest_submit(
    *, manifest: Manifest, by: User, shipped_at: dt.datetime | None = None
) -> Manifest:
    """Check every line against consent now, hold back what may not go, and submit the rest.

    Writes the ``manifest.submitted`` outbox message (payload exactly as the dam's interface)
    in this transaction. Refused when nothing is left to send.
    """
    manifest = _locked_draft(manifest, by)
    shipped_at = shipped_at or timezone.now()
    participant_ids = sorted(
        set(
            ManifestLine.objects.filter(manifest=manifest).values_list(
                "sample__participant_id", flat=True
            )
        )
    )
    if not participant_ids:
        raise ValidationError(_("Add at least one sample before submitting."))
    # Lock the participants (in id order, as every locker does) so that a withdrawal cannot slip
    # in between this check and the commit; then read them as they are now.
    list(
        Participant.objects.select_for_update()
        .filter(pk__in=participant_ids)
        .order_by("pk")
        .values_list("pk", flat=True)
    )
    lines = list(
        ManifestLine.objects.filter(manifest=manifest)
        .select_related("sample__participant")
        .order_by("id")
    )
    held = manifest_hold_backs(lines)
    to_send = [line for line in lines if line.pk not in held]
    if not to_send:
        raise ValidationError(
            _("Every sample on this manifest is held back; there is nothing to send.")
        )
    subjects = pseudonyms_of_bulk(
        participant_ids={line.sample.participant_id for line in to_send},
        domain=PseudonymDomain.SUBJECT,
    )
    samples = []
    for line in to_send:
        sample = line.sample
        samples.append(
            {
                "sample_id": sample.barcode,
                "subject": subjects[sample.participant_id],
                "type": sample.sample_type,
                "collected_at": iso(sample.collected_at),
                "volume_ml": float(sample.volume_ml),
            }
        )
    payload = {
        "manifest_id": manifest.code,
        "site": manifest.site.code,
        "shipped_at": iso(shipped_at),
        "samples": samples,
    }
    for line in lines:
        refusal = held.get(line.pk)
        if refusal is not None:
            line.state = ManifestLine.State.HELD_BACK
            line.hold_code = refusal.code
            line.hold_reason = refusal.message[:255]
            line.save(update_fields=["state", "hold_code", "hold_reason"])
    try:
        with transaction.atomic():
            updated = ManifestLine.objects.filter(pk__in=[line.pk for line in to_send]).update(
                state=ManifestLine.State.SENT
            )
    except IntegrityError as exc:  # another manifest sent one of these tubes meanwhile
        raise ValidationError(
            _("One of these samples was sent in another manifest meanwhile; review the lines.")
        ) from exc
    assert updated == len(to_send)
    message = outbox_add(
        type=MessageType.MANIFEST_SUBMITTED,
        participant=None,
        payload=payload,
        occurred_at=shipped_at,
    )
    manifest.state = Manifest.State.SUBMITTED
    manifest.submitted_by = by
    manifest.shipped_at = shipped_at
    manifest.outbox_message = message
    manifest.save(update_fields=["state", "submitted_by", "shipped_at", "outbox_message"])
    audit_record(
        action=Action.MANIFEST_SUBMITTED,
        actor=by,
        obj=manifest,
        details={"sent": len(to_send), "held_back": len(held), "outbox_message": str(message.pk)},
    )
    return manifest
