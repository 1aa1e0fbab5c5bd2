from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from enrollment.seeding import synthetic_seed


class Command(BaseCommand):
    help = (
        "Generate synthetic participants (sites, cohorts, funnel history, encrypted personal data "
        "with blind indexes) with PostgreSQL COPY, then rebuild the funnel aggregates."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--participants", type=int, required=True)
        parser.add_argument("--workers", type=int, default=2, help="worker processes (default 2)")
        parser.add_argument(
            "--seed", type=int, default=None, help="random seed, for repeatable runs"
        )

    def handle(self, *args: Any, **options: Any) -> None:
        n = options["participants"]
        if n < 1 or n > 50_000_000:
            raise CommandError("--participants must be between 1 and 50,000,000")
        if options["workers"] < 1:
            raise CommandError("--workers must be at least 1")
        step = max(n // 10, 1)
        last = [0]

        def progress(done: int, total: int) -> None:
            if done - last[0] >= step or done == total:
                last[0] = done
                self.stdout.write(f"  {done:,} / {total:,}")

        try:
            result = synthetic_seed(
                participants=n, workers=options["workers"], seed=options["seed"], progress=progress
            )
        except RuntimeError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Seeded {result.participants:,} participants and {result.transitions:,} "
                f"transitions in {result.seconds:.1f} s (ids {result.first_id}-{result.last_id}); "
                f"other apps' seeding took {result.hooks_seconds:.1f} s more."
            )
        )
