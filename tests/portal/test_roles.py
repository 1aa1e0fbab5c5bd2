"""Roles and scoping: one way to ask "may this user see this object?", and the staff command."""

from __future__ import annotations

import pytest
from allauth.account.models import EmailAddress
from django.core.management import CommandError, call_command
from django.http import Http404
from django.utils import translation

from enrollment.models import Participant
from portal.audit import Action
from portal.models import AuditEvent, User
from portal.roles import Role, get_scoped_or_404, has_role, scope_queryset, site_ids_for
from tests import factories
from tests.audits import assert_access_denied

pytestmark = pytest.mark.django_db


@pytest.fixture
def two_sites_with_participants():
    site_a, site_b = factories.SiteFactory(code="site-a"), factories.SiteFactory(code="site-b")
    return (
        site_a,
        site_b,
        factories.ParticipantFactory(site=site_a),
        factories.ParticipantFactory(site=site_b),
    )


def test_coordinator_sees_only_their_sites_participants(two_sites_with_participants):
    site_a, _site_b, in_a, in_b = two_sites_with_participants
    coordinator = factories.staff_user(Role.COORDINATOR, sites=[site_a])
    visible = scope_queryset(coordinator, Participant.objects.all())
    assert list(visible) == [in_a]
    assert site_ids_for(coordinator) == frozenset({site_a.pk})
    assert in_b not in visible


def test_other_sites_participant_is_a_404_and_the_attempt_is_audited(two_sites_with_participants):
    site_a, _site_b, in_a, in_b = two_sites_with_participants
    coordinator = factories.staff_user(Role.COORDINATOR, sites=[site_a])
    assert get_scoped_or_404(coordinator, Participant.objects.all(), pk=in_a.pk) == in_a
    with pytest.raises(Http404):
        get_scoped_or_404(coordinator, Participant.objects.all(), pk=in_b.pk)
    denied = AuditEvent.objects.get(action=Action.PERMISSION_DENIED)
    assert (denied.actor, denied.object_type, denied.object_id) == (
        coordinator,
        "enrollment.participant",
        str(in_b.pk),
    )
    # A participant that does not exist answers exactly the same, audited the same.
    with pytest.raises(Http404):
        get_scoped_or_404(coordinator, Participant.objects.all(), pk=10**9)
    assert_access_denied(
        actor=coordinator,
        object_type="enrollment.participant",
        object_id=10**9,
        reason="out of scope",
    )


def test_national_roles_and_all_sites_reviewers_see_every_site(two_sites_with_participants):
    manager = factories.staff_user(Role.PROGRAMME_MANAGER)
    reviewer = factories.staff_user(Role.ETHICS_REVIEWER, all_sites=True)
    local_reviewer = factories.staff_user(
        Role.ETHICS_REVIEWER, sites=[two_sites_with_participants[1]]
    )
    assert scope_queryset(manager, Participant.objects.all()).count() == 2
    assert scope_queryset(reviewer, Participant.objects.all()).count() == 2
    assert list(scope_queryset(local_reviewer, Participant.objects.all())) == [
        two_sites_with_participants[3]
    ]


def test_participant_sees_only_their_own_record(two_sites_with_participants):
    _a, _b, in_a, _in_b = two_sites_with_participants
    person = factories.UserFactory()
    in_a.user = person
    in_a.save(update_fields=["user"])
    assert list(scope_queryset(person, Participant.objects.all())) == [in_a]


def test_create_staff_user_command_reads_the_password_from_the_environment(monkeypatch):
    factories.SiteFactory(code="snuh")
    factories.SiteFactory(code="amc")
    monkeypatch.setenv("NEW_STAFF_PASSWORD", "a-long-and-unusual-passphrase-77")
    call_command(
        "create_staff_user",
        "--email", "Coord@Example.org",
        "--role", "coordinator",
        "--site", "snuh", "--site", "amc",
        "--password-env", "NEW_STAFF_PASSWORD",
    )  # fmt: skip
    user = User.objects.get(email="coord@example.org")
    assert user.check_password("a-long-and-unusual-passphrase-77")
    assert has_role(user, Role.COORDINATOR)
    assert set(user.site_memberships.values_list("site__code", flat=True)) == {"snuh", "amc"}
    assert EmailAddress.objects.get(user=user).verified
    assert AuditEvent.objects.filter(action=Action.STAFF_CREATED, object_id=str(user.pk)).exists()


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        (["--role", "coordinator", "--site", "nowhere"], "Unknown site"),
        (["--role", "coordinator"], "at least one site"),
    ],
)
def test_create_staff_user_command_refuses_bad_input(monkeypatch, arguments, message):
    monkeypatch.setenv("NEW_STAFF_PASSWORD", "a-long-and-unusual-passphrase-77")
    with pytest.raises(CommandError, match=message), translation.override("en"):
        call_command(
            "create_staff_user",
            "--email", "x@example.org", "--password-env", "NEW_STAFF_PASSWORD", *arguments,
        )  # fmt: skip
    assert not User.objects.filter(email="x@example.org").exists()


def test_create_staff_user_command_refuses_a_weak_password(monkeypatch):
    monkeypatch.setenv("NEW_STAFF_PASSWORD", "password1")
    with pytest.raises(CommandError):
        call_command(
            "create_staff_user",
            "--email", "x@example.org", "--role", "data_steward",
            "--password-env", "NEW_STAFF_PASSWORD",
        )  # fmt: skip
    assert not User.objects.filter(email="x@example.org").exists()


def test_create_staff_user_command_has_no_password_argument():
    with pytest.raises(CommandError):
        call_command(
            "create_staff_user", "--email", "x@example.org", "--role", "admin", "--password", "x"
        )
