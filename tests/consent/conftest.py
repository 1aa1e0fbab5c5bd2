"""Fixtures shared by the consent tests (the project-wide ones are in ``tests/conftest.py``).

Builders that make consent data (versions, participants, signatures, form data) are plain
functions in ``signing_builders`` and ``ledger_builders``; what a test needs ready-made is here.
"""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from consent.models import ConsentVersion
from enrollment.models import Participant
from portal.models import AuditEvent
from portal.roles import Role
from tests.consent import signing_builders as ca
from tests.factories import SiteFactory, UserFactory, staff_user


@pytest.fixture(autouse=True)
def _fast_passwords(fast_passwords: None) -> None:
    """Consent tests sign many accounts in; the real hasher is slow on purpose."""


@pytest.fixture
def version(db: None) -> ConsentVersion:
    """The main consent form's active Korean version, with items and comprehension questions."""
    return ca.active_version()


@pytest.fixture
def signed_in_participant(client: Client) -> Participant:
    """An eligible participant (김하늘, haneul@example.org) signed in with their own account."""
    user = UserFactory(email="haneul@example.org")
    participant = ca.eligible_participant(email="haneul@example.org")
    participant.user = user
    participant.save(update_fields=["user"])
    client.force_login(user)
    return participant


@pytest.fixture
def site_team(db: None) -> tuple[Any, Any, Any]:
    """A site and two of its coordinators (with two-factor authentication set up)."""
    site: Any = SiteFactory()
    first = staff_user(Role.COORDINATOR, sites=[site], mfa=True)
    second = staff_user(Role.COORDINATOR, sites=[site], mfa=True)
    return site, first, second


@pytest.fixture
def denials() -> Any:
    """Counts the ``access.denied`` audit rows naming one refusal: who, what, which, why (for
    refusals repeated in one test; ``tests.audits.assert_access_denied`` checks a single one)."""
    from portal.audit import Action

    def count(*, actor: Any, object_type: str, object_id: Any, reason: str) -> int:
        return AuditEvent.objects.filter(
            action=Action.PERMISSION_DENIED,
            outcome="denied",
            actor=actor,
            object_type=object_type,
            object_id=str(object_id),
            reason=reason,
        ).count()

    return count
