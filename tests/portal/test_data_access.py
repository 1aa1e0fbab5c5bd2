"""The role x data table, written once (docs/data-access.md = portal.roles.DATA_ACCESS), tested
as a matrix through the doors that hand out identifying data."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.http import Http404
from django.test import Client
from django.urls import reverse

from consent.services import receipt_issue
from enrollment import vault
from portal.audit import Action
from portal.machine_clients import CONSENT_CHECK, MachineClient
from portal.models import AuditEvent
from portal.roles import DATA_ACCESS, STAFF_ROLES, Data, Role, may_access
from tests.consent import signing_builders as ca
from tests.factories import SiteFactory, UserFactory, staff_user

pytestmark = pytest.mark.django_db

DOC = Path(__file__).resolve().parents[2] / "docs" / "data-access.md"
COLUMNS = [
    Role.COORDINATOR,
    Role.PROGRAMME_MANAGER,
    Role.ETHICS_REVIEWER,
    Role.DATA_STEWARD,
    Role.ADMIN,
]
SCOPES = frozenset({CONSENT_CHECK})
ROWS = {
    "identity": Data.IDENTITY,
    "consent receipt": Data.RECEIPT,
    "drawn signatures": Data.CONSENT_ARTIFACT,
}


def _staff(role: Role, site):
    return staff_user(
        role, sites=[site] if role in (Role.COORDINATOR, Role.ETHICS_REVIEWER) else [], mfa=True
    )


def test_the_documented_table_is_the_enforced_table():
    documented: dict[Data, frozenset[Role]] = {}
    for line in DOC.read_text().splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        data = next((d for prefix, d in ROWS.items() if cells[0].startswith(prefix)), None)
        if data is None:
            continue
        # The last column: machine clients, which have no role and may see none of it.
        assert len(cells) == len(COLUMNS) + 2, line
        documented[data] = frozenset(
            r for r, c in zip(COLUMNS, cells[1:-1], strict=True) if c == "yes"
        )
        assert cells[-1] == "no", line
        assert not may_access(MachineClient(name="dam", client_id="x", scopes=SCOPES), data)
    assert documented == DATA_ACCESS
    assert set(COLUMNS) == set(STAFF_ROLES)


@pytest.fixture
def signed():
    site = SiteFactory()
    version = ca.active_version()
    participant = ca.eligible_participant(site=site, user=UserFactory())
    event = ca.sign_all_yes(participant, version)
    receipt_issue(event_id=event.pk)  # made ahead, as the task after the commit does
    return site, participant, event


@pytest.mark.parametrize("role", COLUMNS)
def test_receipt_download_by_role(role, signed):
    site, _participant, event = signed
    user = _staff(role, site)
    client = Client()
    client.force_login(user)
    response = client.get(reverse("consent:receipt", args=[event.pk]))
    if role in DATA_ACCESS[Data.RECEIPT]:
        assert response.status_code == 200
        assert response["Content-Type"] == "application/pdf"
    else:
        assert response.status_code == 404
        assert AuditEvent.objects.filter(
            action=Action.PERMISSION_DENIED, actor=user, object_id=str(event.pk)
        ).exists()
        assert not AuditEvent.objects.filter(
            action=Action.PERSONAL_DATA_VIEWED, actor=user
        ).exists()


def test_programme_managers_and_data_stewards_cannot_download_receipts(signed):
    site, _participant, event = signed
    for role in (Role.PROGRAMME_MANAGER, Role.DATA_STEWARD):
        client = Client()
        client.force_login(_staff(role, site))
        assert client.get(reverse("consent:receipt", args=[event.pk])).status_code == 404


def test_the_participant_downloads_their_own_receipt(signed):
    _site, participant, event = signed
    client = Client()
    client.force_login(participant.user)
    assert client.get(reverse("consent:receipt", args=[event.pk])).status_code == 200


@pytest.mark.parametrize("role", COLUMNS)
def test_vault_read_by_role(role, signed):
    site, participant, _event = signed
    user = _staff(role, site)
    if role in DATA_ACCESS[Data.IDENTITY]:
        assert vault.personal_data_read(participant=participant, by=user, reason="test") is not None
    else:
        with pytest.raises(Http404):
            vault.personal_data_read(participant=participant, by=user, reason="test")
        assert not AuditEvent.objects.filter(
            action=Action.PERSONAL_DATA_VIEWED, actor=user
        ).exists()
