from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from portal.demo import DemoSeed
    from portal.models import User
    from portal.navigation import NavEntry, PublicLink
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
            NavEntry(_("Information pages"), "enrollment:information_manage", managers, order=45),
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

    def public_links(self) -> list[PublicLink]:
        """The information pages, in reading order; privacy, FAQ and contact also in the footer."""
        from portal.navigation import PublicLink

        from .models import InformationTopic

        in_footer = {InformationTopic.PRIVACY, InformationTopic.FAQ, InformationTopic.CONTACT}
        return [
            PublicLink(topic.label, "enrollment:information", (topic.value,), topic in in_footer)
            for topic in InformationTopic
        ]

    def demo_reference_seed(self, demo: DemoSeed) -> None:
        """The programme, its sites and cohorts, the information pages; the demo coordinator
        works at ``snuh``."""
        from .seeding import seed_information_pages, seed_programme

        seed_programme()
        seed_information_pages()
        demo.coordinator_site_codes.append("snuh")

    def demo_seed(self, demo: DemoSeed) -> None:
        """Volunteers with accounts and patients enrolled at ``snuh``."""
        from .seeding import seed_people

        demo.lines.extend(seed_people(password=demo.password))
