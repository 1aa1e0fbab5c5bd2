"""Notes on tubes, and what became of each tube after its participant withdrew.

A participant who withdraws with "no further use" chooses whether their samples are destroyed or
kept anonymized. Each of their tubes then gets its fate recorded by the site (or a data steward):
destroyed; already distributed and not recallable; or kept anonymized (only where the participant
chose so). Fates are append-only; a correction is a new row naming the one it corrects. The
participant can download a certificate of what was done and when (``fate_certificate_render``).
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from consent.models import ConsentState, SamplesFate, StateStatus, WithdrawalLevel
from enrollment.models import Participant
from portal.audit import audit_record
from portal.models import User
from portal.pdf import render_pdf
from portal.roles import Role, can_view, has_role

from ..audit import Action
from ..models import Sample, SampleFate, SampleNote

__all__ = [
    "fate_certificate_available",
    "fate_certificate_context",
    "fate_certificate_render",
    "sample_fate_record",
    "sample_note_add",
    "samples_awaiting_fate",
]

_RECORDERS = (Role.COORDINATOR, Role.DATA_STEWARD, Role.ADMIN)


def _check_access(sample: Sample, by: User) -> None:
    if not has_role(by, *_RECORDERS) or not can_view(by, sample):
        raise PermissionDenied(_("You can only work with samples of your own sites."))


@transaction.atomic
def sample_note_add(*, sample: Sample, kind: str, text: str, by: User) -> SampleNote:
    """Add a processing or storage note to a tube (append-only; write a new note to correct)."""
    _check_access(sample, by)
    text = " ".join(text.split())
    errors: dict[str, list[str]] = {}
    if kind not in SampleNote.Kind.values:
        errors["kind"] = [str(_("Choose whether this is a processing or a storage note."))]
    if not text:
        errors["text"] = [str(_("Write the note."))]
    elif len(text) > 1000:
        errors["text"] = [str(_("A note can be at most 1,000 characters long."))]
    if errors:
        raise ValidationError(errors)
    note = SampleNote.objects.create(sample=sample, kind=kind, text=text, by=by)
    audit_record(
        action=Action.SAMPLE_NOTE_ADDED,
        actor=by,
        obj=sample,
        details={"note": note.pk, "kind": kind},
    )
    return note


def _withdrawal(participant_id: int) -> ConsentState | None:
    """The participant's consent state if they withdrew with "no further use"."""
    return (
        ConsentState.objects.select_related("last_event")
        .filter(
            participant_id=participant_id,
            status=StateStatus.WITHDRAWN,
            withdrawal_level=WithdrawalLevel.NO_FURTHER_USE,
        )
        .first()
    )


@transaction.atomic
def sample_fate_record(
    *,
    sample: Sample,
    fate: str,
    done_at: dt.datetime,
    by: User,
    note: str = "",
) -> SampleFate:
    """Record what was done with ``sample`` after its participant withdrew with "no further use".

    "Kept anonymized" only where the participant chose so. A second fate for the same tube is a
    correction and needs a note saying why.
    """
    _check_access(sample, by)
    sample = Sample.objects.select_for_update().get(pk=sample.pk)
    state = _withdrawal(sample.participant_id)
    if state is None:
        raise ValidationError(
            _(
                "A fate is recorded only after the participant withdrew with "
                "“no further use”; this participant has not."
            )
        )
    note = " ".join(note.split())[:255]
    errors: dict[str, list[str]] = {}
    if fate not in SampleFate.Fate.values:
        errors["fate"] = [str(_("Choose what was done with the sample."))]
    elif (
        fate == SampleFate.Fate.KEPT_ANONYMIZED
        and state.samples_fate != SamplesFate.RETAIN_ANONYMIZED
    ):
        errors["fate"] = [
            str(_("The participant asked for their samples to be destroyed, not kept anonymized."))
        ]
    if done_at > timezone.now() + dt.timedelta(minutes=5):
        errors["done_at"] = [str(_("This time cannot be in the future."))]
    previous = SampleFate.objects.filter(sample=sample).order_by("-recorded_at", "-id").first()
    if previous is not None and not note:
        errors["note"] = [str(_("This sample already has a fate; say why it is corrected."))]
    if errors:
        raise ValidationError(errors)
    record = SampleFate.objects.create(
        sample=sample, fate=fate, done_at=done_at, note=note, recorded_by=by, corrects=previous
    )
    audit_record(
        action=Action.SAMPLE_FATE_RECORDED,
        actor=by,
        obj=sample,
        details={"fate": fate, "corrects": previous.pk if previous else None},
    )
    return record


def samples_awaiting_fate(queryset: QuerySet[Sample] | None = None) -> QuerySet[Sample]:
    """Tubes of participants who withdrew with "no further use" that have no fate yet."""
    queryset = queryset if queryset is not None else Sample.objects.all()
    withdrawn = ConsentState.objects.filter(
        participant_id=OuterRef("participant_id"),
        status=StateStatus.WITHDRAWN,
        withdrawal_level=WithdrawalLevel.NO_FURTHER_USE,
    )
    return (
        queryset.filter(Exists(withdrawn))
        .exclude(Exists(SampleFate.objects.filter(sample_id=OuterRef("pk"))))
        .select_related("participant", "site")
        .order_by("collected_at", "id")
    )


def fate_certificate_context(participant: Participant) -> dict[str, Any] | None:
    """What the certificate says, or ``None`` when the participant has not withdrawn with
    "no further use" (there is nothing to certify)."""
    state = _withdrawal(participant.pk)
    if state is None:
        return None
    rows = []
    samples = Sample.objects.filter(participant=participant).order_by("collected_at", "id")
    latest: dict[int, SampleFate] = {}
    for record in SampleFate.objects.filter(sample__participant=participant).order_by(
        "recorded_at", "id"
    ):
        latest[record.sample_id] = record
    for sample in samples:
        rows.append({"sample": sample, "fate": latest.get(sample.pk)})
    return {
        "participant": participant,
        "state": state,
        "withdrawn_at": state.last_event.signed_at if state.last_event else None,
        "rows": rows,
        "pending": sum(1 for row in rows if row["fate"] is None),
        "issued_at": timezone.now(),
        "languages": ["ko", "en"],
    }


def fate_certificate_available(participant: Participant) -> bool:
    return _withdrawal(participant.pk) is not None


def fate_certificate_render(participant: Participant) -> bytes | None:
    """The certificate as PDF (Korean and English), or ``None`` when there is nothing to certify."""
    context = fate_certificate_context(participant)
    if context is None:
        return None
    return render_pdf("dam/fate_certificate.html", context, language="ko")
