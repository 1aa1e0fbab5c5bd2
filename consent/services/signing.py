"""Giving consent (grant, or re-consent on a newer version): one ledger event.

``consent_record`` checks the version, the choices, the comprehension answers and the signer, and
appends the event; changing, withdrawing and voiding are in ``consent.services.changes``. Every
service there and here locks the participant's row first, validates against the chain as it is under
that lock, appends one event (``events.event_append``), refreshes the projection, moves the
enrollment status through ``enrollment.funnel`` where consent changes it, and asks for the PDF
receipt *after* the commit (a Celery task that takes the event id only).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from enrollment.models import Participant, ParticipantStatus
from enrollment.services.funnel import participant_transition
from portal.audit import audit_record
from portal.models import User

from ..audit import Action
from ..models import (
    ArtifactKind,
    Channel,
    ConsentEvent,
    ConsentState,
    ConsentVersion,
    EventKind,
    RepresentativeRelation,
    SignatureMethod,
    SignerKind,
    StateStatus,
    WithdrawalLevel,
)
from ..selectors.records import version_items, version_questions
from ..tasks import consent_receipt_issue
from . import artifacts
from .events import (
    current_state,
    event_append,
    participant_lock,
    signer_name_digest,
    state_read_with_lock,
)

if TYPE_CHECKING:
    from enrollment.vault import Profile

__all__ = [
    "InPerson",
    "Signature",
    "Witness",
    "choices_check",
    "comprehension_check",
    "consent_record",
    "receipt_schedule",
    "relationship_check",
]


ADULT_AGE = 19


@dataclass(frozen=True)
class Signature:
    """How the signer signed. ``typed_name`` is compared with the vault and never stored."""

    typed_name: str = ""
    confirmed: bool = False
    drawn_png: bytes | None = None
    signer_kind: str = SignerKind.SELF
    # A code of ``RepresentativeRelation``; with "other", the signer's words go in the note.
    representative_relation: str = ""
    representative_note: str = ""


@dataclass(frozen=True)
class Witness:
    """An impartial witness to a consent taken on a site tablet (the signer cannot read): their
    name and drawn signature, both stored encrypted and named in the event by hash."""

    name: str
    signature_png: bytes | None


@dataclass(frozen=True)
class InPerson:
    """What a coordinator adds when consent is taken at a site."""

    channel: str = Channel.SITE_TABLET
    countersigned_by: User | None = None
    countersignature_png: bytes | None = None
    countersignature_confirmed: bool = False
    paper_form: bytes | None = None
    signed_at: dt.datetime | None = None
    witness: Witness | None = None


def relationship_check(relation: str, note: str) -> artifacts.Upload | None:
    """A legal representative's relationship: a code from the fixed list, and for "other" the
    signer's words (returned as a note to store encrypted; never in the ledger itself)."""
    if not relation:
        raise ValidationError(
            _("Choose how the legal representative is related to the participant.")
        )
    if relation not in RepresentativeRelation.values:
        raise ValidationError(_("Choose a relationship from the list."))
    upload = artifacts.note_check(note)
    if relation == RepresentativeRelation.OTHER and upload is None:
        raise ValidationError(_("Say how the legal representative is related (“other”)."))
    return upload


def _witness_check(witness: Witness) -> tuple[artifacts.Upload, artifacts.Upload]:
    """The witness's name (as a note) and signature, both required."""
    name = artifacts.note_check(witness.name)
    if name is None:
        raise ValidationError(_("Enter the impartial witness's full name."))
    if not witness.signature_png:
        raise ValidationError(_("The impartial witness must sign in the witness's signature area."))
    return name, artifacts.signature_image_check(witness.signature_png)


def receipt_schedule(event: ConsentEvent) -> None:
    """Make (and mail) the receipt after the commit; the request never waits for the PDF."""
    event_id = event.pk
    transaction.on_commit(lambda: consent_receipt_issue.delay(event_id))


