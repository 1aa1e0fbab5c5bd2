"""The consent app: forms and versions, the ledger and its projection, re-consent, receipts.

Its menu entries come in through ``nav_entries`` and its demo data through ``demo_seed``
(``manage.py seed_demo``); importing ``consent.seeding`` connects its synthetic ledgers to
``manage.py seed_synthetic``.
"""

from typing import TYPE_CHECKING

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from portal.demo import DemoSeed
    from portal.models import User
    from portal.navigation import NavEntry
    from portal.work import WorkItem


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = _("Consent")

    def ready(self) -> None:
        # Synthetic consent ledgers follow synthetic participants (manage.py seed_synthetic).
        from . import seeding  # noqa: F401
        from .selectors.doors import door_checks_register

        # Enrollment's doors (messages, visit booking, invitations) ask the withdrawal level.
        door_checks_register()
        # "My participation" shows the consent steps (signed, receipt) as consent tells them.
        from enrollment.selectors.journey import consent_progress_register

        from .selectors.progress import consent_progress

        consent_progress_register(consent_progress)
        # After enrolling a patient, the participant page links the next step: record consent.
        from enrollment.hooks import participant_next_step_register

        from .enrollment_hooks import record_consent_step

        participant_next_step_register(record_consent_step)

    def pii_rotate_batch(self, *, batch_size: int) -> int:
        """Stored consent files re-sealed under the vault's current key (``rotate_pii_key``)."""
        from .services.sealed_files import sealed_files_rotate_batch

        return sealed_files_rotate_batch(batch_size=batch_size)

    def staff_work(self, user: "User") -> list["WorkItem"]:
        """What waits for ``user`` from this app, on the staff home."""
        from .selectors.work import staff_work

        return staff_work(user)

    def nav_entries(self) -> list["NavEntry"]:
        from portal.navigation import NavEntry
        from portal.roles import Role

        reviewers = (Role.ETHICS_REVIEWER, Role.PROGRAMME_MANAGER, Role.ADMIN)
        return [
            NavEntry(_("My consent"), "consent:mine", (Role.PARTICIPANT,), order=70),
            NavEntry(
                _("Consent worklist"),
                "consent:site_worklist",
                (Role.COORDINATOR, Role.ADMIN),
                order=80,
            ),
            NavEntry(_("Ledger verification"), "consent:ledger_verifications", reviewers, order=90),
            NavEntry(
                _("Version activation"),
                "consent:activation_list",
                (Role.PROGRAMME_MANAGER, Role.ETHICS_REVIEWER, Role.ADMIN),
                order=120,
            ),
            NavEntry(
                _("Re-consent campaigns"),
                "consent:campaign_list",
                (Role.PROGRAMME_MANAGER, Role.ADMIN, Role.COORDINATOR, Role.ETHICS_REVIEWER),
                order=130,
            ),
        ]

    def demo_seed(self, demo: "DemoSeed") -> None:
        """The main consent form, approved and active (``manage.py seed_demo``)."""
        from portal.roles import Role

        from .seeding.demo import seed_consent_forms

        seed_consent_forms(by=demo.staff(Role.ADMIN))
