"""Putting an approved consent version into force: approved -> active.

The previous active version of the same form and language is superseded, and everyone whose consent
is on an older version whose items differ (``consent.selectors.activation``) is marked "re-consent
due" in one set-based UPDATE.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from portal.audit import audit_record
from portal.models import User

from ..models import ConsentState, ConsentVersion
from ..selectors.activation import participants_to_reconsent

__all__ = ["ActivationResult", "version_activate"]

ACTION_VERSION_ACTIVATED = "consent.version_activated"


@dataclass(frozen=True)
class ActivationResult:
    version: ConsentVersion
    superseded: ConsentVersion | None
    reconsent_due: int


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
