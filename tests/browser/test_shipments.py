"""A coordinator prepares a manifest, sees the line consent holds back, and submits it."""

from __future__ import annotations

import pytest

from dam.models import Manifest, MessageType, OutboxMessage
from portal.roles import Role
from tests.browser.helpers import sign_in
from tests.dam.custody_builders import consented, tube, withdraw
from tests.factories import SiteFactory

pytestmark = pytest.mark.browser


def test_coordinator_builds_reviews_and_submits_a_manifest(page, staff_user_with_totp):
    site = SiteFactory(code="snuh", name="서울대학교병원")
    coordinator = staff_user_with_totp(Role.COORDINATOR, sites=[site])
    keeps, leaves = consented(site), consented(site)
    kept, gone = tube(keeps, coordinator), tube(leaves, coordinator)
    sign_in(page, coordinator.email)

    page.locator('nav a[href="/dam/shipments/"]').click()
    page.wait_for_url("**/dam/shipments/")
    with page.expect_navigation():
        page.locator("main form button.primary").click()
    manifest = Manifest.objects.get()
    page.wait_for_url(f"**/dam/shipments/{manifest.code}/")

    for barcode in (kept.barcode, gone.barcode, "BDD-999999"):
        page.locator("#id_barcode").fill(barcode)
        with page.expect_navigation():
            page.locator("#add-sample").click()
    # The unknown barcode is refused with a clear message; the two tubes are on the manifest.
    assert page.locator(".errorlist[role=alert]").count() >= 1
    lines = page.locator("#lines tbody")
    assert kept.barcode in lines.inner_text() and gone.barcode in lines.inner_text()

    # The participant withdraws before the shipment goes: the review shows the line held back.
    withdraw(leaves)
    page.reload()
    held = page.locator(f'#lines tr[data-barcode="{gone.barcode}"]')
    assert "line-held" in (held.get_attribute("class") or "")
    assert page.locator("p.message[role=status]").count() == 1

    with page.expect_navigation():
        page.locator("#submit-manifest").click()
    assert page.locator(".messages").inner_text().strip() != ""
    assert page.locator(".manifest-state").inner_text().strip() != ""
    manifest.refresh_from_db()
    assert manifest.state == "submitted"
    message = OutboxMessage.objects.get(type=MessageType.MANIFEST_SUBMITTED)
    assert [s["sample_id"] for s in message.payload["samples"]] == [kept.barcode]
    assert "line-held" in (
        page.locator(f'#lines tr[data-barcode="{gone.barcode}"]').get_attribute("class") or ""
    )
