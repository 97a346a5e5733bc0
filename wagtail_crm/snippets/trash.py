"""The Trash: contacts moved to the trash, to restore or purge."""

from django.utils.translation import gettext_lazy as _
from wagtail.admin.viewsets.model import ModelViewSet

from ..models import Contact


class TrashViewSet(ModelViewSet):
    model = Contact
    name = "crm_trash"
    icon = "bin"
    menu_label = _("Trash")
    menu_order = 900
    url_prefix = "crm/trash"
    form_fields = []
    list_display = ["display_name", "kind", "deleted_at"]
