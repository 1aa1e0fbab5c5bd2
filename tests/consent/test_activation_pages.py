"""Impact preview and activation, on the page and in the report; campaign pages."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from consent.models import ConsentState, ConsentVersion, ReconsentCampaign
from consent.selectors.impact import version_impact
from dam.models import Sample
from portal.roles import Role
from tests.audits import assert_access_denied
from tests.consent.ledger_builders import ITEMS_V1, make_version, record
from tests.factories import ParticipantFactory, SiteFactory, UserFactory, staff_user

pytestmark = pytest.mark.django_db

YES = {"data_sharing": True, "sample_storage": True, "genomic_analysis": True, "recontact": True}


@pytest.fixture
def setup() -> dict[str, Any]:
    """Two sites; site A has 3 participants on v1 (with 2 samples), site B 1; v2 adds an item."""
    v1 = make_version("v1", activated_at=timezone.now() - dt.timedelta(days=90))
    site_a: Any = SiteFactory(code="a-site")
    site_b: Any = SiteFactory(code="b-site")
    people = [ParticipantFactory(site=site_a) for _ in range(3)] + [ParticipantFactory(site=site_b)]
    for p in people:
        record(p, v1, YES)
    withdrawn = ParticipantFactory(site=site_a)
    record(withdrawn, v1, YES)
    record(withdrawn, v1, YES, kind="withdraw", withdrawal_level="no_further_use")
    recorder = UserFactory()
    for n, p in enumerate(people[:2]):
        Sample.objects.create(
            barcode=f"TUBE-{n}",
            participant=p,
            sample_type="SERUM",
            collected_at=timezone.now(),
            volume_ml=Decimal("5.0"),
            site=p.site,
            recorded_by=recorder,
        )
    v2 = make_version("v2", [*ITEMS_V1, ("overseas_transfer", False)], status="approved")
    # A wording-only version (same items) of another language does not count.
    return {"v1": v1, "v2": v2, "people": people, "site_a": site_a, "site_b": site_b}


def test_impact_counts_participants_and_samples_per_site(setup):
    impact = version_impact(version=setup["v2"])
    assert impact.participants == 4
    assert impact.samples == 2
    assert impact.items_forcing_reconsent == ["overseas_transfer"]
    assert {p.code for p in impact.purposes_held_back} >= {"overseas_research"}
    per_site = {s.site_code: (s.participants, s.samples) for s in impact.per_site}
    assert per_site == {"a-site": (3, 2), "b-site": (1, 0)}
    only_b = version_impact(version=setup["v2"], site_ids=frozenset({setup["site_b"].pk}))
    assert only_b.participants == 1


def test_same_items_need_no_reconsent(setup):
    v1b = make_version("v1b", ITEMS_V1, status="approved")
    assert version_impact(version=v1b).participants == 0


def manager_client() -> Client:
    client = Client()
    client.force_login(staff_user(Role.PROGRAMME_MANAGER, mfa=True))
    return client


def test_manager_sees_impact_then_confirms_activation(setup):
    client = manager_client()
    url = f"/consent/activation/{setup['v2'].pk}/"
    page = client.get(url)
    assert page.status_code == 200
    html = page.content.decode()
    assert 'id="impact-participants">4<' in html
    assert 'id="impact-samples">2<' in html
    # Without the confirmation box ticked nothing happens.
    client.post(url, {})
    assert ConsentVersion.objects.get(pk=setup["v2"].pk).status == "approved"
    response = client.post(url, {"confirm": "yes"})
    assert response.status_code == 302
    assert ConsentVersion.objects.get(pk=setup["v2"].pk).status == "active"
    assert ConsentVersion.objects.get(pk=setup["v1"].pk).status == "superseded"
    assert ConsentState.objects.filter(status="reconsent_due").count() == 4


def test_ethics_reviewer_sees_the_impact_but_cannot_activate(setup):
    reviewer = staff_user(Role.ETHICS_REVIEWER, mfa=True, all_sites=True)
    client = Client()
    client.force_login(reviewer)
    url = f"/consent/activation/{setup['v2'].pk}/"
    page = client.get(url)
    assert page.status_code == 200
    assert "confirm" not in page.content.decode()
    assert client.post(url, {"confirm": "yes"}).status_code == 403
    assert ConsentVersion.objects.get(pk=setup["v2"].pk).status == "approved"


def test_coordinator_cannot_open_activation(setup):
    elsewhere: Any = SiteFactory()
    coordinator = staff_user(Role.COORDINATOR, sites=[elsewhere], mfa=True)
    client = Client()
    client.force_login(coordinator)
    assert client.get(f"/consent/activation/{setup['v2'].pk}/").status_code == 404
    assert_access_denied(
        actor=coordinator, object_type="view", object_id="activation_preview", reason="role"
    )


def test_campaign_started_from_the_page_shows_progress_per_site(setup, settings):
    client = manager_client()
    client.post(f"/consent/activation/{setup['v2'].pk}/", {"confirm": "yes"})
    listing = client.get("/consent/campaigns/")
    assert listing.status_code == 200
    response = client.post("/consent/campaigns/", {"version": setup["v2"].pk, "name": "Spring"})
    campaign = ReconsentCampaign.objects.get()
    assert response.status_code == 302
    assert campaign.invited_count == 4
    detail = client.get(f"/consent/campaigns/{campaign.pk}/").content.decode()
    assert "a-site" in detail and "b-site" in detail
    client.post(f"/consent/campaigns/{campaign.pk}/steer/", {"action": "close"})
    campaign.refresh_from_db()
    assert campaign.status == "closed"


def test_starting_a_campaign_for_a_non_active_version_is_refused_plainly(setup):
    client = manager_client()
    response = client.post("/consent/campaigns/", {"version": setup["v2"].pk}, follow=True)
    assert response.status_code == 200
    assert not ReconsentCampaign.objects.exists()
