from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from reports.certificates import certificate_issue


class Command(BaseCommand):
    help = (
        "Issue a certificate of the consent ledger (event count, digest over every chain head, "
        "verification result) and print its digest."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        certificate = certificate_issue()
        self.stderr.write(
            f"certificate {certificate.pk}: {certificate.events:,} events, "
            f"{certificate.chains:,} chains, every chain verified: "
            f"{'yes' if certificate.ledger_ok else 'NO'} ({certificate.seconds} s)"
        )
        self.stdout.write(certificate.digest)
