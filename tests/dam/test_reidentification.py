"""Re-identification: a stated reason, a second data steward, audited, shown once."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.urls import reverse
from django.utils import translation

from dam.models import ReidentificationRequest
from dam.pseudonyms import ALPHABET, pseudonym_generate
from dam.services import (
    reidentification_decide,
    reidentification_request,
    reidentification_reveal,
)
from dam.services.pseudonyms import pseudonym_of
from portal.models import AuditEvent
from portal.roles import Role
from tests.dam.custody_builders import consented
from tests.enrollment.funnel_helpers import sign_in
from tests.factories import staff_user

pytestmark = pytest.mark.django_db

REASON = "Incidental finding that the participant asked to be told about (ticket 4711)."


@pytest.fixture(autouse=True)
def _english(client, settings):
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    with translation.override("en"):
        yield


@pytest.fixture
def stewards(db):
    return (
        staff_user(Role.DATA_STEWARD, mfa=True),
        staff_user(Role.DATA_STEWARD, mfa=True),
    )


@pytest.fixture
def subject(site):
    participant = consented(site)
    return participant, pseudonym_of(participant=participant)


def _mistyped(code: str) -> str:
    replacement = next(c for c in ALPHABET if c != code[3])
    return code[:3] + replacement + code[4:]


def _actions(request):
    return list(
        AuditEvent.objects.filter(
            object_type="dam.reidentificationrequest", object_id=str(request.pk)
        )
        .order_by("id")
        .values_list("action", "outcome")
    )


def test_request_approve_reveal_is_audited_at_every_step(stewards, subject):
    asker, approver = stewards
    participant, code = subject
    request = reidentification_request(pseudonym=code.lower(), reason=REASON, by=asker)
    assert (request.state, request.pseudonym) == ("pending", code)
    reidentification_decide(request=request, approve=True, by=approver)
    revealed = reidentification_reveal(request=request, by=asker)
    assert revealed == participant
    assert _actions(request) == [
        ("reidentification.requested", "ok"),
        ("reidentification.approved", "ok"),
        ("reidentification.revealed", "ok"),
    ]
    reveal = AuditEvent.objects.get(action="reidentification.revealed")
    assert reveal.actor == asker and reveal.details == {"participant_id": participant.pk}


def test_nobody_approves_their_own_request(stewards, subject):
    asker, _approver = stewards
    request = reidentification_request(pseudonym=subject[1], reason=REASON, by=asker)
    with pytest.raises(PermissionDenied):
        reidentification_decide(request=request, approve=True, by=asker)
    request.refresh_from_db()
    assert request.state == "pending"
    assert ("reidentification.approved", "denied") in _actions(request)
    # The database holds the rule too.
    with pytest.raises(IntegrityError), transaction.atomic():
        ReidentificationRequest.objects.filter(pk=request.pk).update(decided_by=asker)


def test_identity_is_shown_once_and_only_to_the_requester(stewards, subject):
    asker, approver = stewards
    request = reidentification_request(pseudonym=subject[1], reason=REASON, by=asker)
    with pytest.raises(ValidationError, match="not been approved"):
        reidentification_reveal(request=request, by=asker)
    reidentification_decide(request=request, approve=True, by=approver)
    with pytest.raises(PermissionDenied):
        reidentification_reveal(request=request, by=approver)
    reidentification_reveal(request=request, by=asker)
    with pytest.raises(ValidationError, match="already shown once"):
        reidentification_reveal(request=request, by=asker)


def test_refusal_needs_a_note_and_ends_the_request(stewards, subject):
    asker, approver = stewards
    request = reidentification_request(pseudonym=subject[1], reason=REASON, by=asker)
    with pytest.raises(ValidationError):
        reidentification_decide(request=request, approve=False, by=approver)
    reidentification_decide(
        request=request, approve=False, by=approver, note="Not covered by the protocol."
    )
    with pytest.raises(ValidationError, match="not been approved"):
        reidentification_reveal(request=request, by=asker)
    assert ("reidentification.refused", "ok") in _actions(request)


def test_mistyped_pseudonym_unknown_pseudonym_and_short_reason_are_refused(stewards, subject):
    asker, _approver = stewards
    with pytest.raises(ValidationError) as refused:
        reidentification_request(pseudonym=_mistyped(subject[1]), reason="why", by=asker)
    assert "typing mistake" in refused.value.message_dict["pseudonym"][0]
    assert "reason" in refused.value.message_dict
    unknown = pseudonym_generate()
    with pytest.raises(ValidationError, match="No participant has this pseudonym"):
        reidentification_request(pseudonym=unknown, reason=REASON, by=asker)
    assert not ReidentificationRequest.objects.exists()


def test_other_roles_cannot_request(subject):
    coordinator = staff_user(Role.COORDINATOR, sites=[subject[0].site])
    with pytest.raises(PermissionDenied):
        reidentification_request(pseudonym=subject[1], reason=REASON, by=coordinator)


def test_pages_request_decide_and_reveal_once(client, stewards, subject):
    asker, approver = stewards
    participant, code = subject
    url = reverse("dam:reidentifications")
    sign_in(client, asker)
    response = client.post(url, {"pseudonym": code, "reason": REASON}, follow=True)
    assert "A second data steward must approve it." in response.content.decode()
    request = ReidentificationRequest.objects.get()
    # The requester sees no approve button on their own request.
    assert (
        reverse("dam:reidentification_decision", args=[request.pk]) not in response.content.decode()
    )

    sign_in(client, approver)
    page = client.get(url).content.decode()
    assert reverse("dam:reidentification_decision", args=[request.pk]) in page
    client.post(
        reverse("dam:reidentification_decision", args=[request.pk]), {"decision": "approve"}
    )

    sign_in(client, asker)
    listing = client.get(url).content.decode()
    assert participant.code not in listing
    shown = client.post(reverse("dam:reidentification_reveal", args=[request.pk]))
    assert shown.status_code == 200
    assert participant.code in shown.content.decode()
    assert shown["Cache-Control"] == "no-store"
    again = client.post(reverse("dam:reidentification_reveal", args=[request.pk]), follow=True)
    assert participant.code not in again.content.decode()
    assert "already shown once" in again.content.decode()
    assert participant.code not in client.get(url).content.decode()


def test_page_is_for_data_stewards_only(client, site):
    sign_in(client, staff_user(Role.COORDINATOR, sites=[site], mfa=True))
    assert client.get(reverse("dam:reidentifications")).status_code == 404
