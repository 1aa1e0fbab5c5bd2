"""Appending one event to a participant's ledger: the only code that inserts ``ConsentEvent`` rows.

The participant's row is locked first (``SELECT ... FOR UPDATE``), so two submissions for the same
participant at the same moment queue up: the second sees the first's event as the chain's head and
links to it. Without the lock both would read the same head and the chain would fork (the unique
``(participant, sequence)`` constraint would then reject one of them with an error instead).
"""

from __future__ import annotations

import datetime as dt
import enum
from collections.abc import Callable, Mapping
from typing import Any, Literal, cast

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils.crypto import salted_hmac
from django.utils.translation import gettext as _

from enrollment.models import Participant
from portal.models import User

from .. import ledger
from ..models import ConsentEvent, ConsentState, ConsentVersion, EventKind
from ..projection import state_advance
from ..signals import consent_event_recorded

NAME_DIGEST_SALT = "consent.signer_name"


def signer_name_digest(typed_name: str) -> str:
    """A keyed digest of a typed name: proves later which name was typed, without storing it."""
    from enrollment.vault import normalise_name

    normalised = normalise_name(typed_name)
    if not normalised:
        return ""
    return salted_hmac(NAME_DIGEST_SALT, normalised, algorithm="sha256").hexdigest()


def _locking() -> QuerySet[Participant]:
    # Cohort and site come along (read, not locked): registering with the dam names their codes.
    return Participant.objects.select_for_update(of=("self",)).select_related("cohort", "site")


def participant_lock(participant: Participant) -> Participant:
    """Lock the participant's row for the rest of the transaction (chain writes queue here)."""
    return _locking().get(pk=participant.pk)


def participant_lock_of_account(user_id: int) -> Participant | None:
    """The participant of account ``user_id`` (``None`` if it has none), locked as
    ``participant_lock`` locks.

    The participant's own pages that record consent take the lock with their first read, so that
    what they check and what the service records come from reads made under the same lock."""
    return _locking().filter(user_id=user_id).first()


def current_state(participant: Participant) -> ConsentState | None:
    return ConsentState.objects.filter(participant_id=participant.pk).first()


def state_read_with_lock(participant: Participant) -> ConsentState | None:
    """The consent state of a participant locked by this transaction: the one already read
    through the locked instance (``participant.consent_state``), else read now.

    Never join the state into the locking statement itself: a lock that had to wait returns the
    participant's row as it is now, but rows joined to it as they were before the wait."""
    relation = Participant.consent_state.related
    if relation.is_cached(participant):
        return cast(ConsentState | None, relation.get_cached_value(participant))
    return current_state(participant)


class _Unread(enum.Enum):
    UNREAD = "unread"


UNREAD: Literal[_Unread.UNREAD] = _Unread.UNREAD


def event_append(
    *,
    participant: Participant,
    kind: str,
    signed_at: dt.datetime | None,
    channel: str,
    version: ConsentVersion | None = None,
    choices: Mapping[str, bool] | None = None,
    signer_kind: str = "self",
    representative_relation: str = "",
    representative_note_sha256: str = "",
    method: str = "",
    staff: User | None = None,
    countersigned_by: User | None = None,
    withdrawal_level: str = "",
    samples_fate: str = "",
    voids: ConsentEvent | None = None,
    reason: str = "",
    signer_name_digest: str = "",
    signature_sha256: str = "",
    countersignature_sha256: str = "",
    document_sha256: str = "",
    withdrawal_reason: str = "",
    withdrawal_note_sha256: str = "",
    witness_name_sha256: str = "",
    witness_signature_sha256: str = "",
    after_insert: Callable[[ConsentEvent], None] | None = None,
    state_before: ConsentState | Literal[_Unread.UNREAD] | None = UNREAD,
) -> ConsentEvent:
    """Insert the next event of ``participant``'s chain and refresh their ``ConsentState``.

    Must run inside a transaction that already holds the participant's lock (``participant_lock``),
    so that validation done by the caller and the append see the same chain. ``signed_at=None``
    means "now, by the database clock" (web signatures). ``state_before`` is the participant's
    ``ConsentState`` if the caller has read it under the same lock (it is read here otherwise).

    Typed text never enters the ledger: the representative's relationship and a withdrawal
    request are codes, their free text is stored encrypted (``after_insert``) and named here by
    hash. The column that held typed relationships in older events stays empty.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("event_append must run inside a transaction")
    head, recorded_at = ledger.chain_head_and_now(participant.pk)
    sequence, prev_hash = (head[0] + 1, head[1]) if head else (1, "")
    previous_event_id = head[2] if head else None
    values: dict[str, Any] = {
        "participant_id": participant.pk,
        "sequence": sequence,
        "kind": kind,
        "version_id": version.pk if version else None,
        "version_sha256": version.text_sha256 if version else "",
        "choices": {code: bool(value) for code, value in (choices or {}).items()},
        "signed_at": signed_at or recorded_at,
        "recorded_at": recorded_at,
        "signer_kind": signer_kind,
        "representative_relationship": "",
        "method": method,
        "channel": channel,
        "staff_id": staff.pk if staff else None,
        "countersigned_by_id": countersigned_by.pk if countersigned_by else None,
        "withdrawal_level": withdrawal_level,
        "samples_fate": samples_fate,
        "voids_id": voids.pk if voids else None,
        "reason": reason,
        "signer_name_digest": signer_name_digest,
        "signature_sha256": signature_sha256,
        "countersignature_sha256": countersignature_sha256,
        "document_sha256": document_sha256,
        "prev_hash": prev_hash,
        "representative_relation": representative_relation,
        "representative_note_sha256": representative_note_sha256,
        "withdrawal_reason": withdrawal_reason,
        "withdrawal_note_sha256": withdrawal_note_sha256,
        "witness_name_sha256": witness_name_sha256,
        "witness_signature_sha256": witness_signature_sha256,
    }
    if values["signed_at"] > recorded_at:
        # Nothing is signed after it is recorded: the fold relies on it (``consent.projection``).
        raise ValidationError(_("The date of signing cannot be in the future."))
    digest = ledger.event_hash(values)
    event = ConsentEvent.objects.create(
        **values, hash=digest, verification_code=ledger.verification_code(digest)
    )
    if after_insert is not None:
        after_insert(event)
    if state_before is UNREAD:
        # A void folds the whole chain again whatever the state was: no need to read it.
        state_before = None if kind == EventKind.VOID else current_state(participant)
    # Folds the stored state one event further (the same fold as a full rebuild) when it is known
    # to be the fold of the chain before this event; folds the whole chain otherwise.
    state = state_advance(
        event=event, before=state_before, previous_event_id=previous_event_id, version=version
    )
    # What the receivers read of the state is already in hand: keep them from reading it again.
    ConsentEvent.participant.field.set_cached_value(event, participant)
    ConsentState.participant.field.set_cached_value(state, participant)
    if version is not None and state.version_id == version.pk:
        ConsentState.version.field.set_cached_value(state, version)
    consent_event_recorded.send(sender=ConsentEvent, event=event, state=state)
    return event
