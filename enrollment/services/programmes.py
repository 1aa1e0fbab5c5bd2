"""Maintaining programmes, phases, targets, sites and cohorts (programme managers)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import TypeVar

from django.core.exceptions import ValidationError
from django.db import models, transaction
from django.utils.translation import gettext as _

from portal.audit import audit_record
from portal.korean import particle_format
from portal.models import User

from ..audit import Action
from ..models import Phase, PhaseTarget

M = TypeVar("M", bound=models.Model)


@transaction.atomic
def programme_object_save(*, obj: M, by: User, changed: list[str]) -> M:
    """Save a programme, phase, site or cohort that a validated form filled in, and audit it."""
    created = obj.pk is None
    if isinstance(obj, Phase):
        _phase_check_overlap(obj)
    obj.full_clean()
    obj.save()
    audit_record(
        action=Action.PROGRAMME_CHANGED,
        actor=by,
        obj=obj,
        details={"created": created, "fields": sorted(changed)},
    )
    return obj


def _phase_check_overlap(phase: Phase) -> None:
    others = Phase.objects.filter(
        programme_id=phase.programme_id,
        starts_on__lte=phase.ends_on,
        ends_on__gte=phase.starts_on,
    ).exclude(pk=phase.pk)
    clash = others.first()
    if clash is not None:
        raise ValidationError(
            {
                "starts_on": particle_format(
                    _(
                        "These dates overlap “%(other)s” (%(start)s to %(end)s) of the same programme."
                    ),
                    {"other": clash.label, "start": clash.starts_on, "end": clash.ends_on},
                )
            }
        )


@transaction.atomic
def phase_targets_set(
    *, phase: Phase, targets: Mapping[tuple[str, int | None], int | None], by: User
) -> None:
    """Replace the targets of ``phase``: key (cohort group or "", site id or None) -> target, or
    None to remove it. Group and site targets may not add up to more than the overall target."""
    overall = targets.get(("", None))
    if overall is not None:
        group_sum = sum(v or 0 for (g, s), v in targets.items() if g and s is None)
        site_sum = sum(v or 0 for (g, s), v in targets.items() if not g and s is not None)
        errors = []
        if group_sum > overall:
            errors.append(
                _("The cohort group targets add up to %(sum)s, more than the overall %(overall)s.")
                % {"sum": f"{group_sum:,}", "overall": f"{overall:,}"}
            )
        if site_sum > overall:
            errors.append(
                _("The site targets add up to %(sum)s, more than the overall %(overall)s.")
                % {"sum": f"{site_sum:,}", "overall": f"{overall:,}"}
            )
        if errors:
            raise ValidationError(errors)
    existing = {(t.cohort_group, t.site_id): t for t in PhaseTarget.objects.filter(phase=phase)}
    for (group, site_id), value in targets.items():
        current = existing.get((group, site_id))
        if value is None:
            if current is not None:
                current.delete()
        elif current is None:
            PhaseTarget.objects.create(
                phase=phase, cohort_group=group, site_id=site_id, target=value
            )
        elif current.target != value:
            current.target = value
            current.save(update_fields=["target"])
    audit_record(
        action=Action.PROGRAMME_CHANGED,
        actor=by,
        obj=phase,
        details={"targets": sum(1 for v in targets.values() if v is not None)},
    )
