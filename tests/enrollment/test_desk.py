"""The coordinator's desk: the visit worklist over upcoming days, the next step after enrolling,
and the staff home that shows each role's work."""

import datetime as dt

import pytest
from django.urls import reverse
from django.utils import timezone

from enrollment.models import Visit
from portal.roles import Role
from tests.enrollment.funnel_helpers import sign_in
from tests.enrollment.people import eligible
from tests.factories import CohortFactory, SiteFactory, staff_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


@pytest.fixture
def desk(client, site):
    coordinator = sign_in(client, staff_user(Role.COORDINATOR, sites=[site], mfa=True))
    return client, coordinator


def visit_on(site, day, **people):
    return Visit.objects.create(participant=eligible(site=site, **people), site=site, day=day)


def test_worklist_shows_the_coming_week_grouped_by_day(desk, site):
    client, _coordinator = desk
    today = timezone.localdate()
    now = visit_on(site, today)
    soon = visit_on(site, today + dt.timedelta(days=3), phone="010-3333-4444", email="b@e.org")
    later = visit_on(site, today + dt.timedelta(days=20), phone="010-5555-6666", email="c@e.org")
    elsewhere = SiteFactory()
    other = visit_on(elsewhere, today, phone="010-7777-8888", email="d@e.org")
    page = client.get(reverse("enrollment:site_worklist")).content.decode()
    assert now.participant.code in page and soon.participant.code in page
    assert later.participant.code not in page and other.participant.code not in page
    soon_day = (today + dt.timedelta(days=3)).strftime("%A")
    assert (
        page.index(now.participant.code) < page.index(soon_day) < page.index(soon.participant.code)
    )
    # A future visit cannot be recorded yet: no attended button for it.
    assert page.count('value="attended"') == 1


def test_worklist_takes_a_date_range_and_says_what_is_wrong_with_a_bad_one(desk, site):
    client, _coordinator = desk
    later_day = timezone.localdate() + dt.timedelta(days=20)
    later = visit_on(site, later_day)
    url = reverse("enrollment:site_worklist")
    page = client.get(url, {"from": later_day.isoformat(), "to": later_day.isoformat()})
    assert later.participant.code in page.content.decode()
    for bad in (
        {"from": "tomorrow"},
        {"from": "2026-12-10", "to": "2026-12-01"},
        {"from": "2026-01-01", "to": "2026-12-31"},
    ):
        response = client.get(url, bad)
        assert response.status_code == 200
        assert 'role="alert"' in response.content.decode()


def test_after_enrolling_a_patient_the_page_links_record_consent(desk, site):
    client, _coordinator = desk
    cohort = CohortFactory(code="rare", group="rare_disease", open_for_volunteers=False)
    response = client.post(
        reverse("enrollment:site_enroll"),
        {
            "site": site.pk,
            "cohort": cohort.pk,
            "name": "김환자",
            "latin_name": "Kim Hwanja",
            "birth_date": "1970-03-01",
            "sex": "female",
            "phone": "010-2345-6789",
            "email": "",
            "external_ref": "MRN-1",
        },
        follow=True,
    )
    page = response.content.decode()
    assert "Patient enrolled with code" in page, page[:3000]
    assert "Next step" in page and "Next: record consent" in page
    code = response.redirect_chain[-1][0].rstrip("/").rsplit("/", 1)[1]
    assert reverse("consent:site_participant", args=[code]) in page


def test_staff_home_shows_the_coordinators_work_with_counts_and_links(desk, site):
    client, _coordinator = desk
    visit_on(site, timezone.localdate())
    page = client.get(reverse("staff_home")).content.decode()
    assert "Visits today" in page and "Consents waiting for a check" in page
    assert reverse("enrollment:site_worklist") in page and reverse("consent:site_worklist") in page
    card = page[page.index("Visits today") :]
    assert '<span class="figure">1</span>' in card[:200]


@pytest.mark.parametrize(
    ("role", "expected", "absent"),
    [
        (Role.PROGRAMME_MANAGER, "Enrolled (consent stands)", "Visits today"),
        (Role.DATA_STEWARD, "Dead letters", "Visits today"),
        (Role.ETHICS_REVIEWER, "Re-consent campaigns running", "Dead letters"),
    ],
)
def test_staff_home_shows_each_roles_own_work(client, role, expected, absent):
    sign_in(client, staff_user(role, mfa=True))
    page = client.get(reverse("staff_home")).content.decode()
    assert expected in page and absent not in page
