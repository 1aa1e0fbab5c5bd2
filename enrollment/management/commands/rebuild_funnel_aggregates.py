from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from enrollment.services.aggregates import funnel_aggregates_rebuild


class Command(BaseCommand):
    help = "Recompute the funnel aggregates (daily, monthly, current) from the transition log."

    def handle(self, *args: Any, **options: Any) -> None:
        counts = funnel_aggregates_rebuild()
        self.stdout.write(
            "Rebuilt funnel aggregates: "
            + ", ".join(f"{table} {rows} rows" for table, rows in counts.items())
        )
