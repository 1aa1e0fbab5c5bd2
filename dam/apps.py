from __future__ import annotations

from typing import TYPE_CHECKING

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

if TYPE_CHECKING:
    from portal.models import User
    from portal.navigation import NavEntry
    from portal.work import WorkItem


class DamConfig(AppConfig):
    name = "dam"
    verbose_name = _("Dam")

    def ready(self) -> None:
        from consent.hooks import (
            identifier_resolver_register,
            my_consent_link_register,
            sample_counter_register,
        )
        from consent.signals import consent_event_recorded
        from enrollment.hooks import participant_next_step_register
        from portal.health import figure_register, health_check_register

        from .consent_hooks import (
            certificate_link,
            pseudonyms_to_codes,
            record_sample_step,
            samples_by_site,
        )
        from .health import outbox_dead_letters, outbox_health, outbox_oldest_pending_seconds
        from .receivers import on_consent_event_recorded

        consent_event_recorded.connect(
            on_consent_event_recorded, dispatch_uid="dam.outbox.consent_event_recorded"
        )
        # The consent app cannot import the dam; the dam offers its part through consent's hooks.
        identifier_resolver_register(pseudonyms_to_codes)
        my_consent_link_register(certificate_link)
        sample_counter_register(samples_by_site)
        participant_next_step_register(record_sample_step)
        health_check_register("dam_outbox", outbox_health)
        figure_register(
            "dam_outbox_oldest_pending_seconds",
            outbox_oldest_pending_seconds,
            documentation="Age in seconds of the oldest dam outbox message not yet delivered.",
        )
        figure_register(
            "dam_dead_letters",
            outbox_dead_letters,
            documentation="Dam outbox messages the dam refused for good (waiting for a steward).",
        )

    def staff_work(self, user: User) -> list[WorkItem]:
        """What waits for ``user`` from this app, on the staff home."""
        from .work import staff_work

        return staff_work(user)

    def nav_entries(self) -> list[NavEntry]:
        from portal.navigation import NavEntry
        from portal.roles import Role

        coordinators = (Role.COORDINATOR, Role.ADMIN)
        stewards = (Role.DATA_STEWARD, Role.ADMIN)
        return [
            NavEntry(_("Samples"), "dam:samples", coordinators, order=50),
            NavEntry(
                _("Sample fates"),
                "dam:fates",
                (Role.COORDINATOR, Role.DATA_STEWARD, Role.ADMIN),
                order=51,
            ),
            NavEntry(_("Shipments"), "dam:shipments", coordinators, order=52),
            NavEntry(
                _("Manifests and acknowledgements"), "dam:steward_manifests", stewards, order=53
            ),
            NavEntry(_("Reconciliation"), "dam:reconciliation", stewards, order=54),
            NavEntry(
                _("Re-identification"), "dam:reidentifications", (Role.DATA_STEWARD,), order=55
            ),
            NavEntry(_("Dam delivery"), "dam:delivery_status", stewards, order=56),
            NavEntry(_("Dead letters"), "dam:dead_letters", stewards, order=57),
        ]
