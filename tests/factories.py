"""factory_boy factories shared by every test folder."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import factory

from enrollment.models import Cohort, CohortGroup, Participant, Programme, Site, SiteMembership
from portal.models import User
from portal.roles import Role, grant_role

DEFAULT_PASSWORD = "correct-horse-battery-staple-42"


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = User
        skip_postgeneration_save = True

    email = factory.Sequence(lambda n: f"user{n}@example.org")
    password = factory.PostGenerationMethodCall("set_password", DEFAULT_PASSWORD)

    @factory.post_generation
    def _save(obj: User, create: bool, extracted: Any, **kwargs: Any) -> None:
        if create:
            obj.save()

    @factory.post_generation
    def email_verified(obj: User, create: bool, extracted: Any, **kwargs: Any) -> None:
        """Accounts can sign in (verified e-mail) unless ``email_verified=False`` is passed."""
        if create and extracted is not False:
            from allauth.account.models import EmailAddress

            EmailAddress.objects.get_or_create(
                user=obj, email=obj.email, defaults={"verified": True, "primary": True}
            )


def staff_user(role: Role, *, sites: Iterable[Site] = (), mfa: bool = False, **kwargs: Any) -> User:
    """A staff member with ``role`` and site memberships; ``mfa=True`` gives them a TOTP device."""
    user = UserFactory(display_name=f"{role.value} tester", **kwargs)
    grant_role(user, role)
    for s in sites:
        SiteMembership.objects.create(user=user, site=s)
    if mfa:
        add_totp(user)
    return user


TEST_TOTP_SECRET = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"


def add_totp(user: User, secret: str = TEST_TOTP_SECRET) -> None:
    from allauth.mfa.totp.internal.auth import TOTP

    TOTP.activate(user, secret)


class ProgrammeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Programme
        django_get_or_create = ("code",)

    code = "bdd"
    name = "Bio Data Dam"
    total_target = 1_000_000


class SiteFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Site

    code = factory.Sequence(lambda n: f"site{n:02d}")
    name = factory.Sequence(lambda n: f"Hospital {n}")
    region = "Seoul"
    daily_capacity = 40


class CohortFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Cohort
        django_get_or_create = ("code",)

    code = "general"
    name = "General participants"
    group = CohortGroup.GENERAL
    open_for_volunteers = True


class ParticipantFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Participant

    code = factory.Sequence(lambda n: f"P{n:08d}")
    kind = Participant.Kind.VOLUNTEER
    site = factory.SubFactory(SiteFactory)
    external_ref = ""
    # A site reference belongs to the site that gave it, as the enrollment services record it.
    source_site = factory.LazyAttribute(lambda p: p.site if p.external_ref else None)
    cohort = factory.SubFactory(CohortFactory)
    birth_year = 1980
    sex = "female"
