"""Custody list pages stay at a fixed number of queries, and the admin shows custody records
read-only."""

import pytest
from django.urls import reverse
from django.utils import timezone

from dam.services import reidentification_request, sample_fate_record, sample_note_add
from dam.services.delivery import outbox_deliver
from dam.services.manifests import manifest_create, manifest_sample_add, manifest_submit
from dam.services.pseudonyms import pseudonym_of
from dam.services.reconciliation import reconciliation_run
from portal.roles import Role
from tests.dam.custody_builders import consented, tube, withdraw
from tests.enrollment.funnel_helpers import sign_in
from tests.factories import staff_user

pytestmark = pytest.mark.django_db


def _ship(site, coordinator, count):
    manifest = manifest_create(site=site, by=coordinator)
    for _ in range(count):
        sample = tube(consented(site), coordinator)
        manifest_sample_add(manifest=manifest, barcode=sample.barcode, by=coordinator)
    return manifest


def _queries_for(client, url, django_assert_max_num_queries, limit):
    with django_assert_max_num_queries(limit):
        response = client.get(url)
    assert response.status_code == 200
    return response


@pytest.mark.parametrize("count", [1, 6])
def test_coordinator_list_pages_have_a_fixed_query_count(
    client, site, count, django_assert_max_num_queries
):
    coordinator = staff_user(Role.COORDINATOR, sites=[site], mfa=True)
    draft = _ship(site, coordinator, count)
    manifest_submit(manifest=_ship(site, coordinator, count), by=coordinator)
    for _ in range(count):
        participant = consented(site)
        tube(participant, coordinator)
        withdraw(participant)
    sign_in(client, coordinator)
    _queries_for(client, reverse("dam:shipments"), django_assert_max_num_queries, 14)
    _queries_for(
        client, reverse("dam:shipment", args=[draft.code]), django_assert_max_num_queries, 18
    )
    _queries_for(client, reverse("dam:fates"), django_assert_max_num_queries, 14)


@pytest.mark.parametrize("count", [1, 6])
def test_steward_list_pages_have_a_fixed_query_count(
    client, site, count, django_assert_max_num_queries, dam_receiver
):
    coordinator = staff_user(Role.COORDINATOR, sites=[site])
    manifest = manifest_submit(manifest=_ship(site, coordinator, count), by=coordinator)
    asker = staff_user(Role.DATA_STEWARD, mfa=True)
    for _ in range(count):
        reidentification_request(
            pseudonym=pseudonym_of(participant=consented(site)),
            reason="A reason long enough to be stated properly.",
            by=asker,
        )
    assert outbox_deliver().error is None
    dam_receiver.subjects.clear()  # the dam "forgets" every subject: one finding each
    assert reconciliation_run().findings.count() >= count
    sign_in(client, staff_user(Role.DATA_STEWARD, mfa=True))
    _queries_for(client, reverse("dam:steward_manifests"), django_assert_max_num_queries, 14)
    _queries_for(
        client,
        reverse("dam:steward_manifest", args=[manifest.code]),
        django_assert_max_num_queries,
        14,
    )
    _queries_for(client, reverse("dam:reconciliation"), django_assert_max_num_queries, 14)
    _queries_for(client, reverse("dam:reidentifications"), django_assert_max_num_queries, 14)


def test_admin_lists_custody_records_read_only(client, site):
    coordinator = staff_user(Role.COORDINATOR, sites=[site])
    participant = consented(site)
    sample = tube(participant, coordinator)
    sample_note_add(sample=sample, kind="storage", text="Freezer B", by=coordinator)
    manifest = manifest_create(site=site, by=coordinator)
    withdraw(participant)
    sample_fate_record(sample=sample, fate="destroyed", done_at=timezone.now(), by=coordinator)
    admin_user = staff_user(Role.ADMIN, mfa=True, is_staff=True, is_superuser=True)
    client.force_login(admin_user)
    for model in (
        "manifest",
        "samplenote",
        "samplefate",
        "reidentificationrequest",
        "reconciliationrun",
    ):
        assert client.get(f"/admin/dam/{model}/").status_code == 200
    page = client.get(f"/admin/dam/manifest/{manifest.pk}/change/")
    assert page.status_code == 200
    assert 'name="code"' not in page.content.decode()
