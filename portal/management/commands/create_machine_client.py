"""Register another system as a machine client: ``create_machine_client --name "Data dam"``.

Prints the client id and the secret. The secret is shown this once: only its hash is stored, so a
lost secret means revoking the client (admin) and creating a new one.
"""

from __future__ import annotations

from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.machine_clients import CONSENT_CHECK
from portal.services import machine_client_create


class Command(BaseCommand):
    help = "Create a machine client (client credentials, consent-check scope); prints its secret."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--name", required=True, help="the system, as audit rows will name it")

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            created = machine_client_create(name=options["name"])
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(f"client_id={created.application.client_id}")
        self.stdout.write(f"client_secret={created.secret}")
        self.stdout.write(
            self.style.SUCCESS(
                f"Created machine client #{created.application.pk} (scope {CONSENT_CHECK}). "
                "Keep the secret now: it is not shown again."
            )
        )
