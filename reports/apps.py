from typing import TYPE_CHECKING

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from portal.navigation import NavEntry


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")

    def nav_entries(self) -> list["NavEntry"]:
        # The menu entries of this app (portal.navigation knows no app above it).
        from portal.navigation import NavEntry
        from portal.roles import Role

        return [
            NavEntry(_("Reports"), "reports:index", (Role.ETHICS_REVIEWER, Role.ADMIN), order=200),
            NavEntry(
                _("Programme reports"),
                "reports:programme",
                (Role.PROGRAMME_MANAGER, Role.ADMIN),
                order=210,
            ),
            NavEntry(
                _("Ledger certificates"),
                "reports:certificates",
                (Role.ETHICS_REVIEWER, Role.PROGRAMME_MANAGER, Role.ADMIN),
                order=220,
            ),
        ]
