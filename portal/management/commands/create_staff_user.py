"""Create a staff account: ``create_staff_user --email E --role R --site CODE [--site ...]``.

The password is never a command-line argument (it would land in shell history and process
lists): it is asked for twice, or read from the environment variable named by --password-env.
"""

from __future__ import annotations

import getpass
import os
import sys
from typing import Any

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError, CommandParser

from portal.roles import STAFF_ROLES, Role
from portal.services import staff_user_create


class Command(BaseCommand):
    help = "Create a staff account with a role and sites; it must set up MFA at first sign-in."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--email", required=True)
        parser.add_argument("--role", required=True, choices=sorted(r.value for r in STAFF_ROLES))
        parser.add_argument(
            "--site",
            action="append",
            default=[],
            dest="sites",
            metavar="CODE",
            help="a site code; repeat for several sites",
        )
        parser.add_argument("--all-sites", action="store_true", help="sees every site")
        parser.add_argument("--name", default="", help="display name shown in audit trails")
        parser.add_argument(
            "--password-env",
            metavar="NAME",
            help="read the password from this environment variable instead of asking",
        )

    def handle(self, *args: Any, **options: Any) -> None:
        password = self._password(options["password_env"])
        try:
            user = staff_user_create(
                email=options["email"],
                role=Role(options["role"]),
                password=password,
                site_codes=options["sites"],
                all_sites=options["all_sites"],
                display_name=options["name"],
            )
        except ValidationError as exc:
            raise CommandError(" ".join(exc.messages)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Created staff account #{user.pk} ({options['role']}). "
                "Two-factor authentication is set up at the first sign-in."
            )
        )

    def _password(self, env_name: str | None) -> str:
        if env_name:
            value = os.environ.get(env_name, "")
            if not value:
                raise CommandError(f"environment variable {env_name} is empty or not set")
            return value
        if not sys.stdin.isatty():
            raise CommandError("no terminal to ask for the password: use --password-env NAME")
        first = getpass.getpass("Password: ")
        if first != getpass.getpass("Password (again): "):
            raise CommandError("the two passwords differ")
        return first
