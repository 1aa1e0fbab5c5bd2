"""What putting an approved consent version into force would change (reads only).

``consent.services.activation.version_activate`` does the activation: the previous active version
of the same form and language is superseded, and everyone whose consent is on an older version
*whose items differ* is marked "re-consent due" in one set-based UPDATE. Their earlier choices
stand; items the new version adds count as "no" until they re-consent (see
``consent.selectors.checks``).

Which older versions "differ": any item added or removed, or any item whose text, "required" flag
or DUO terms changed. A version that only fixes the body's wording and keeps every item as it was
does not send anyone back to re-consent.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from django.db.models import QuerySet

from ..models import ConsentItem, ConsentState, ConsentVersion

__all__ = [
    "ItemChanges",
    "older_versions_needing_reconsent",
    "participants_to_reconsent",
    "version_item_changes",
]


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
