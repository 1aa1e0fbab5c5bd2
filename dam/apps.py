from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DamConfig(AppConfig):
    name = "dam"
    verbose_name = _("Dam")