def _version_reread(version: ConsentVersion) -> ConsentVersion:
    """``version`` as it is now (its status decides whether it may be signed), keeping the items
    and questions the caller prefetched: those cannot change once a version leaves draft (the
    database refuses it), and a version that may be signed has left draft."""
    fresh = ConsentVersion.objects.select_related("form").get(pk=version.pk)
    prefetched = getattr(version, "_prefetched_objects_cache", None)
    if prefetched and fresh.status != ConsentVersion.Status.DRAFT:
        fresh._prefetched_objects_cache = dict(prefetched)  # type: ignore[attr-defined]
    return fresh


def choices_check(version: ConsentVersion, choices: Mapping[str, bool]) -> dict[str, bool]:
    """Every item answered, no unknown codes, and every required item answered "yes"."""
    items = version_items(version)
    codes = {item.code for item in items}
    unknown = sorted(set(choices) - codes)
    if unknown:
        raise ValidationError(
            _("These items are not part of this consent form: %(codes)s")
            % {"codes": ", ".join(unknown)}
        )
    missing = [item for item in items if item.code not in choices]
    if missing:
        raise ValidationError(
            _("Please answer every item. Not answered: %(items)s")
            % {"items": "; ".join(item.title for item in missing)}
        )
    refused = [item for item in items if item.required and not choices[item.code]]
    if refused:
        raise ValidationError(
            _(
                "To take part you need to answer “yes” to: %(items)s. "
                "If you do not agree, you do not have to take part."
            )
            % {"items": "; ".join(item.title for item in refused)}
        )
    return {item.code: bool(choices[item.code]) for item in items}


def comprehension_check(version: ConsentVersion, answers: Mapping[int, int] | None) -> None:
    """Every question answered correctly (keys are question ids, values the chosen index)."""
    answers = answers or {}
    wrong = [q for q in version_questions(version) if answers.get(q.pk) != q.correct_choice]
    if wrong:
        raise ValidationError(
            _(
                "Some answers to the questions about the study are not right yet (%(count)d). "
                "Please read the explanation again and try once more."
            )
            % {"count": len(wrong)}
        )


def _age_on(participant: Participant, profile: Profile | None, day: dt.date) -> int:
    if profile is not None:
        return profile.age_on(day)
    return day.year - participant.birth_year


def _came_of_age(participant: Participant, profile: Profile | None, day: dt.date) -> bool:
    """Enrolled as a minor and now an adult: they decide for themselves, nobody for them."""
    return participant.is_minor and _age_on(participant, profile, day) >= ADULT_AGE


def _needs_representative(participant: Participant, profile: Profile | None, day: dt.date) -> bool:
    if _came_of_age(participant, profile, day):
        return False
    return bool(
        participant.has_legal_representative
        or participant.is_minor
        or _age_on(participant, profile, day) < ADULT_AGE
    )


def _check_signer(
    participant: Participant, signature: Signature, *, paper: bool, day: dt.date
) -> tuple[str, artifacts.Upload | None]:
    """Validate who signed and how; returns the keyed digest of the typed name, and the
    relationship note of a legal representative (if any)."""
    from enrollment.vault import profile_for_participant, profile_name_matches

    # Read (and decrypted) once: for the age and for the typed name.
    profile = profile_for_participant(participant)

    if not signature.confirmed:
        raise ValidationError(
            _("Please confirm that you have read the form and that you sign it of your own will.")
        )
    representative = signature.signer_kind == SignerKind.LEGAL_REPRESENTATIVE
    if representative and _came_of_age(participant, profile, day):
        raise ValidationError(
            _(
                "This participant has come of age and signs in their own name, without a representative."
            )
        )
    if _needs_representative(participant, profile, day) and not representative:
        raise ValidationError(
            _("This participant consents through a legal representative, who must sign.")
        )
    note = (
        relationship_check(signature.representative_relation, signature.representative_note)
        if representative
        else None
    )
    if paper:
        return "", note
    if not signature.typed_name.strip():
        raise ValidationError(_("Type the signer's full name to sign."))
    matched = profile_name_matches(
        profile=profile,
        typed_name=signature.typed_name,
        signer="guardian" if representative else "self",
    )
    if not matched:
        if representative:
            raise ValidationError(
                _(
                    "The typed name does not match the legal representative registered for this "
                    "participant."
                )
            )
        raise ValidationError(
            _(
                "The typed name does not match the name you registered with. Type your full name "
                "as registered."
            )
        )
    return signer_name_digest(signature.typed_name), note


