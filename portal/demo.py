"""Demo data for the embedded default (``manage.py seed_demo``).

The portal seeds one staff account per role, with a known password; every app adds its own demo
data through its ``AppConfig``, so that the portal imports no app:

* ``demo_reference_seed(demo)`` runs first, in ``INSTALLED_APPS`` order: reference data the staff
  accounts need (the enrollment app creates the sites and says which ones the demo coordinator
  works at, in ``demo.coordinator_site_codes``);
* then the portal creates the staff accounts;
* then ``demo_seed(demo)`` runs, in ``INSTALLED_APPS`` order: data made by staff (``demo.staff``)
  and people; lines appended to ``demo.lines`` are printed after the accounts.

Every hook is idempotent: ``seed_demo`` may run again on a seeded database.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from django.apps import apps
from django.db import transaction

from .models import User
from .roles import Role
from .services import staff_user_create

DEMO_PASSWORD = "demo-portal-2026!"  # noqa: S105  (embedded demo only; never seeded in production)


def staff_email(role: Role) -> str:
    return f"{role.value.replace('_', '-')}@demo.portal.invalid"


@dataclass
class DemoSeed:
    """What the apps' demo hooks share while seeding."""

    password: str = DEMO_PASSWORD
    coordinator_site_codes: list[str] = field(default_factory=list)
    accounts: list[tuple[str, str]] = field(default_factory=list)  # (role label, e-mail)
    lines: list[str] = field(default_factory=list)

    def staff(self, role: Role) -> User:
        """The demo account of ``role`` (created before ``demo_seed`` hooks run)."""
        return User.objects.get(email=staff_email(role))


def seed_staff(site_codes_for_coordinator: list[str]) -> list[tuple[str, str]]:
    accounts = []
    for role in Role:
        if role == Role.PARTICIPANT:
            continue
        email = staff_email(role)
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


@transaction.atomic
def demo_seed() -> DemoSeed:
    """Seed the demo data of every installed app (see the module docstring for the order)."""
    demo = DemoSeed()
    configs = list(apps.get_app_configs())
    for config in configs:
        hook = getattr(config, "demo_reference_seed", None)
        if hook is not None:
            hook(demo)
    demo.accounts = seed_staff(site_codes_for_coordinator=demo.coordinator_site_codes)
    for config in configs:
        hook = getattr(config, "demo_seed", None)
        if hook is not None:
            hook(demo)
    return demo
