"""Demo staff accounts, one per role, with a known password printed by ``seed_demo``."""

from __future__ import annotations

from .models import User
from .roles import Role, grant_role

DEMO_PASSWORD = "demo-portal-2026!"  # noqa: S105  (embedded demo only; never seeded in production)


def seed_staff(site_codes_for_coordinator: list[str]) -> list[tuple[str, str]]:
    from enrollment.models import Site, SiteMembership

    accounts = []
    for role in Role:
        if role == Role.PARTICIPANT:
            continue
        email = f"{role.value.replace('_', '-')}@demo.portal.invalid"
        user, created = User.objects.get_or_create(
            email=email, defaults={"display_name": f"Demo {role.label}"}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            if role == Role.ADMIN:
                user.is_staff = True
                user.is_superuser = True
            if role == Role.ETHICS_REVIEWER:
                user.all_sites = True
            user.save()
        grant_role(user, role)
        if role == Role.COORDINATOR:
            for site in Site.objects.filter(code__in=site_codes_for_coordinator):
                SiteMembership.objects.get_or_create(user=user, site=site)
        accounts.append((str(role.label), email))
    return accounts
