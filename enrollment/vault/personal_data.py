"""The one way in and out of the personal-data vault.

* ``personal_data_build`` / ``personal_data_write`` seal a ``Profile`` into a ``PersonalData`` row
  and keep its blind indexes in step (services call these; nothing else writes the vault).
* ``personal_data_read`` is for staff and writes an audit row for every read (who, which
  participant, why); the audit row names the participant by id, never by value.
* ``profile_for_participant`` is for the participant's own pages, receipts and mail to them.
* ``name_matches`` checks a typed signature against the stored name.
* ``participant_find`` looks a participant up by code, exact phone or exact e-mail through the blind
  indexes, within the caller's sites. There is deliberately no substring search.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass, fields, replace
from typing import Literal

from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from portal.audit import Action as PortalAction
from portal.audit import audit_record
from portal.models import User
from portal.roles import scope_queryset

from ..audit import Action
from ..models import DuplicateFlag, DuplicateMatch, Participant, PersonalData
from ..models.vault import ENCRYPTED_FIELDS
from . import _crypto as crypto

TABLE = PersonalData._meta.db_table


@dataclass(frozen=True)
class Profile:
    """Decrypted personal data of one participant. Never log it, never put it in a URL or task."""

    name: str
    birth_date: dt.date
    latin_name: str = ""
    phone: str = ""  # E.164
    email: str = ""
    address: str = ""
    guardian_name: str = ""
    guardian_phone: str = ""  # E.164
    guardian_relationship: str = ""

    def __repr__(self) -> str:
        # A Profile that ends up in a traceback or a log line shows nothing personal.
        return "Profile(<redacted>)"

    __str__ = __repr__

    def age_on(self, day: dt.date) -> int:
        years = day.year - self.birth_date.year
        if (day.month, day.day) < (self.birth_date.month, self.birth_date.day):
            years -= 1
        return years

    @property
    def phone_display(self) -> str:
        return crypto.phone_for_display(self.phone)

    @property
    def guardian_phone_display(self) -> str:
        return crypto.phone_for_display(self.guardian_phone)

    @property
    def contact_phone(self) -> str:
        """Where texts go: the participant's own phone, or their guardian's."""
        return self.phone or self.guardian_phone

    def normalised(self) -> Profile:
        """The same profile with phones in E.164 and the e-mail lower-cased, as the vault stores it."""
        return replace(
            self,
            name=self.name.strip(),
            latin_name=self.latin_name.strip(),
            phone=crypto.normalise_phone(self.phone) if self.phone else "",
            guardian_phone=(
                crypto.normalise_phone(self.guardian_phone) if self.guardian_phone else ""
            ),
            email=crypto.normalise_email(self.email),
            address=self.address.strip(),
            guardian_name=self.guardian_name.strip(),
            guardian_relationship=self.guardian_relationship.strip(),
        )


def _plain_values(profile: Profile) -> dict[str, str]:
    values = {f.name: getattr(profile, f.name) for f in fields(Profile)}
    values["birth_date"] = profile.birth_date.isoformat()
    return values


def personal_data_columns(*, participant_id: int, profile: Profile) -> dict[str, str]:
    """The column values of a sealed vault row (encrypted fields, blind indexes, key id).

    ``profile`` must already be normalised (see ``Profile.normalised``).
    """
    plain = _plain_values(profile)
    columns = crypto.encrypt_fields(
        TABLE, participant_id, {field: plain[field] for field in ENCRYPTED_FIELDS}
    )
    columns["key_id"] = crypto.current_key_id()
    columns["email_index"] = crypto.email_index(profile.email)
    columns["phone_index"] = crypto.phone_index(profile.phone)
    columns["name_birth_index"] = crypto.name_birth_index(profile.name, profile.birth_date)
    return columns


def personal_data_build(*, participant_id: int, profile: Profile) -> PersonalData:
    """An unsaved, sealed ``PersonalData`` for ``participant_id``; see ``personal_data_columns``."""
    return PersonalData(
        participant_id=participant_id,
        **personal_data_columns(participant_id=participant_id, profile=profile),
    )


def personal_data_write(*, participant: Participant, profile: Profile) -> PersonalData:
    """Create or replace the participant's vault row (one per participant)."""
    row = personal_data_build(participant_id=participant.pk, profile=profile.normalised())
    row.updated_at = timezone.now()
    row.save()
    return row


def profile_decrypt(row: PersonalData) -> Profile:
    values = {
        field: crypto.decrypt(
            getattr(row, field), aad=crypto.associated_data(TABLE, row.participant_id, field)
        )
        for field in ENCRYPTED_FIELDS
    }
    birth_date = dt.date.fromisoformat(values.pop("birth_date"))
    return Profile(birth_date=birth_date, **values)


def profile_for_participant(participant: Participant) -> Profile | None:
    """The participant's own data, for their pages, receipts and mail to them (not a staff read)."""
    row = PersonalData.objects.filter(participant_id=participant.pk).first()
    return profile_decrypt(row) if row is not None else None


