"""What the consent app offers on enrollment's pages (registered in ``ConsentConfig.ready``)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from django.urls import reverse
from django.utils.translation import gettext as _

from enrollment.models import Participant, ParticipantStatus

# Before consent stands, recording it is the coordinator's next step (an ineligible or withdrawn
# participant has none here).
_AWAITING_CONSENT = frozenset({ParticipantStatus.REGISTERED, ParticipantStatus.ELIGIBLE})


def record_consent_step(participant: Participant) -> Sequence[Mapping[str, str]]:
    if participant.status not in _AWAITING_CONSENT:
        return []
    return [
        {
            "label": _("Next: record consent"),
            "url": reverse("consent:site_participant", args=[participant.code]),
        }
    ]
