from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from portal.demo import DemoSeed


class EnrollmentConfig(AppConfig):
    name = "enrollment"
    verbose_name = _("Enrollment")

    def ready(self) -> None:
        from portal.roles import site_directory_register

        from .scoping import EnrollmentSites

        site_directory_register(EnrollmentSites())

    def demo_reference_seed(self, demo: DemoSeed) -> None:
        """The programme, its sites and cohorts; the demo coordinator works at ``snuh``."""
        from .seeding import seed_programme

        seed_programme()
        demo.coordinator_site_codes.append("snuh")

    def demo_seed(self, demo: DemoSeed) -> None:
        """Volunteers with accounts and patients enrolled at ``snuh``."""
        from .seeding import seed_people

        demo.lines.extend(seed_people(password=demo.password))
