"""Import a referrals CSV into a site: ``manage.py import_referrals --site CODE FILE``.

The same rules as the coordinators' upload page (see ``enrollment.services.imports``); problems
are listed per line and column, and running it twice on the same file adds nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.core.management.base import BaseCommand, CommandError, CommandParser

from enrollment.models import Site
from enrollment.services import referrals_import
from enrollment.services.imports import ImportRefused


class Command(BaseCommand):
    help = "Import a CSV of referrals (UTF-8 or CP949/EUC-KR) into one site."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--site", required=True, help="site code")
        parser.add_argument("file", type=Path)
        parser.add_argument(
            "--max-bytes",
            type=int,
            default=None,
            help="size limit (default: REFERRAL_IMPORT_MAX_BYTES)",
        )

    def handle(self, *args: Any, site: str, file: Path, max_bytes: int | None, **opts: Any) -> None:
        target = Site.objects.filter(code=site).first()
        if target is None:
            raise CommandError(f"No site with code {site!r}.")
        try:
            data = file.read_bytes()
        except OSError as exc:
            raise CommandError(f"Cannot read {file}: {exc.strerror}") from exc
        try:
            result = referrals_import(site=target, by=None, data=data, max_bytes=max_bytes)
        except ImportRefused as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        for error in result.errors:
            self.stderr.write(str(error))
        self.stdout.write(
            f"{result.rows_total} rows: {result.created} created, {result.existing} already "
            f"enrolled, {result.invalid_rows} with errors, {result.possible_duplicates} "
            "flagged as possible duplicates"
        )
