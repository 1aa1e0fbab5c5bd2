"""Seed the embedded default with demo data and print the demo accounts (idempotent)."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from consent.seeding.demo import seed_consent_forms
from enrollment.seeding import seed_people, seed_programme
from portal.demo import DEMO_PASSWORD, seed_staff
from portal.models import User
from portal.roles import Role


class Command(BaseCommand):
    help = "Create demo sites, cohorts, a programme with targets and one account per staff role."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("demo data is never seeded in production")
        with transaction.atomic():
            seed_programme()
            accounts = seed_staff(site_codes_for_coordinator=["snuh"])
            seed_consent_forms(by=User.objects.get(email=dict(accounts)[str(Role.ADMIN.label)]))
            people = seed_people(password=DEMO_PASSWORD)
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready. Staff accounts (password for all: {DEMO_PASSWORD}):"
            )
        )
        for label, email in accounts:
            self.stdout.write(f"  {label:<20} {email}")
        for line in people:
            self.stdout.write(line)
        self.stdout.write(
            "Staff accounts are asked to set up two-factor authentication at first sign-in."
        )
