from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DamConfig(AppConfig):
    name = "dam"
    verbose_name = _("Dam")

    def ready(self) -> None:
        from consent.hooks import identifier_resolver_register, my_consent_link_register
        from consent.signals import consent_event_recorded
        from portal.health import health_check_register

        from .consent_hooks import certificate_link, pseudonyms_to_codes
        from .health import outbox_health
        from .receivers import on_consent_event_recorded

        consent_event_recorded.connect(
            on_consent_event_recorded, dispatch_uid="dam.outbox.consent_event_recorded"
        )
        # The consent app cannot import the dam; the dam offers its part through consent's hooks.
        identifier_resolver_register(pseudonyms_to_codes)
        my_consent_link_register(certificate_link)
        health_check_register("dam_outbox", outbox_health)
