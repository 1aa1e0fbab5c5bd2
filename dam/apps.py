from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from portal.navigation import NavEntry


class DamConfig(AppConfig):
    name = "dam"
    verbose_name = _("Dam")

    def nav_entries(self) -> list[NavEntry]:
        from portal.navigation import NavEntry
        from portal.roles import Role

        return [NavEntry(_("Samples"), "dam:samples", (Role.COORDINATOR, Role.ADMIN), order=50)]