def _check_version(version: ConsentVersion, *, signed_at: dt.datetime, paper: bool) -> None:
    if version.status == ConsentVersion.Status.ACTIVE and version.is_active(signed_at):
        return
    if paper and version.is_active(signed_at):
        # A paper form signed while this version was in force, entered after it was replaced.
        return
    raise ValidationError(
        _("This version of the consent form is not in force; use the current version.")
    )


def _consent_kind(state: ConsentState | None, version: ConsentVersion) -> str:
    if state is None or state.status == StateStatus.VOIDED or state.version_id is None:
        return EventKind.GRANT
    if state.status == StateStatus.WITHDRAWN:
        # A partial withdrawal is lifted by a new signature (taking part again); after "no
        # further use" the samples and data are gone, and so is the participation.
        if state.withdrawal_level in (
            WithdrawalLevel.NO_FURTHER_CONTACT,
            WithdrawalLevel.NO_FURTHER_COLLECTION,
        ):
            return EventKind.RECONSENT
        raise ValidationError(
            _("This participant has withdrawn; consent can no longer be recorded for them.")
        )
    if state.version_id == version.pk and state.majority_since is None:
        raise ValidationError(
            _("This version is already signed. To change a choice, use “Change my choices”.")
        )
    return EventKind.RECONSENT


