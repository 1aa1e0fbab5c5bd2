"""``migrate`` as the owner role when ``MIGRATION_DATABASE_URL`` is set.

The portal runs as a role that may not change the schema; migrations need the role that owns the
tables. For the length of the command the default connection uses the migration URL, then the
portal's own settings come back.
"""

from __future__ import annotations

from typing import Any

import dj_database_url
from django.conf import settings
from django.core.management.commands import migrate
from django.db import DEFAULT_DB_ALIAS, connections

_CONNECTION_KEYS = ("NAME", "USER", "PASSWORD", "HOST", "PORT", "OPTIONS")


class Command(migrate.Command):
    help = migrate.Command.help + " Connects with MIGRATION_DATABASE_URL when it is set."

    def handle(self, *args: Any, **options: Any) -> None:
        url = settings.MIGRATION_DATABASE_URL
        alias = options.get("database") or DEFAULT_DB_ALIAS
        if not url or alias != DEFAULT_DB_ALIAS:
            super().handle(*args, **options)
            return
        connection = connections[alias]
        owner = dj_database_url.parse(url)
        saved = {key: connection.settings_dict.get(key) for key in _CONNECTION_KEYS}
        connection.close()
        connection.settings_dict.update({key: owner.get(key) or "" for key in _CONNECTION_KEYS})
        connection.settings_dict["OPTIONS"] = owner.get("OPTIONS") or {}
        try:
            super().handle(*args, **options)
        finally:
            connection.close()
            connection.settings_dict.update(saved)
