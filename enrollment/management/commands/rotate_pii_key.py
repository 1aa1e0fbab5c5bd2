"""Re-encrypt every personal-data row that is not yet under the first key of PII_KEYS.

Run after putting a new key first in PII_KEYS (keep the old keys listed until this finishes):

    PII_KEYS="k2:<new>,k1:<old>" manage.py rotate_pii_key

It works in batches, each in its own transaction, so it can be stopped and run again: it picks up
the rows still under an old key. Staff two-factor secrets (``enrollment.vault.mfa``) are re-sealed
too. Apps that keep other things sealed with the vault's keys (the
consent app's stored files) take part through ``pii_rotate_batch(batch_size=...)`` on their
AppConfig, which returns how many it re-sealed.
"""

from __future__ import annotations

from typing import Any

from django.apps import apps
from django.core.management.base import BaseCommand, CommandParser

from enrollment.audit import Action
from enrollment.vault import personal_data_rotate_batch
from enrollment.vault.mfa import mfa_secrets_rotate_batch
from portal.audit import audit_record


class Command(BaseCommand):
    help = "Re-encrypt the personal-data vault to the current (first) key of PII_KEYS."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--batch-size", type=int, default=1000)

    def handle(self, *args: Any, batch_size: int, **options: Any) -> None:
        total = 0
        while True:
            done = personal_data_rotate_batch(batch_size=batch_size)
            if not done:
                break
            total += done
            self.stdout.write(f"re-encrypted {total} rows")
        authenticators = 0
        while done := mfa_secrets_rotate_batch(batch_size=batch_size):
            authenticators += done
            self.stdout.write(f"re-encrypted {authenticators} two-factor secrets")
        files = 0
        for config in apps.get_app_configs():
            rotate = getattr(config, "pii_rotate_batch", None)
            while rotate is not None:
                done = rotate(batch_size=batch_size)
                if not done:
                    break
                files += done
                self.stdout.write(f"re-encrypted {files} files")
        audit_record(
            action=Action.PII_KEY_ROTATED,
            details={"rows": total, "files": files, "authenticators": authenticators},
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"done: {total} rows, {authenticators} two-factor secrets and {files} files "
                "re-encrypted"
            )
        )
