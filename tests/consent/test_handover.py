"""The site tablet handed to a patient: the name check first, then no way out of the consent form
without the coordinator's password or authenticator code."""

import pyotp
import pytest
from django.urls import reverse

from enrollment.models import Site
from portal.audit import Action
from portal.models import AuditEvent
from portal.roles import Role
from tests.consent import signing_builders as ca
from tests.factories import DEFAULT_PASSWORD, TEST_TOTP_SECRET, SiteFactory, staff_user

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


@pytest.fixture
def handed_over(client):
    ca.active_version()
    site: Site = SiteFactory()
    coordinator = staff_user(Role.COORDINATOR, sites=[site], mfa=True, preferred_language="en")
    participant = ca.eligible_participant(site=site)
    client.force_login(coordinator)
    check = reverse("consent:site_handover", args=[participant.code, "tablet"])
    page = client.get(check).content.decode()
    assert ca.NAME in page  # the name to check aloud
    client.post(check)
    return {"participant": participant, "coordinator": coordinator}


def test_checking_the_name_is_an_audited_read_and_starts_the_hand_over(client, handed_over):
    participant = handed_over["participant"]
    assert AuditEvent.objects.filter(
        action="pii.viewed", object_id=str(participant.pk), reason="tablet hand-over check"
    ).exists()
    assert AuditEvent.objects.filter(action=Action.HANDOVER_STARTED).count() == 1
    record = reverse("consent:site_record", args=[participant.code, "tablet"])
    page = client.get(record).content.decode()
    # The patient sees no staff menu and no sign-out, only the way back to the coordinator.
    assert f'href="{reverse("staff_home")}"' not in page
    assert reverse("account_logout") not in page and 'aria-label="Main"' not in page
    assert reverse("handover_return") in page
    assert ">Clear the patient's signature</button>" in page
    assert ">Clear the investigator's signature</button>" in page


@pytest.mark.parametrize(
    "elsewhere",
    ["/staff/", "/site/consent/", "/accounts/logout/", "/admin/", "/sites/worklist/", "/"],
)
def test_every_other_page_leads_to_the_return_page(client, handed_over, elsewhere):
    assert client.get(elsewhere).url == reverse("handover_return")
    assert client.post(elsewhere).url == reverse("handover_return")


def test_the_api_refuses_while_handed_over(client, handed_over):
    response = client.get("/api/enrollment/participants/")
    assert response.status_code == 423 and response.json()["code"] == "handed_over"


def test_a_wrong_answer_keeps_the_lock_and_five_end_the_session(client, handed_over):
    url = reverse("handover_return")
    response = client.post(url, {"secret": "123456"})
    assert response.status_code == 400
    assert "Only the staff member" in response.content.decode()
    assert client.get("/staff/").url == url
    for _ in range(4):
        response = client.post(url, {"secret": "guess"})
    assert response.url == reverse("account_login")
    assert "_auth_user_id" not in client.session
    failed = AuditEvent.objects.filter(action=Action.HANDOVER_RETURNED, outcome="failed")
    assert failed.count() == 5


def test_the_coordinator_takes_it_back_with_an_authenticator_code(client, handed_over):
    code = pyotp.TOTP(TEST_TOTP_SECRET).now()
    response = client.post(reverse("handover_return"), {"secret": code})
    participant = handed_over["participant"]
    assert response.url == reverse("consent:site_participant", args=[participant.code])
    assert client.get("/staff/").status_code == 200


def test_the_coordinator_takes_it_back_with_the_password(client, handed_over):
    client.post(reverse("handover_return"), {"secret": DEFAULT_PASSWORD})
    assert client.get("/staff/").status_code == 200
    assert AuditEvent.objects.filter(action=Action.HANDOVER_RETURNED, outcome="ok").exists()


def test_paper_mode_needs_no_hand_over(client):
    ca.active_version()
    site: Site = SiteFactory()
    coordinator = staff_user(Role.COORDINATOR, sites=[site], mfa=True)
    participant = ca.eligible_participant(site=site)
    client.force_login(coordinator)
    url = reverse("consent:site_record", args=[participant.code, "paper"])
    assert client.get(url).status_code == 200
    assert (
        client.get(reverse("consent:site_handover", args=[participant.code, "paper"])).status_code
        == 404
    )