def consent_record(
    *,
    participant: Participant,
    version: ConsentVersion,
    choices: Mapping[str, bool],
    signature: Signature,
    by: User | None,
    answers: Mapping[int, int] | None = None,
    in_person: InPerson | None = None,
    already_locked: bool = False,
) -> ConsentEvent:
    """Record a signed consent (grant, or re-consent on a newer version) as one ledger event.

    On the web the participant signs (``by`` is their user, ``in_person`` is ``None``). At a site
    ``by`` is the coordinator and ``in_person`` says how: on a tablet with the investigator's
    countersignature, or as a scanned paper form with the date it was signed.

    A caller that has locked the participant in its own transaction passes the instance the lock
    returned (``participant_lock`` or ``participant_lock_of_account``) with
    ``already_locked=True``, and a ``version`` it read after taking the lock: both are used as
    they are, with the consent state the caller read through that instance (if it did), instead
    of being read again.
    """
    if already_locked and not transaction.get_connection().in_atomic_block:
        raise RuntimeError("already_locked needs the caller's transaction holding the lock")
    with transaction.atomic():
        if already_locked:
            state = state_read_with_lock(participant)
        else:
            participant = participant_lock(participant)
            state = current_state(participant)
            version = _version_reread(version)
        now = timezone.now()
        paper = in_person is not None and in_person.channel == Channel.SCANNED_PAPER
        signed_at = in_person.signed_at if in_person is not None and paper else None
        if paper:
            if signed_at is None:
                raise ValidationError(_("Enter the date and time the paper form was signed."))
            if signed_at > now:
                raise ValidationError(_("The date of signing cannot be in the future."))
        moment = signed_at or now
        _check_version(version, signed_at=moment, paper=paper)
        kind = _consent_kind(state, version)
        if kind == EventKind.GRANT and participant.status not in (
            ParticipantStatus.ELIGIBLE,
            ParticipantStatus.CONSENTED,
            ParticipantStatus.SAMPLE_COLLECTED,
            ParticipantStatus.IN_DAM,
        ):
            raise ValidationError(
                _(
                    "Consent can be given once eligibility has been confirmed (status now: %(status)s)."
                )
                % {"status": participant.get_status_display()}
            )
        clean_choices = choices_check(version, choices)
        if not paper:
            comprehension_check(version, answers)
        day = timezone.localtime(moment).date()
        name_digest, relationship_note = _check_signer(participant, signature, paper=paper, day=day)

        uploads: list[tuple[ArtifactKind, artifacts.Upload]] = []
        if relationship_note is not None:
            uploads.append((ArtifactKind.RELATIONSHIP_NOTE, relationship_note))
        witness_name_sha = witness_signature_sha = ""
        signature_sha = countersignature_sha = document_sha = ""
        if signature.drawn_png and not paper:
            upload = artifacts.signature_image_check(signature.drawn_png)
            uploads.append((ArtifactKind.SIGNATURE, upload))
            signature_sha = upload.sha256
        countersigned_by = None
        if in_person is not None:
            if by is None:
                raise ValidationError(
                    _("An in-person consent needs the staff member recording it.")
                )
            if paper:
                if not in_person.paper_form:
                    raise ValidationError(_("Attach the scanned consent form."))
                upload = artifacts.paper_form_check(in_person.paper_form)
                uploads.append((ArtifactKind.PAPER_FORM, upload))
                document_sha = upload.sha256
            else:
                if in_person.countersigned_by is None or not in_person.countersignature_confirmed:
                    raise ValidationError(
                        _("The investigator must countersign a consent taken on a site tablet.")
                    )
                countersigned_by = in_person.countersigned_by
                if in_person.countersignature_png:
                    upload = artifacts.signature_image_check(in_person.countersignature_png)
                    uploads.append((ArtifactKind.COUNTERSIGNATURE, upload))
                    countersignature_sha = upload.sha256
            if in_person.witness is not None:
                if paper:
                    raise ValidationError(
                        _("A witness to a paper consent signs the paper form itself.")
                    )
                witness_name, witness_signature = _witness_check(in_person.witness)
                uploads.append((ArtifactKind.WITNESS_NAME, witness_name))
                uploads.append((ArtifactKind.WITNESS_SIGNATURE, witness_signature))
                witness_name_sha = witness_name.sha256
                witness_signature_sha = witness_signature.sha256
        if paper:
            method = SignatureMethod.PAPER
        elif signature.drawn_png:
            method = SignatureMethod.DRAWN
        else:
            method = SignatureMethod.TYPED_NAME

        def store(event: ConsentEvent) -> None:
            for artifact_kind, upload in uploads:
                artifacts.artifact_store(event=event, kind=artifact_kind, upload=upload)

        event = event_append(
            participant=participant,
            kind=kind,
            version=version,
            choices=clean_choices,
            signed_at=signed_at,
            channel=in_person.channel if in_person is not None else Channel.WEB,
            signer_kind=signature.signer_kind,
            representative_relation=(
                signature.representative_relation
                if signature.signer_kind == SignerKind.LEGAL_REPRESENTATIVE
                else ""
            ),
            representative_note_sha256=relationship_note.sha256 if relationship_note else "",
            method=method,
            staff=by if in_person is not None else None,
            countersigned_by=countersigned_by,
            signer_name_digest=name_digest,
            signature_sha256=signature_sha,
            countersignature_sha256=countersignature_sha,
            document_sha256=document_sha,
            witness_name_sha256=witness_name_sha,
            witness_signature_sha256=witness_signature_sha,
            after_insert=store,
            state_before=state,
        )
        if participant.status == ParticipantStatus.ELIGIBLE:
            participant_transition(
                participant=participant,
                to_status=ParticipantStatus.CONSENTED,
                actor=by,
                reason=f"consent event {event.pk}",
                already_locked=True,
            )
        audit_record(
            action=Action.CONSENT_RECORDED,
            actor=by,
            obj=event,
            details={
                "kind": kind,
                "channel": event.channel,
                "version": version.pk,
                "witness": bool(witness_name_sha),
            },
        )
        receipt_schedule(event)
        return event
