from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = _("Consent")

    def ready(self) -> None:
        # Synthetic consent ledgers follow synthetic participants (manage.py seed_synthetic).
        from .seeding import ledgers  # noqa: F401
