"""Admin viewsets for the CRM's configuration: folders, contact method types, custom fields."""

from django.utils.translation import gettext_lazy as _
from wagtail.snippets.views.snippets import SnippetViewSet

from ..models import ContactMethodType, CustomField, Folder


class FolderViewSet(SnippetViewSet):
    model = Folder
    icon = "folder-open-inverse"
    menu_label = _("Folders")
    menu_order = 300
    url_prefix = "crm/folders"
    list_display = ["name", "is_public", "owner"]


class ContactMethodTypeViewSet(SnippetViewSet):
    model = ContactMethodType
    icon = "mail"
    menu_label = _("Contact method types")
    menu_order = 400
    url_prefix = "crm/method-types"
    list_display = ["name", "scheme", "link_template"]


class CustomFieldViewSet(SnippetViewSet):
    model = CustomField
    icon = "form"
    menu_label = _("Custom fields")
    menu_order = 500
    url_prefix = "crm/custom-fields"
    list_display = ["label", "target", "key", "field_type", "required"]
