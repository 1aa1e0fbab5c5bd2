"""Deliver everything deliverable to the dam now, in the foreground.

Prints what it sent and what is left by state. Exit status: 0 when nothing deliverable is left,
1 when the dam could not be reached (or refused the requests), 2 when deliverable messages remain
(``--max-seconds`` ran out).
"""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from dam.selectors import outbox_counts
from dam.services.delivery import outbox_deliver


class Command(BaseCommand):
    help = "Deliver the dam outbox now; print what was sent and what is left."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--max-seconds", type=float, default=None, help="stop after this long (default: none)"
        )
        parser.add_argument(
            "--respect-backoff",
            action="store_true",
            help="leave messages waiting out a back-off alone (by default they are tried now)",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        report = outbox_deliver(
            max_seconds=options["max_seconds"], ignore_schedule=not options["respect_backoff"]
        )
        counts = report.counts
        self.stdout.write(
            f"sent {report.sent} message(s) in {report.batches} batch(es): "
            f"{counts['accepted']} accepted, {counts['duplicate']} duplicate, "
            f"{counts['retry']} to retry, {counts['dead']} dead letter(s)"
        )
        left = outbox_counts()
        self.stdout.write(
            f"left: {left['due']} pending and due, {left['waiting']} pending after a back-off, "
            f"{left['dead']} dead letter(s)"
        )
        if report.error is not None:
            raise CommandError(f"the dam could not be reached: {report.error}", returncode=1)
        if left["due"] and options["max_seconds"] is not None:
            raise CommandError("time ran out with messages still deliverable", returncode=2)
