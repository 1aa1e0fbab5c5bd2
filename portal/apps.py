from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PortalConfig(AppConfig):
    name = "portal"
    verbose_name = _("Portal")

    def ready(self) -> None:
        from . import signals  # noqa: F401  (connects the sign-in and MFA audit receivers)
        from .health import register_portal_checks

        register_portal_checks()
