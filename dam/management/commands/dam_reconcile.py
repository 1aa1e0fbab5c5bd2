"""Compare what the portal sent with what the dam reports holding, now.

Prints the counts and the differences found (also listed on the data steward's reconciliation
page). Exit status: 0 when the comparison ran (differences or not), 1 when the dam could not be
reached.
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from dam.services.reconciliation import DamUnreachable, reconciliation_run


class Command(BaseCommand):
    help = "Reconcile with the dam: subjects' sequence and status, and samples not received."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            run = reconciliation_run()
        except DamUnreachable as exc:
            raise CommandError(
                f"the dam could not be reached: {exc.run.error}", returncode=1
            ) from exc
        findings = list(run.findings.select_related("manifest").order_by("kind", "id"))
        self.stdout.write(
            f"checked {run.subjects_checked} subject(s) and {run.manifests_checked} "
            f"manifest(s): {len(findings)} difference(s)"
        )
        for finding in findings:
            where = finding.subject or (
                f"{finding.manifest.code} {finding.barcode}"
                if finding.manifest
                else finding.barcode
            )
            self.stdout.write(
                f"  {finding.kind}: {where} (portal: {finding.expected}, dam: {finding.reported})"
            )
