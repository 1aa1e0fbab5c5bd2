"""Changing, withdrawing and voiding consent: one ledger event each.

Like ``consent_record`` (``consent.services.signing``), every service here locks the participant's
row first, validates against the chain as it is under that lock, appends one event
(``events.event_append``), refreshes the projection, moves the enrollment status through the funnel
where consent changes it, and asks for the PDF receipt after the commit.
"""

from __future__ import annotations

from collections.abc import Mapping

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils.translation import gettext as _

from enrollment.models import Participant, ParticipantStatus
from enrollment.services.funnel import participant_transition
from enrollment.services.site_notices import visits_cancel_on_collection_stop
from portal.audit import audit_record
from portal.models import User

from ..audit import Action
from ..models import (
    ArtifactKind,
    Channel,
    ConsentEvent,
    ConsentState,
    EventKind,
    SamplesFate,
    SignerKind,
    StateStatus,
    WithdrawalLevel,
    WithdrawalReason,
)
from ..models.purposes import WITHDRAWAL_BLOCKS, PurposeActivity
from ..selectors.standing import LEVEL_ORDER
from . import artifacts
from .events import current_state, event_append, participant_lock
from .signing import choices_check, receipt_schedule, relationship_check

__all__ = ["consent_update", "consent_void", "consent_withdraw"]


@transaction.atomic
def consent_update(
    *,
    participant: Participant,
    choices: Mapping[str, bool],
    by: User | None,
    confirmed: bool,
    staff: User | None = None,
) -> ConsentEvent:
    """Change optional items of the consent in force (a new ``update`` event and receipt).

    Items not mentioned keep their current answer. A required item cannot be turned to "no" here:
    that is a withdrawal, which has its own service.
    """
    participant = participant_lock(participant)
    state = current_state(participant)
    if state is None or state.status not in (StateStatus.ACTIVE, StateStatus.RECONSENT_DUE):
        raise ValidationError(_("There is no consent in force to change."))
    if not confirmed:
        raise ValidationError(_("Please confirm the change."))
    version = state.version
    assert version is not None
    merged = {**state.choices, **{code: bool(v) for code, v in choices.items()}}
    merged = {
        code: merged.get(code, False) for code in version.items.values_list("code", flat=True)
    }
    if merged == state.choices:
        raise ValidationError(_("Nothing changed: your choices are the same as before."))
    clean = choices_check(version, merged)
    event = event_append(
        participant=participant,
        kind=EventKind.UPDATE,
        version=version,
        choices=clean,
        signed_at=None,
        channel=Channel.WEB if staff is None else Channel.SITE_TABLET,
        staff=staff,
        state_before=state,
    )
    audit_record(
        action=Action.CONSENT_UPDATED,
        actor=by,
        obj=event,
        details={"changed": sorted(c for c in clean if clean[c] != state.choices.get(c))},
    )
    receipt_schedule(event)
    return event


_LEVEL_ORDER = LEVEL_ORDER


