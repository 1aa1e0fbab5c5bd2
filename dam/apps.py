from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DamConfig(AppConfig):
    name = "dam"
    verbose_name = _("Dam")

    def ready(self) -> None:
        from consent.signals import consent_event_recorded
        from portal.health import health_check_register

        from .health import outbox_health
        from .receivers import on_consent_event_recorded

        consent_event_recorded.connect(
            on_consent_event_recorded, dispatch_uid="dam.outbox.consent_event_recorded"
        )
        health_check_register("dam_outbox", outbox_health)
