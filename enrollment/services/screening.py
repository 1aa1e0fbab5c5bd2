"""The eligibility screen: age from the vault, plus the cohort's yes/no questions."""

from __future__ import annotations

from collections.abc import Mapping

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from portal.models import User

from .. import vault
from ..models import (
    Cohort,
    Participant,
    ParticipantKind,
    ParticipantStatus,
    Screening,
    ScreeningQuestion,
)
from . import funnel

UNDERAGE = "underage"


def screening_questions_for(cohort: Cohort) -> list[ScreeningQuestion]:
    return list(cohort.screening_questions.filter(is_active=True).order_by("order", "id"))


def minimum_age(participant: Participant) -> int:
    """Volunteers must be of legal age; patients follow their cohort (minors via a guardian)."""
    if participant.kind == ParticipantKind.VOLUNTEER:
        return max(settings.LEGAL_AGE, participant.cohort.min_age)
    if participant.is_minor:
        return 0
    return participant.cohort.min_age


@transaction.atomic
def participant_screen(
    *, participant: Participant, answers: Mapping[int, bool], by: User | None
) -> Screening:
    """Record a screen and move the participant to eligible or ineligible through the funnel.

    Every screen is kept. An ineligible participant may be screened again (e.g. after a wrong
    answer); an eligible one, or one further along, is not screened again.
    """
    if participant.status not in (ParticipantStatus.REGISTERED, ParticipantStatus.INELIGIBLE):
        raise ValidationError(_("The eligibility screen has already been passed."), code="done")
    profile = vault.profile_for_participant(participant)
    if profile is None:
        raise ValidationError(_("Fill in the profile before the screen."), code="profile")
    questions = screening_questions_for(participant.cohort)
    missing = [q for q in questions if q.pk not in answers]
    if missing:
        raise ValidationError(_("Answer every question."), code="incomplete")
    age = profile.age_on(timezone.localdate())
    reasons: list[str] = []
    if age < minimum_age(participant):
        reasons.append(UNDERAGE)
    reasons.extend(
        f"question:{q.pk}" for q in questions if bool(answers[q.pk]) != q.eligible_answer
    )
    screening = Screening.objects.create(
        participant=participant,
        by=by,
        age=max(age, 0),
        answers={str(q.pk): bool(answers[q.pk]) for q in questions},
        eligible=not reasons,
        reasons=reasons,
    )
    target = ParticipantStatus.INELIGIBLE if reasons else ParticipantStatus.ELIGIBLE
    if participant.status != target:
        funnel.participant_transition(
            participant=participant,
            to_status=target,
            actor=by,
            reason=UNDERAGE if UNDERAGE in reasons else ("screening" if reasons else ""),
        )
    return screening
