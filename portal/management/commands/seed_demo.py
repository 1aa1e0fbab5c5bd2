"""Seed the embedded default with demo data and print the demo accounts (idempotent).

Each app adds its own demo data through its ``AppConfig`` (``portal.demo``)."""

from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from portal.demo import DEMO_PASSWORD, demo_seed


class Command(BaseCommand):
    help = "Create demo sites, cohorts, a programme with targets and one account per staff role."

    def handle(self, *args: Any, **options: Any) -> None:
        if settings.PRODUCTION:
            raise CommandError("demo data is never seeded in production")
        demo = demo_seed()
        self.stdout.write(
            self.style.SUCCESS(
                f"Demo data ready. Staff accounts (password for all: {DEMO_PASSWORD}):"
            )
        )
        for label, email in demo.accounts:
            self.stdout.write(f"  {label:<20} {email}")
        for line in demo.lines:
            self.stdout.write(line)
        self.stdout.write(
            "Staff accounts are asked to set up two-factor authentication at first sign-in."
        )
