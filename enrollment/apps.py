from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from portal.demo import DemoSeed
    from portal.models import User
    from portal.navigation import NavEntry
    from portal.work import WorkItem


class EnrollmentConfig(AppConfig):
    name = "enrollment"
    verbose_name = _("Enrollment")

    def ready(self) -> None:
        from portal.roles import site_directory_register

        from .scoping import EnrollmentSites

        site_directory_register(EnrollmentSites())

    def staff_work(self, user: User) -> list[WorkItem]:
        """What waits for ``user`` from this app, on the staff home."""
        from .selectors.work import staff_work

        return staff_work(user)

    def nav_entries(self) -> list[NavEntry]:
        from portal.navigation import NavEntry
        from portal.roles import Role

        managers = (Role.PROGRAMME_MANAGER, Role.ADMIN)
        site_staff = (Role.COORDINATOR, Role.ADMIN)
        return [
            NavEntry(_("National dashboard"), "enrollment:dashboard_national", managers, order=20),
            NavEntry(
                _("Site dashboard"), "enrollment:dashboard_site", (Role.COORDINATOR,), order=30
            ),
            NavEntry(_("Programmes and sites"), "enrollment:programmes", managers, order=40),
            NavEntry(_("My participation"), "enrollment:me", (Role.PARTICIPANT,), order=60),
            NavEntry(_("Enrollment worklist"), "enrollment:site_worklist", site_staff, order=100),
            NavEntry(_("Enroll a patient"), "enrollment:site_enroll", site_staff, order=110),
            NavEntry(
                _("Duplicates across sites"),
                "enrollment:duplicates_cross_site",
                (Role.DATA_STEWARD, Role.ADMIN),
                order=115,
            ),
        ]

    def demo_reference_seed(self, demo: DemoSeed) -> None:
        """The programme, its sites and cohorts; the demo coordinator works at ``snuh``."""
        from .seeding import seed_programme

        seed_programme()
        demo.coordinator_site_codes.append("snuh")

    def demo_seed(self, demo: DemoSeed) -> None:
        """Volunteers with accounts and patients enrolled at ``snuh``."""
        from .seeding import seed_people

        demo.lines.extend(seed_people(password=demo.password))
