"""``makemessages`` for this project: the right folders, and no fuzzy guesses.

Fuzzy matches are never compiled, so a guessed translation would silently show English; without
them a new string shows up as untranslated, which the catalogue test catches.
"""

from typing import Any

from django.core.management.commands import makemessages


class Command(makemessages.Command):
    # Django's own options plus --no-fuzzy-matching; "--update" makes msgmerge write the .po
    # (without it the merged catalogue goes to stdout and the .po file never changes).
    msgmerge_options = ["-q", "--backup=none", "--previous", "--update", "--no-fuzzy-matching"]

    def handle(self, *args: Any, **options: Any) -> None:
        options["ignore_patterns"] = [
            *options.get("ignore_patterns", []),
            ".venv/*",
            "var/*",
            "tests/*",
            "bench/*",
            "node_modules/*",
            "*/node_modules/*",
        ]
        if not options.get("locale") and not options.get("all"):
            options["locale"] = ["ko", "en"]
        options["no_obsolete"] = True
        super().handle(*args, **options)
