"""A programme manager reads the impact of a new consent version, activates it and starts a
re-consent campaign, in Korean; every page is checked by axe-core."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from consent.models import ConsentState, ConsentVersion, ReconsentCampaign
from portal.roles import Role
from tests.browser.helpers import sign_in
from tests.consent.ledger_builders import ITEMS_V1, make_version, record
from tests.factories import ParticipantFactory, SiteFactory, UserFactory

pytestmark = pytest.mark.browser

YES = {"data_sharing": True, "sample_storage": True, "genomic_analysis": True, "recontact": True}


def test_manager_previews_impact_activates_and_starts_a_campaign(page, staff_user_with_totp):
    v1 = make_version("v1", activated_at=timezone.now() - dt.timedelta(days=60))
    site = SiteFactory(code="snuh", name="서울대학교병원")
    for _ in range(3):
        record(ParticipantFactory(site=site, user=UserFactory()), v1, YES)
    v2 = make_version("v2", [*ITEMS_V1, ("overseas_transfer", False)], status="approved")
    manager = staff_user_with_totp(Role.PROGRAMME_MANAGER)

    sign_in(page, manager.email)
    page.get_by_role("link", name="동의서 버전 시행").first.click()
    page.get_by_role("link", name="영향 확인 및 시행").click()
    assert page.locator("#impact-participants").inner_text() == "3"
    page.get_by_role("button", name="이 버전 시행").click()
    assert "영향을 확인했다는 확인란에 표시하세요." in page.content()
    page.get_by_label("위의 영향을 확인했으며 이 버전을 지금 시행하겠습니다.").check()
    page.get_by_role("button", name="이 버전 시행").click()
    page.wait_for_url("**/consent/activation/")
    assert ConsentVersion.objects.get(pk=v2.pk).status == "active"
    assert ConsentState.objects.filter(status="reconsent_due").count() == 3

    page.get_by_role("link", name="재동의 캠페인").first.click()
    page.get_by_label("이름 (선택)").fill("2026 봄 재동의")
    page.get_by_role("button", name="발송 시작").click()
    page.wait_for_url("**/consent/campaigns/*/")
    assert "서울대학교병원" in page.content()
    assert ReconsentCampaign.objects.get().invited_count == 3
