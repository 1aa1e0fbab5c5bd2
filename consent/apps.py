"""The consent app: forms and versions, the ledger and its projection, re-consent, receipts.

Its demo data comes in through ``demo_seed`` (``manage.py seed_demo``); importing
``consent.seeding`` connects its synthetic ledgers to ``manage.py seed_synthetic``.
"""

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
        from .selectors.doors import door_checks_register

        # Enrollment's doors (messages, visit booking, invitations) ask the withdrawal level.
        door_checks_register()

    def demo_seed(self, demo: "DemoSeed") -> None:
        """The main consent form, approved and active (``manage.py seed_demo``)."""
        from portal.roles import Role

        from .seeding.demo import seed_consent_forms

        seed_consent_forms(by=demo.staff(Role.ADMIN))
