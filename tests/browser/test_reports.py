"""An ethics reviewer asks for a consent report, watches it being generated and downloads it."""

from __future__ import annotations

import datetime as dt
import subprocess

import pytest
from django.utils import timezone

from portal.roles import Role
from tests.browser.helpers import sign_in
from tests.consent import signing_builders as ca
from tests.factories import SiteFactory

pytestmark = pytest.mark.browser


def test_a_reviewer_exports_the_consent_report_and_downloads_it(
    page, staff_user_with_totp, tmp_path
):
    site = SiteFactory(code="snuh", name="서울대학교병원")
    version = ca.active_version()
    for _ in range(2):
        ca.sign_all_yes(ca.eligible_participant(site=site), version)
    reviewer = staff_user_with_totp(Role.ETHICS_REVIEWER, sites=[site])
    sign_in(page, reviewer.email)
    page.locator('nav a[href="/reports/"]').click()
    page.wait_for_url("**/reports/")
    page.locator("#id_form").select_option(str(version.form_id))
    today = timezone.localdate()
    page.locator("#id_first_day").fill((today - dt.timedelta(days=300)).isoformat())
    page.locator("#id_last_day").fill(today.isoformat())
    page.locator("#id_reason").fill("정기 심의")
    page.locator("#id_fmt").select_option("pdf")
    page.get_by_role("button", name="보고서 내보내기").or_(
        page.get_by_role("button", name="Export the report")
    ).click()
    # The test settings run Celery tasks eagerly, so the answer comes once the file is made.
    page.wait_for_url("**/reports/jobs/**", timeout=90_000)
    link = page.locator('a[href$="/download"]')
    link.wait_for(timeout=60_000)
    with page.expect_download() as download:
        link.click()
    path = tmp_path / "report.pdf"
    download.value.save_as(path)
    text = subprocess.run(
        ["pdftotext", str(path), "-"], capture_output=True, text=True, check=True
    ).stdout
    assert "서울대학교병원" in text and "정기 심의" in text
