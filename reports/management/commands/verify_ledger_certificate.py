from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from reports.certificates import certificate_check, certificate_find


class Command(BaseCommand):
    help = (
        "Check that the consent ledger still holds every event that existed when a certificate "
        "was issued; name the chains that differ. Exit status 1 when one differs."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("certificate", help="the certificate's digest (as printed) or its id")

    def handle(self, *args: Any, **options: Any) -> None:
        certificate = certificate_find(reference=options["certificate"])
        if certificate is None:
            raise CommandError(
                "No certificate with that id or digest. If the digest comes from a report or an "
                "e-mail, its record may have been removed from the database."
            )
        check = certificate_check(certificate=certificate)
        self.stdout.write(
            f"certificate {certificate.pk} issued {certificate.issued_at.isoformat()}: "
            f"{certificate.events:,} events then, {check.events_now:,} up to its boundary now"
        )
        for difference in check.differences:
            self.stdout.write(
                f"  {difference.participant_code}: {difference.problem} "
                f"(head then {difference.then_sequence}, now {difference.now_sequence})"
            )
        if check.broken_chains_now:
            self.stdout.write(f"chains failing verification now: {check.broken_chains_now}")
        if not check.holds:
            self.stdout.write("DIFFERS: the ledger no longer holds what the certificate saw")
            raise SystemExit(1)
        self.stdout.write(self.style.SUCCESS("OK: the ledger holds every certified event"))