def personal_data_read(*, participant: Participant, by: User, reason: str) -> Profile | None:
    """Staff read of a participant's personal data, always audited (even when there is none)."""
    audit_record(
        action=PortalAction.PERSONAL_DATA_VIEWED,
        actor=by,
        object_type=Participant._meta.label_lower,
        object_id=participant.pk,
        reason=reason,
    )
    return profile_for_participant(participant)


def name_matches(
    *, participant: Participant, typed_name: str, signer: Literal["self", "guardian"] = "self"
) -> bool:
    """Whether ``typed_name`` is the participant's name (Korean or Latin), ignoring case and spaces.

    ``signer="guardian"`` compares with the guardian / legal representative instead.
    """
    return profile_name_matches(
        profile=profile_for_participant(participant), typed_name=typed_name, signer=signer
    )


def profile_name_matches(
    *, profile: Profile | None, typed_name: str, signer: Literal["self", "guardian"] = "self"
) -> bool:
    """``name_matches`` for a profile already read (by ``profile_for_participant``)."""
    typed = crypto.normalise_name(typed_name)
    if profile is None or not typed:
        return False
    if signer == "guardian":
        candidates = [profile.guardian_name]
    else:
        candidates = [profile.name, profile.latin_name]
    return any(typed == crypto.normalise_name(c) for c in candidates if c)


def participant_find(
    *,
    by: User,
    code: str | None = None,
    phone: str | None = None,
    email: str | None = None,
) -> Participant | None:
    """One participant of ``by``'s sites by code, exact phone or exact e-mail; audited.

    A match outside the caller's sites is answered like no match, and audited as refused.
    A phone that is not a valid number finds nobody.
    """
    criteria = Q()
    searched_by = ""
    if code:
        criteria, searched_by = Q(code=code.strip().upper()), "code"
    elif phone:
        try:
            e164 = crypto.normalise_phone(phone)
        except ValueError:
            return None
        criteria, searched_by = Q(personal_data__phone_index=crypto.phone_index(e164)), "phone"
    elif email:
        criteria = Q(personal_data__email_index=crypto.email_index(email))
        searched_by = "email"
    else:
        return None
    matches = Participant.objects.filter(criteria).select_related("site", "cohort")
    visible = scope_queryset(by, matches).order_by("pk").first()
    if visible is not None:
        audit_record(
            action=Action.PARTICIPANT_SEARCHED,
            actor=by,
            obj=visible,
            details={"searched_by": searched_by},
        )
        return visible
    hidden = matches.order_by("pk").first()
    audit_record(
        action=Action.PARTICIPANT_SEARCHED,
        actor=by,
        object_type=Participant._meta.label_lower,
        object_id=hidden.pk if hidden is not None else "",
        outcome="denied" if hidden is not None else "not_found",
        details={"searched_by": searched_by},
    )
    return None


def duplicates_of(
    profile: Profile, *, exclude_participant_id: int | None = None
) -> list[tuple[int, str]]:
    """(participant id, match kind) of earlier registrations with the same phone or e-mail.

    ``profile`` must be normalised. Used to warn a registrant and to flag for coordinators.
    """
    conditions: list[tuple[str, str, str]] = []
    if profile.email:
        conditions.append(("email_index", crypto.email_index(profile.email), DuplicateMatch.EMAIL))
    if profile.phone:
        conditions.append(("phone_index", crypto.phone_index(profile.phone), DuplicateMatch.PHONE))
    found: list[tuple[int, str]] = []
    for column, digest, kind in conditions:
        rows = PersonalData.objects.filter(**{column: digest})
        if exclude_participant_id is not None:
            rows = rows.exclude(participant_id=exclude_participant_id)
        found.extend((pid, kind) for pid in rows.values_list("participant_id", flat=True)[:20])
    return found


def duplicate_flags_record(
    *, participant: Participant, matches: Iterable[tuple[int, str]]
) -> list[DuplicateFlag]:
    """Flag ``participant`` as a possible duplicate of each match (idempotent)."""
    flags = [
        DuplicateFlag(participant=participant, matches_id=other_id, matched_on=kind)
        for other_id, kind in matches
        if other_id != participant.pk
    ]
    return DuplicateFlag.objects.bulk_create(flags, ignore_conflicts=True)


@transaction.atomic
def duplicate_flag_resolve(*, flag: DuplicateFlag, by: User) -> DuplicateFlag:
    """A coordinator looked at the flag and decided the two are different people (or handled it)."""
    flag.resolved_at = timezone.now()
    flag.resolved_by = by
    flag.save(update_fields=["resolved_at", "resolved_by"])
    audit_record(action=Action.DUPLICATE_RESOLVED, actor=by, obj=flag.participant)
    return flag


@transaction.atomic
def personal_data_rotate_batch(*, batch_size: int) -> int:
    """Re-seal up to ``batch_size`` rows still under an old key; returns how many were done."""
    current = crypto.current_key_id()
    rows = list(
        PersonalData.objects.exclude(key_id=current)
        .order_by("pk")
        .select_for_update(skip_locked=True)[:batch_size]
    )
    if not rows:
        return 0
    resealed = [
        personal_data_build(participant_id=row.participant_id, profile=profile_decrypt(row))
        for row in rows
    ]
    PersonalData.objects.bulk_update(resealed, [*ENCRYPTED_FIELDS, "key_id"])
    return len(resealed)
