"""Several tubes at one visit: after a tube is recorded the form stays on the same participant."""

import re

import pytest
from django.urls import reverse
from django.utils import timezone

from dam.models import Sample
from portal.roles import Role
from tests.dam.custody_builders import consented
from tests.enrollment.funnel_helpers import sign_in
from tests.factories import staff_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


def test_after_a_tube_the_form_stays_on_the_participant_for_the_next(client, site):
    sign_in(client, staff_user(Role.COORDINATOR, sites=[site], mfa=True))
    participant = consented(site)
    tube = {
        "participant_code": participant.code,
        "sample_type": "SERUM",
        "collected_at": timezone.localtime().strftime("%Y-%m-%dT%H:%M"),
        "volume_ml": "3.0",
    }
    first = client.post(reverse("dam:samples"), {**tube, "barcode": "BDD-000101"}, follow=True)
    page = first.content.decode()
    assert f"Next tube for {participant.code}" in page
    assert f'value="{participant.code}"' in page
    (barcode_input,) = re.findall(r'<input[^>]*name="barcode"[^>]*>', page)
    assert "autofocus" in barcode_input
    client.post(reverse("dam:samples"), {**tube, "barcode": "BDD-000102"})
    assert set(
        Sample.objects.filter(participant=participant).values_list("barcode", flat=True)
    ) == {
        "BDD-000101",
        "BDD-000102",
    }


def test_the_participant_page_links_the_samples_once_consent_stands(client, site):
    sign_in(client, staff_user(Role.COORDINATOR, sites=[site], mfa=True))
    participant = consented(site)
    page = client.get(reverse("enrollment:site_participant", args=[participant.code]))
    assert "Next: record the samples" in page.content.decode()
    assert f"/dam/samples/?participant={participant.code}" in page.content.decode()
