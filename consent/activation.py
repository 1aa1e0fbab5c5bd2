"""Putting an approved consent version into force (``consent.services.version_activate``).

Activation is the moment the new text starts to count: the previous active version of the same
form and language is superseded, and everyone whose consent is on an older version *whose items
differ* is marked "re-consent due" in one set-based UPDATE. Their earlier choices stand; items the
new version adds count as "no" until they re-consent (see ``consent.checks``).

Which older versions "differ": any item added or removed, or any item whose text, "required" flag
or DUO terms changed. A version that only fixes the body's wording and keeps every item as it was
does not send anyone back to re-consent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.audit import audit_record
from portal.models import User

from .models import ConsentItem, ConsentState, ConsentVersion

__all__ = [
    "ActivationResult",
    "ItemChanges",
    "older_versions_needing_reconsent",
    "version_activate",
    "version_item_changes",
]

ACTION_VERSION_ACTIVATED = "consent.version_activated"


@dataclass(frozen=True)
class ItemChanges:
    """How ``new`` differs from ``old``, by item code."""

    added: tuple[str, ...]
    removed: tuple[str, ...]
    changed: tuple[str, ...]

    @property
    def any(self) -> bool:
        return bool(self.added or self.removed or self.changed)

    @property
    def codes(self) -> tuple[str, ...]:
        return self.added + self.changed + self.removed


@dataclass(frozen=True)
class ActivationResult:
    version: ConsentVersion
    superseded: ConsentVersion | None
    reconsent_due: int


def _fingerprints(items: Iterable[ConsentItem]) -> dict[str, tuple[str, bool, tuple[str, ...]]]:
    return {
        item.code: (" ".join(item.text.split()), item.required, tuple(sorted(item.duo_codes or [])))
        for item in items
    }


def version_item_changes(*, old: ConsentVersion, new: ConsentVersion) -> ItemChanges:
    old_items = _fingerprints(old.items.all())
    new_items = _fingerprints(new.items.all())
    return ItemChanges(
        added=tuple(sorted(set(new_items) - set(old_items))),
        removed=tuple(sorted(set(old_items) - set(new_items))),
        changed=tuple(
            sorted(
                code
                for code in set(old_items) & set(new_items)
                if old_items[code] != new_items[code]
            )
        ),
    )


def older_versions_needing_reconsent(
    version: ConsentVersion,
) -> dict[int, ItemChanges]:
    """Older versions of the same form and language whose items differ from ``version``'s."""
    older: QuerySet[ConsentVersion] = (
        ConsentVersion.objects.filter(form_id=version.form_id, language=version.language)
        .exclude(pk=version.pk)
        .exclude(status=ConsentVersion.Status.DRAFT)
        .prefetch_related("items")
    )
    result = {}
    for old in older:
        changes = version_item_changes(old=old, new=version)
        if changes.any:
            result[old.pk] = changes
    return result


def participants_to_reconsent(version: ConsentVersion) -> QuerySet[ConsentState]:
    """Consent states that activating ``version`` marks (or keeps) "re-consent due"."""
    return ConsentState.objects.filter(
        version_id__in=list(older_versions_needing_reconsent(version)),
        status__in=[ConsentState.Status.ACTIVE, ConsentState.Status.RECONSENT_DUE],
    )


@transaction.atomic
def version_activate(
    *, version: ConsentVersion, by: User, at: datetime | None = None
) -> ActivationResult:
    """Approved -> active. Supersedes the previous active version of the same form and language and
    marks everyone on an older, differing version "re-consent due". Refuses anything not approved."""
    now = at or timezone.now()
    version = ConsentVersion.objects.select_for_update().get(pk=version.pk)
    if version.status != ConsentVersion.Status.APPROVED:
        raise ValidationError(
            _("Only an approved version can be activated; this one is %(status)s.")
            % {"status": version.get_status_display()}
        )
    previous = (
        ConsentVersion.objects.select_for_update()
        .filter(
            form_id=version.form_id,
            language=version.language,
            status=ConsentVersion.Status.ACTIVE,
        )
        .first()
    )
    if previous is not None:
        previous.status = ConsentVersion.Status.SUPERSEDED
        previous.ended_at = now
        previous.save(update_fields=["status", "ended_at"])
    version.status = ConsentVersion.Status.ACTIVE
    version.activated_at = now
    update_fields = ["status", "activated_at"]
    if version.effective_from is None:
        version.effective_from = now
        update_fields.append("effective_from")
    version.save(update_fields=update_fields)

    marked = participants_to_reconsent(version).filter(status=ConsentState.Status.ACTIVE)
    reconsent_due = marked.update(status=ConsentState.Status.RECONSENT_DUE, updated_at=now)
    audit_record(
        action=ACTION_VERSION_ACTIVATED,
        actor=by,
        obj=version,
        details={
            "superseded_version": previous.pk if previous else None,
            "reconsent_due": reconsent_due,
        },
    )
    return ActivationResult(version=version, superseded=previous, reconsent_due=reconsent_due)
