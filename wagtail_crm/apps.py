from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class WagtailCRMAppConfig(AppConfig):
    name = "wagtail_crm"
    label = "wagtail_crm"
    verbose_name = _("CRM")
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import signals  # noqa: F401
        from .services import public  # noqa: F401  (system checks of WAGTAIL_CRM_PUBLIC_*)
