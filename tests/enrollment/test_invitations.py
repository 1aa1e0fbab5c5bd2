import datetime as dt

import pytest
from django.core import mail

from enrollment import messaging
from enrollment.audit import Action
from enrollment.models import Invitation
from enrollment.services import InvitationClaimRefused, invitation_claim, invitation_issue
from portal.models import AuditEvent
from tests.enrollment.people import (
    participant_with_profile,
    verify_email,
)
from tests.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("in_english")]


def verified_user():
    user = UserFactory()
    verify_email(user)
    return user


def patient(site):
    return participant_with_profile(site=site, kind="patient")


def test_issue_sends_the_code_by_mail_and_text_and_stores_only_a_digest(
    coordinator, site, django_capture_on_commit_callbacks
):
    participant = patient(site)
    with django_capture_on_commit_callbacks(execute=True):
        invitation, code = invitation_issue(participant=participant, by=coordinator)
    assert len(code) == 14 and code.count("-") == 2
    assert code.replace("-", "") not in invitation.code_digest
    assert code in mail.outbox[0].body
    assert code in messaging.outbox[0].body


def test_claim_links_the_account_with_code_and_birth_date(coordinator, site):
    participant = patient(site)
    _invitation, code = invitation_issue(participant=participant, by=coordinator, send=False)
    user = verified_user()
    claimed = invitation_claim(user=user, code=code.lower(), birth_date=dt.date(1985, 3, 14))
    assert claimed == participant
    participant.refresh_from_db()
    assert participant.user == user
    assert Invitation.objects.get().claimed_by == user
    # A code works once.
    with pytest.raises(InvitationClaimRefused):
        invitation_claim(user=verified_user(), code=code, birth_date=dt.date(1985, 3, 14))


def test_wrong_birth_date_or_code_is_refused_and_links_nothing(coordinator, site):
    participant = patient(site)
    _invitation, code = invitation_issue(participant=participant, by=coordinator, send=False)
    user = verified_user()
    with pytest.raises(InvitationClaimRefused, match="do not match"):
        invitation_claim(user=user, code=code, birth_date=dt.date(1985, 3, 15))
    with pytest.raises(InvitationClaimRefused, match="do not match"):
        invitation_claim(user=user, code="AAAA-BBBB-CCCC", birth_date=dt.date(1985, 3, 14))
    participant.refresh_from_db()
    assert participant.user is None
    assert AuditEvent.objects.filter(action=Action.INVITATION_CLAIM_FAILED).count() == 2


def test_claims_are_rate_limited_even_with_the_right_code_afterwards(coordinator, site, settings):
    settings.INVITATION_CLAIM_ATTEMPTS = 3
    participant = patient(site)
    _invitation, code = invitation_issue(participant=participant, by=coordinator, send=False)
    user = verified_user()
    for _ in range(3):
        with pytest.raises(InvitationClaimRefused, match="do not match"):
            invitation_claim(user=user, code="AAAA-BBBB-CCCC", birth_date=dt.date(1985, 3, 14))
    with pytest.raises(InvitationClaimRefused, match="Too many attempts"):
        invitation_claim(user=user, code=code, birth_date=dt.date(1985, 3, 14))
    participant.refresh_from_db()
    assert participant.user is None


def test_unverified_account_cannot_claim(coordinator, site):
    _invitation, code = invitation_issue(participant=patient(site), by=coordinator, send=False)
    with pytest.raises(InvitationClaimRefused, match="Confirm your e-mail"):
        invitation_claim(
            user=UserFactory(email_verified=False), code=code, birth_date=dt.date(1985, 3, 14)
        )


def test_a_new_code_replaces_the_old_one(coordinator, site):
    participant = patient(site)
    _first, old_code = invitation_issue(participant=participant, by=coordinator, send=False)
    _second, new_code = invitation_issue(participant=participant, by=coordinator, send=False)
    with pytest.raises(InvitationClaimRefused):
        invitation_claim(user=verified_user(), code=old_code, birth_date=dt.date(1985, 3, 14))
    assert (
        invitation_claim(user=verified_user(), code=new_code, birth_date=dt.date(1985, 3, 14))
        == participant
    )