@transaction.atomic
def consent_withdraw(
    *,
    participant: Participant,
    level: str,
    by: User | None,
    confirmed: bool,
    samples_fate: str = "",
    staff: User | None = None,
    reason: str = "",
    reason_note: str = "",
    signer_kind: str = SignerKind.SELF,
    representative_relation: str = "",
    representative_note: str = "",
) -> ConsentEvent:
    """Withdraw at ``level`` (see ``consent.selectors.doors`` for what each level closes).

    Only "no further use" takes the participant out of the funnel (status "withdrawn"); at the
    lower levels they stay enrolled and what they gave stays in use. A withdrawal can later be
    made stricter (contact -> collection -> use), never looser: that is a new consent.
    When collection stops, visits still booked are cancelled and their sites told.

    "No further use" needs the fate of samples and data (destroyed, or kept anonymized if the
    participant chooses so); the lower levels keep what was collected in use.
    ``staff`` is set when a coordinator records the withdrawal on the participant's behalf, with
    ``reason``, a ``WithdrawalReason`` code saying how the request came (``reason_note``, the staff
    member's words for "other", is stored encrypted beside the event, never in it).
    """
    participant = participant_lock(participant)
    if level not in WithdrawalLevel.values:
        raise ValidationError(_("Choose how far you want to withdraw."))
    if level == WithdrawalLevel.NO_FURTHER_USE:
        if samples_fate not in SamplesFate.values:
            raise ValidationError(
                _("Choose what should happen to the samples and data already collected.")
            )
    else:
        samples_fate = ""
    if not confirmed:
        raise ValidationError(_("Please confirm the withdrawal."))
    state = current_state(participant)
    if (
        state is not None
        and state.status == StateStatus.WITHDRAWN
        and _LEVEL_ORDER.index(level) <= _LEVEL_ORDER.index(state.withdrawal_level or level)
    ):
        raise ValidationError(_("This participant has already withdrawn."))
    if (
        signer_kind == SignerKind.LEGAL_REPRESENTATIVE
        and state is not None
        and state.majority_since is not None
    ):
        raise ValidationError(
            _(
                "This participant has come of age and signs in their own name, without a representative."
            )
        )
    uploads: list[tuple[ArtifactKind, artifacts.Upload]] = []
    relationship_note = None
    if signer_kind == SignerKind.LEGAL_REPRESENTATIVE:
        relationship_note = relationship_check(representative_relation, representative_note)
        if relationship_note is not None:
            uploads.append((ArtifactKind.RELATIONSHIP_NOTE, relationship_note))
    else:
        representative_relation = ""
    reason_upload = _withdrawal_reason_check(reason, reason_note, on_behalf=staff is not None)
    if reason_upload is not None:
        uploads.append((ArtifactKind.WITHDRAWAL_NOTE, reason_upload))

    def store(event: ConsentEvent) -> None:
        for kind, upload in uploads:
            artifacts.artifact_store(event=event, kind=kind, upload=upload)

    event = event_append(
        participant=participant,
        kind=EventKind.WITHDRAW,
        version=state.version if state is not None else None,
        choices=state.choices if state is not None else {},
        signed_at=None,
        channel=Channel.WEB if staff is None else Channel.SITE_TABLET,
        signer_kind=signer_kind,
        representative_relation=representative_relation,
        representative_note_sha256=relationship_note.sha256 if relationship_note else "",
        staff=staff,
        withdrawal_level=level,
        samples_fate=samples_fate,
        withdrawal_reason=reason,
        withdrawal_note_sha256=reason_upload.sha256 if reason_upload else "",
        after_insert=store,
        state_before=state,
    )
    if PurposeActivity.COLLECTION in WITHDRAWAL_BLOCKS[level]:
        # Nothing more is collected: a booked visit would bring them in for nothing.
        visits_cancel_on_collection_stop(participant=participant, by=by)
    if (
        level == WithdrawalLevel.NO_FURTHER_USE
        and participant.status != ParticipantStatus.WITHDRAWN
    ):
        participant_transition(
            participant=participant,
            to_status=ParticipantStatus.WITHDRAWN,
            actor=by,
            reason=f"consent withdrawal ({level})",
        )
    audit_record(
        action=Action.CONSENT_WITHDRAWN,
        actor=by,
        obj=event,
        details={"level": level, "samples_fate": samples_fate, "on_behalf": staff is not None},
    )
    receipt_schedule(event)
    return event


def _withdrawal_reason_check(reason: str, note: str, *, on_behalf: bool) -> artifacts.Upload | None:
    """How a withdrawal recorded by staff was asked for: a code, and the staff member's words for
    "other" (returned as a note to store encrypted)."""
    if not reason:
        if on_behalf:
            raise ValidationError(_("Choose how the withdrawal was asked for."))
        return None
    if reason not in WithdrawalReason.values:
        raise ValidationError(_("Choose how the withdrawal was asked for, from the list."))
    upload = artifacts.note_check(note)
    if reason == WithdrawalReason.OTHER and upload is None:
        raise ValidationError(_("Say how the withdrawal was asked for (“other”)."))
    return upload


@transaction.atomic
def consent_void(*, event: ConsentEvent, by: User, reason: str) -> ConsentEvent:
    """Void a consent event (e.g. a failed quality check) with a new ``void`` event.

    If no other valid consent remains, the participant's state becomes "voided" (they are asked to
    sign again) and an enrollment status of "consented" goes back to "eligible".
    """
    participant = participant_lock(event.participant)
    event = ConsentEvent.objects.get(pk=event.pk)
    if event.kind not in (EventKind.GRANT, EventKind.RECONSENT):
        raise ValidationError(_("Only a signed consent can be voided."))
    if ConsentEvent.objects.filter(voids=event).exists():
        raise ValidationError(_("This consent has already been voided."))
    if not reason.strip():
        raise ValidationError(_("Say why the consent is voided."))
    void = event_append(
        participant=participant,
        kind=EventKind.VOID,
        version=event.version,
        signed_at=None,
        channel=event.channel,
        staff=by,
        voids=event,
        reason=reason.strip()[:255],
    )
    state = ConsentState.objects.get(participant_id=participant.pk)
    if state.status == StateStatus.VOIDED and participant.status == ParticipantStatus.CONSENTED:
        participant_transition(
            participant=participant,
            to_status=ParticipantStatus.ELIGIBLE,
            actor=by,
            reason=f"consent event {event.pk} voided",
        )
    audit_record(action=Action.CONSENT_VOIDED, actor=by, obj=void, details={"voids": event.pk})
    return void
