from typing import TYPE_CHECKING

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from portal.demo import DemoSeed


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = _("Consent")

    def ready(self) -> None:
        # Synthetic consent ledgers follow synthetic participants (manage.py seed_synthetic).
        from . import seeding  # noqa: F401

    def demo_seed(self, demo: "DemoSeed") -> None:
        """The main consent form, approved and active (``manage.py seed_demo``)."""
        from portal.roles import Role

        from .seeding.demo import seed_consent_forms

        seed_consent_forms(by=demo.staff(Role.ADMIN))
