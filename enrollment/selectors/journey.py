"""The participant's steps on "My participation": registered, eligibility, visit, consent signed,
receipt; each with its state in words and, where the person can act, a link to do it.

Consent lives in the consent app, which enrollment must not import; it registers a provider
(``consent_progress_register``) that tells where the participant's consent stands. With none
registered, the consent steps are left out.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from django.urls import reverse
from django.utils.formats import date_format
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from ..models import Participant, ParticipantStatus, Visit, VisitStatus

__all__ = ["ConsentProgress", "JourneyStep", "consent_progress_register", "participant_journey"]

Text = str | Promise


@dataclass(frozen=True)
class JourneyStep:
    label: Text
    state: Text
    done: bool
    link_url: str = ""
    link_label: Text = ""


@dataclass(frozen=True)
class ConsentProgress:
    """Where the consent stands, as the consent app tells it."""

    signed: bool  # a consent in force (or partly withdrawn) was signed
    state: Text  # in words, e.g. "Signed on 2026-11-29" or the withdrawal level
    sign_url: str = ""  # where to sign (first time, again, or a new version), if open to them
    sign_label: Text = ""
    receipt_url: str = ""


ConsentProgressProvider = Callable[[Participant], ConsentProgress]
_providers: list[ConsentProgressProvider] = []


def consent_progress_register(provider: ConsentProgressProvider) -> None:
    if provider not in _providers:
        _providers.append(provider)


_SCREENED = frozenset(
    {
        ParticipantStatus.ELIGIBLE,
        ParticipantStatus.CONSENTED,
        ParticipantStatus.SAMPLE_COLLECTED,
        ParticipantStatus.IN_DAM,
    }
)


def _eligibility(participant: Participant) -> JourneyStep:
    status = participant.status
    if status in _SCREENED:
        return JourneyStep(_("Eligibility"), _("Confirmed: you can take part"), True)
    if status == ParticipantStatus.INELIGIBLE:
        return JourneyStep(
            _("Eligibility"),
            _("Not eligible at the moment"),
            False,
            reverse("enrollment:me_screening"),
            _("Answer the eligibility questions again"),
        )
    if status == ParticipantStatus.WITHDRAWN:
        return JourneyStep(_("Eligibility"), _("Withdrawn"), False)
    return JourneyStep(
        _("Eligibility"),
        _("To do"),
        False,
        reverse("enrollment:me_screening"),
        _("Answer the eligibility questions"),
    )


def _visit(participant: Participant, visit: Visit | None, *, collection_open: bool) -> JourneyStep:
    if visit is not None and visit.status == VisitStatus.BOOKED:
        state = _("Booked at %(site)s on %(day)s") % {
            "site": visit.site.label,
            "day": date_format(visit.day, "DATE_FORMAT"),
        }
        return JourneyStep(
            _("Visit"), state, True, reverse("enrollment:me_visit"), _("Change the day")
        )
    if visit is not None and visit.status == VisitStatus.ATTENDED:
        state = _("Visited on %(day)s") % {"day": date_format(visit.day, "DATE_FORMAT")}
        return JourneyStep(_("Visit"), state, True)
    if participant.status in (ParticipantStatus.SAMPLE_COLLECTED, ParticipantStatus.IN_DAM):
        return JourneyStep(_("Visit"), _("Samples given"), True)
    bookable = participant.status in (ParticipantStatus.ELIGIBLE, ParticipantStatus.CONSENTED)
    if bookable and collection_open:
        return JourneyStep(
            _("Visit"),
            _("Not booked yet"),
            False,
            reverse("enrollment:me_visit"),
            _("Book a visit"),
        )
    if bookable:
        return JourneyStep(_("Visit"), _("No visits: you stopped collection"), False)
    return JourneyStep(_("Visit"), _("After the eligibility questions"), False)


def _consent_steps(participant: Participant, consent: ConsentProgress) -> list[JourneyStep]:
    eligible = participant.status in _SCREENED
    can_sign = bool(consent.sign_url) and eligible
    sign = JourneyStep(
        _("Consent signed"),
        consent.state,
        consent.signed,
        consent.sign_url if can_sign else "",
        consent.sign_label if can_sign else "",
    )
    if consent.receipt_url:
        receipt = JourneyStep(
            _("Receipt"),
            _("Ready: a copy was also sent by e-mail"),
            True,
            consent.receipt_url,
            _("See the receipt"),
        )
    else:
        receipt = JourneyStep(_("Receipt"), _("After you sign"), False)
    return [sign, receipt]


def participant_journey(
    participant: Participant, visit: Visit | None, *, collection_open: bool = True
) -> list[JourneyStep]:
    """The steps in order, with the state of each and the link to act on it."""
    steps = [
        JourneyStep(_("Registered"), _("Done"), True),
        _eligibility(participant),
        _visit(participant, visit, collection_open=collection_open),
    ]
    for provider in _providers[:1]:
        steps += _consent_steps(participant, provider(participant))
    return steps
