"""Seal the settled audit rows, recompute the audit log's hash chain; exit 1 when it is broken."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from portal.audit_chain import audit_chain_verification_run


class Command(BaseCommand):
    help = "Seal settled audit rows and verify the audit log's hash chain (exit 1 if broken)."

    def handle(self, *args: Any, **options: Any) -> None:
        result = audit_chain_verification_run()
        if not result.ok:
            raise CommandError("audit chain broken: " + "; ".join(result.problems[:10]))
        self.stdout.write(f"audit chain intact: {result.seals} seals, {result.rows} rows")
