"""StreamField blocks that put contacts on pages: one card, or a list of cards.

Both show only contacts that are live and in a public folder, and of those only the fields
listed in WAGTAIL_CRM_PUBLIC_FIELDS (see :mod:`wagtail_crm.services.public`). Templates get each
contact as ``card``, a plain dict of its public fields.
"""

import copy

from django.core import checks
from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.snippets.blocks import SnippetChooserBlock

from ..models import Contact, ContactKind, Folder
from ..services.public import (
    is_public,
    phone_display_format,
    public_card,
    public_contact_list,
    public_fields,
    with_public_related,
)
from .base import CRMStructBlock

#: Contacts a list shows when the editor sets no limit.
DEFAULT_LIST_LIMIT = 12
#: The most contacts one list may show.
MAX_LIST_LIMIT = 100


def _is_preview(context):
    request = (context or {}).get("request")
    return getattr(request, "is_preview", False) is True


def public_folder_choices():
    """Folders whose contacts may be listed on pages, as (id, name) choices."""
    folders = Folder.objects.filter(is_public=True).order_by("name").values_list("pk", "name")
    return [(str(pk), name) for pk, name in folders]


class ContactCardBlock(SnippetChooserBlock):
    """One contact, chosen by the editor, shown as a card of its public fields.

    Args:
        target_model: the contact model to choose from, "wagtail_crm.Person" (the default) or
            "wagtail_crm.Organization".

    A contact that has since left its public folder, or was moved to the trash, renders nothing
    (a short note in preview).
    """

    def __init__(self, target_model="wagtail_crm.Person", **kwargs):
        super().__init__(target_model, **kwargs)

    def to_python(self, value):
        if isinstance(value, self.model_class):
            return value
        return self.bulk_to_python([value])[0]

    def bulk_to_python(self, values):
        # Like ChooserBlock.bulk_to_python, with what the card shows loaded in the same round.
        queryset = with_public_related(self.model_class.objects.all())
        contacts = queryset.in_bulk([value for value in values if value is not None])
        seen = set()
        result = []
        for value in values:
            contact = contacts.get(value)
            result.append(copy.copy(contact) if contact is not None and value in seen else contact)
            seen.add(value)
        return result

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context=parent_context)
        context["card"] = (
            public_card(value, public_fields(), phone_display_format(context.get("request")))
            if is_public(value)
            else None
        )
        context["is_preview"] = _is_preview(context)
        return context

    def get_api_representation(self, value, context=None):
        if not is_public(value):
            return None
        request = (context or {}).get("request")
        return public_card(value, public_fields(), phone_display_format(request))

    def check(self, **kwargs):
        errors = super().check(**kwargs)
        if not issubclass(self.model_class, Contact):
            errors.append(
                checks.Error(
                    f"ContactCardBlock chooses contacts, not {self.model_class.__name__}.",
                    hint='Use "wagtail_crm.Person" or "wagtail_crm.Organization".',
                    obj=self,
                    id="wagtail_crm.E103",
                )
            )
        return errors

    class Meta:
        icon = "user"
        label = _("Contact card")
        template = "wagtail_crm/blocks/contact_card.html"


class ContactListBlock(CRMStructBlock):
    """People or organisations from public folders, filtered by folder and tag, by name."""

    heading = blocks.CharBlock(label=_("Heading"), required=False, max_length=255)
    kind = blocks.ChoiceBlock(
        label=_("Show"),
        choices=[
            (ContactKind.PERSON, _("People")),
            (ContactKind.ORGANIZATION, _("Organisations")),
        ],
        default=ContactKind.PERSON,
    )
    folder = blocks.ChoiceBlock(
        label=_("Folder"),
        choices=public_folder_choices,
        required=False,
        help_text=_("Only public folders are offered. Leave empty for all public folders."),
    )
    tag = blocks.CharBlock(
        label=_("Tag"),
        required=False,
        max_length=100,
        help_text=_("Only contacts with this tag."),
    )
    limit = blocks.IntegerBlock(
        label=_("At most"),
        default=DEFAULT_LIST_LIMIT,
        min_value=1,
        max_value=MAX_LIST_LIMIT,
    )

    def contacts(self, value):
        """The public contacts this list shows, with their public fields loaded.

        Args:
            value: the block's StructValue.

        Returns:
            A list of Contact.
        """
        folder = value.get("folder") or ""
        if folder and not str(folder).isdigit():
            return []
        limit = min(value.get("limit") or DEFAULT_LIST_LIMIT, MAX_LIST_LIMIT)
        return list(
            public_contact_list(
                kind=value.get("kind") or None,
                folder=int(folder) if folder else None,
                tag=(value.get("tag") or "").strip(),
                limit=limit,
            )
        )

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context=parent_context)
        fields = public_fields()
        phone_format = phone_display_format(context.get("request"))
        context["cards"] = [
            public_card(contact, fields, phone_format) for contact in self.contacts(value)
        ]
        context["heading"] = value.get("heading") or ""
        context["is_preview"] = _is_preview(context)
        return context

    def get_api_representation(self, value, context=None):
        representation = super().get_api_representation(value, context=context)
        request = (context or {}).get("request")
        fields = public_fields()
        phone_format = phone_display_format(request)
        representation["contacts"] = [
            public_card(contact, fields, phone_format) for contact in self.contacts(value)
        ]
        return representation

    class Meta:
        icon = "group"
        label = _("Contact list")
        template = "wagtail_crm/blocks/contact_list.html"


#: Migrations refer to these blocks by the package path, wherever they are defined.
DECONSTRUCT_ALIASES = {
    ContactCardBlock: "wagtail_crm.blocks.ContactCardBlock",
    ContactListBlock: "wagtail_crm.blocks.ContactListBlock",
}
