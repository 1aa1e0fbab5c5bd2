"""A data steward asks the dam about a shipped manifest now, from the manifest's page."""

from __future__ import annotations

import pytest

from dam.services.delivery import outbox_deliver
from dam.services.manifests import manifest_create, manifest_sample_add, manifest_submit
from portal.models import AuditEvent
from portal.roles import Role
from tests.browser.helpers import sign_in
from tests.dam.custody_builders import consented, tube
from tests.dam.receiver import DamReceiver
from tests.factories import SiteFactory

pytestmark = pytest.mark.browser


@pytest.fixture
def dam_receiver(settings):
    """The strict loopback dam; the live server (a thread of this process) shares the settings."""
    receiver = DamReceiver().start()
    settings.DAM_TRANSPORT = "http"
    settings.DAM_URL = receiver.url
    settings.DAM_KEY_ID = receiver.key_id
    settings.DAM_SECRET = receiver.secret
    settings.DAM_TIMEOUT_SECONDS = 5
    yield receiver
    receiver.stop()


def test_steward_checks_a_manifest_with_the_dam_now(page, staff_user_with_totp, dam_receiver):
    site = SiteFactory(code="snuh", name="서울대학교병원")
    coordinator = staff_user_with_totp(Role.COORDINATOR, sites=[site])
    participant = consented(site)
    arrived, lost = tube(participant, coordinator), tube(participant, coordinator)
    manifest = manifest_create(site=site, by=coordinator)
    for sample in (arrived, lost):
        manifest_sample_add(manifest=manifest, barcode=sample.barcode, by=coordinator)
    manifest = manifest_submit(manifest=manifest, by=coordinator)
    assert outbox_deliver().error is None
    dam_receiver.receive(manifest.code, [arrived.barcode])

    steward = staff_user_with_totp(Role.DATA_STEWARD)
    sign_in(page, steward.email)
    page.goto(f"/dam/steward/manifests/{manifest.code}/")
    row = page.locator(f'#lines tr[data-barcode="{arrived.barcode}"] td').last
    assert arrived.barcode not in row.inner_text() and "(" not in row.inner_text()

    with page.expect_navigation():
        page.locator(f'form[action$="/{manifest.code}/check/"] button').click()
    page.wait_for_url(f"**/dam/steward/manifests/{manifest.code}/")
    assert "1" in page.locator(".messages").inner_text()
    # The received tube now shows when the dam reported it; the other one is reported missing.
    assert "(" in page.locator(f'#lines tr[data-barcode="{arrived.barcode}"] td').last.inner_text()
    assert {line.sample.barcode: line.dam_status for line in manifest.lines.all()} == {
        arrived.barcode: "received",
        lost.barcode: "missing",
    }
    assert AuditEvent.objects.filter(action="manifest.checked", actor=steward).count() == 1
