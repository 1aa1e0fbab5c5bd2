"""Recompute every consent chain; report the first broken event of each broken chain, and every
event whose stored file (signature, scanned form, receipt) differs from its hash or is missing.

Exit status 0 when every chain holds, 1 otherwise (so a scheduler or CI can alert).
"""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from consent.ledger import ledger_verify
from consent.services.sealed_files import sealed_files_verify
from enrollment.models import Participant


class Command(BaseCommand):
    help = "Verify the hash chains of the consent ledger and name the first broken event."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--participant", help="Verify only this participant's chain (code).")
        parser.add_argument(
            "--batch", type=int, default=20_000, help="Rows fetched per round trip."
        )

    def handle(self, *args: Any, **options: Any) -> None:
        participant_id = None
        if options["participant"]:
            participant = Participant.objects.filter(code=options["participant"]).first()
            if participant is None:
                raise CommandError(f"No participant with code {options['participant']!r}.")
            participant_id = participant.pk
        started = time.perf_counter()
        result = ledger_verify(participant_id=participant_id, batch=options["batch"])
        files = sealed_files_verify(participant_id=participant_id)
        elapsed = time.perf_counter() - started
        summary = f"{result.events} events in {result.chains} chains verified in {elapsed:.1f} s"
        if result.ok and not files:
            self.stdout.write(
                self.style.SUCCESS(f"OK: {summary}; every chain holds, every stored file matches.")
            )
            return
        if files:
            file_codes = dict(
                Participant.objects.filter(
                    pk__in={f.participant_id for f in files[:100]}
                ).values_list("pk", "code")
            )
            self.stdout.write(self.style.ERROR(f"FILES: {len(files)} stored file(s) wrong."))
            for found in files[:100]:
                self.stdout.write(
                    f"  event {found.event_id} (participant "
                    f"{file_codes.get(found.participant_id, found.participant_id)}, entry "
                    f"{found.sequence}): {found.problem}"
                )
        if result.ok:
            raise SystemExit(1)
        codes = dict(
            Participant.objects.filter(
                pk__in={b.participant_id for b in result.broken[:100]}
            ).values_list("pk", "code")
        )
        first = result.broken[0]
        self.stdout.write(
            self.style.ERROR(
                f"BROKEN: {len(result.broken)} chain(s) broken; {summary}.\n"
                f"First broken event: id {first.event_id} (participant "
                f"{codes.get(first.participant_id, first.participant_id)}, entry {first.sequence}): "
                f"{first.problem}"
            )
        )
        for broken in result.broken[1:100]:
            self.stdout.write(
                f"  event {broken.event_id} (participant "
                f"{codes.get(broken.participant_id, broken.participant_id)}, entry "
                f"{broken.sequence}): {broken.problem}"
            )
        raise SystemExit(1)
