from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        # The menu entries of this app (portal.navigation knows no app above it).
        from portal.navigation import NAV, NavEntry
        from portal.roles import Role

        NAV.extend(
            [
                NavEntry(
                    _("Reports"),
                    "reports:index",
                    (Role.ETHICS_REVIEWER, Role.ADMIN),
                ),
                NavEntry(
                    _("Programme reports"),
                    "reports:programme",
                    (Role.PROGRAMME_MANAGER, Role.ADMIN),
                ),
                NavEntry(
                    _("Ledger certificates"),
                    "reports:certificates",
                    (Role.ETHICS_REVIEWER, Role.PROGRAMME_MANAGER, Role.ADMIN),
                ),
            ]
        )
