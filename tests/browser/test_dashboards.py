"""A programme manager opens the national dashboard and sees charts, tables and downloads."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from enrollment.models import Phase, PhaseTarget, Programme
from enrollment.services.funnel import participant_transition
from portal.roles import Role
from tests.browser.helpers import sign_in
from tests.enrollment.funnel_helpers import registered, walk
from tests.factories import CohortFactory, SiteFactory

pytestmark = pytest.mark.browser


def _programme_with_participants() -> None:
    today = timezone.localdate()
    programme = Programme.objects.create(code="bdd", name="Bio Data Dam", total_target=1000)
    phase = Phase.objects.create(
        programme=programme,
        number=1,
        name="1단계",
        starts_on=today - dt.timedelta(days=500),
        ends_on=today + dt.timedelta(days=400),
    )
    PhaseTarget.objects.create(phase=phase, target=100)
    sites = [
        SiteFactory(code="snuh", name="서울대학교병원"),
        SiteFactory(code="pnuh", name="부산대학교병원"),
    ]
    rare = CohortFactory(
        code="rare", name="희귀질환", group="rare_disease", open_for_volunteers=False
    )
    for i in range(30):
        p = registered(
            site=sites[i % 2],
            cohort=rare if i % 4 == 0 else CohortFactory(),
            birth_year=1950 + i,
            sex="male" if i % 3 else "female",
        )
        walk(p, 1)
        if i % 5:
            at = timezone.now() - dt.timedelta(days=i * 13)
            participant_transition(participant=p, to_status="consented", actor=None, at=at)


def test_manager_sees_the_national_dashboard_with_charts(page, staff_user_with_totp):
    _programme_with_participants()
    manager = staff_user_with_totp(Role.PROGRAMME_MANAGER)
    sign_in(page, manager.email)
    page.locator('nav a[href="/dashboards/national/"]').click()
    page.wait_for_url("**/dashboards/national/")
    charts = page.locator("svg.chart[role=img]")
    assert charts.count() >= 6
    for i in range(charts.count()):
        chart = charts.nth(i)
        assert chart.is_visible()
        box = chart.bounding_box()
        assert box is not None and box["width"] > 300 and box["height"] > 80
        assert chart.locator("title").count() >= 1
    # The bars are drawn: the enrolled bar of the overall row has a width.
    assert page.locator("svg.chart rect.bar").count() > 10
    # Each chart's figures are there as a table, behind a disclosure.
    page.locator("details.data-table summary").first.click()
    assert page.locator("details.data-table table caption").first.is_visible()
    # And as a CSV download.
    with page.expect_download() as download:
        page.locator('a[href^="/dashboards/national/sites.csv"]').click()
    with open(download.value.path(), encoding="utf-8-sig") as csv_file:
        content = csv_file.read()
    assert "snuh" in content and "pnuh" in content
    # The phase filter keeps working.
    page.locator("#filter-site").select_option(label="snuh 서울대학교병원")
    page.locator("form.filters button[type=submit]").click()
    page.wait_for_url("**site=*")
    # One site has no target of its own, so no forecast chart; the others are drawn.
    assert page.locator("svg.chart").count() >= 5
