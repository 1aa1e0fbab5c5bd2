"""A coordinator records a tube for a consented participant from the worklist."""

from __future__ import annotations

import pytest

from dam.models import Sample
from portal.roles import Role
from tests.browser.helpers import sign_in
from tests.dam.custody_builders import consented
from tests.enrollment.funnel_helpers import registered, walk
from tests.factories import SiteFactory

pytestmark = pytest.mark.browser


def test_coordinator_records_a_sample_from_the_worklist(page, staff_user_with_totp):
    site = SiteFactory(code="snuh", name="서울대학교병원")
    waiting = consented(site)
    not_yet = walk(registered(site=site), 1)  # eligible only
    coordinator = staff_user_with_totp(Role.COORDINATOR, sites=[site])
    sign_in(page, coordinator.email)
    page.locator('nav a[href="/dam/samples/"]').click()
    page.wait_for_url("**/dam/samples/")
    worklist = page.locator("section[aria-labelledby=worklist-heading] table")
    assert waiting.code in worklist.inner_text()
    assert not_yet.code not in worklist.inner_text()

    # A participant who has not consented is refused with a clear message.
    page.locator("#id_participant_code").fill(not_yet.code)
    page.locator("#id_barcode").fill("BDD-000001")
    page.locator("#id_volume_ml").fill("4")
    with page.expect_navigation():
        page.locator("main form button.primary").click()
    assert page.locator(".errorlist[role=alert]").count() >= 1
    assert not Sample.objects.exists()

    page.locator(f'a[href^="?participant={waiting.code}"]').click()
    assert page.locator("#id_participant_code").input_value() == waiting.code
    page.locator("#id_barcode").fill("BDD-000002")
    page.locator("#id_sample_type").select_option("SERUM")
    page.locator("#id_volume_ml").fill("3.5")
    with page.expect_navigation():
        page.locator("main form button.primary").click()
    assert page.locator(".messages").inner_text().strip() != ""
    assert "BDD-000002" in page.locator("section[aria-labelledby=recent-heading]").inner_text()
    waiting.refresh_from_db()
    assert waiting.status == "sample_collected"
