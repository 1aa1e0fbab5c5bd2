"""Rebuild every participant's ConsentState from the consent ledger."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand

from consent.projection import state_rebuild_all


class Command(BaseCommand):
    help = "Rebuild the consent state projection from the ledger (same rules as live updates)."

    def handle(self, *args: Any, **options: Any) -> None:
        started = time.perf_counter()
        written = state_rebuild_all()
        elapsed = time.perf_counter() - started
        self.stdout.write(
            self.style.SUCCESS(f"Rebuilt {written} consent states in {elapsed:.1f} s.")
        )
