"""Demo staff accounts, one per role, with a known password printed by ``seed_demo``."""

from __future__ import annotations

from .models import User
from .roles import Role
from .services import staff_user_create

DEMO_PASSWORD = "demo-portal-2026!"  # noqa: S105  (embedded demo only; never seeded in production)


def seed_staff(site_codes_for_coordinator: list[str]) -> list[tuple[str, str]]:
    accounts = []
    for role in Role:
        if role == Role.PARTICIPANT:
            continue
        email = f"{role.value.replace('_', '-')}@demo.portal.invalid"
        if not User.objects.filter(email=email).exists():
            staff_user_create(
                email=email,
                role=role,
                password=DEMO_PASSWORD,
                site_codes=site_codes_for_coordinator if role == Role.COORDINATOR else (),
                all_sites=role == Role.ETHICS_REVIEWER,
                display_name=f"Demo {role.label}",
            )
        accounts.append((str(role.label), email))
    return accounts
