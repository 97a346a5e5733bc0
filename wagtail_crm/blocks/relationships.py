"""A StreamField block that shows an organisation's tree (or any hierarchy) on a page.

The tree comes from :func:`wagtail_crm.services.relationships.subtree`. On a page only contacts
that are live and in a public folder are named; a contact that is not public is left out
together with everything below it, so that neither its name nor the shape of the hidden branch
shows. Of each public contact only the fields in WAGTAIL_CRM_PUBLIC_FIELDS are shown (its name
when "display_name" is listed, its job title when "job_title" is), through
:func:`wagtail_crm.services.public.public_card`.
"""

from django.utils.translation import gettext_lazy as _
from wagtail import blocks
from wagtail.snippets.blocks import SnippetChooserBlock

from ..models import Contact
from ..models.relationships import RelationshipType
from ..services.public import (
    phone_display_format,
    public_card,
    public_contacts,
    public_fields,
    with_public_related,
)
from .base import CRMStructBlock
from .contacts import _is_preview

#: What the tree follows when the editor picks no type: departments, subsidiaries, employees.
DEFAULT_TREE_TYPES = ("department-of", "subsidiary-of", "employee-of")
#: Levels shown when the editor sets none, and the most allowed.
DEFAULT_DEPTH = 3
MAX_DEPTH = 6


def hierarchical_type_choices():
    """Hierarchical relationship types as (id, name) choices."""
    types = RelationshipType.objects.filter(is_hierarchical=True).values_list("pk", "name")
    return [(str(pk), name) for pk, name in types]


def public_tree(root, types=None, depth=DEFAULT_DEPTH, fields=None, phone_format="international"):
    """The public part of the tree below ``root``, as nested dicts for a template.

    Args:
        root: a Contact or its id.
        types: RelationshipTypes (instances, ids or slugs); DEFAULT_TREE_TYPES when empty.
        depth: how many levels below the root.
        fields: public field keys; those of the setting when None.
        phone_format: how public phone numbers are shown.

    Returns:
        ``(root_card, items)``: the root's public card (None when the root is not public,
        and then no items) and its children, each a dict of ``card``, ``role`` and
        ``children``.
    """
    from ..services.relationships import subtree

    fields = public_fields() if fields is None else fields
    root_id = getattr(root, "pk", root)
    if root_id is None:
        return None, []
    nodes = subtree(root_id, list(types or DEFAULT_TREE_TYPES), depth)
    queryset = with_public_related(public_contacts(Contact.objects.all()), fields)
    contacts = queryset.in_bulk({node.contact_id for node in nodes})
    if root_id not in contacts:
        return None, []
    cards = {pk: public_card(contact, fields, phone_format) for pk, contact in contacts.items()}
    items, top = {}, []
    for node in nodes:
        if node.depth == 0:
            continue
        parent_path = node.path_text[: node.path_text.rindex(",", 0, -1) + 1]
        parent = items.get(parent_path)
        if node.contact_id not in cards or (node.depth > 1 and parent is None):
            continue  # not public, or below a contact that is not
        item = {"card": cards[node.contact_id], "role": node.role_name, "children": []}
        items[node.path_text] = item
        (parent["children"] if parent else top).append(item)
    return cards[root_id], top


class RelationshipTreeBlock(CRMStructBlock):
    """An organisation and what lies below it (departments, subsidiaries, people), nested."""

    heading = blocks.CharBlock(label=_("Heading"), required=False, max_length=255)
    root = SnippetChooserBlock(
        "wagtail_crm.Organization", label=_("Organisation"),
        help_text=_("The top of the tree. Only contacts in public folders are shown."),
    )
    types = blocks.MultipleChoiceBlock(
        label=_("Relationship types"),
        choices=hierarchical_type_choices,
        required=False,
        help_text=_("Leave empty for departments, subsidiaries and employees."),
    )
    depth = blocks.IntegerBlock(
        label=_("Levels"), default=DEFAULT_DEPTH, min_value=1, max_value=MAX_DEPTH
    )

    def tree(self, value, request=None):
        """``(root_card, items)`` for the block's value; see :func:`public_tree`."""
        types = [int(pk) for pk in value.get("types") or [] if str(pk).isdigit()]
        depth = min(max(value.get("depth") or DEFAULT_DEPTH, 1), MAX_DEPTH)
        return public_tree(
            value.get("root"), types, depth, phone_format=phone_display_format(request)
        )

    def get_context(self, value, parent_context=None):
        context = super().get_context(value, parent_context=parent_context)
        context["root_card"], context["items"] = self.tree(value, context.get("request"))
        context["heading"] = value.get("heading") or ""
        context["is_preview"] = _is_preview(context)
        return context

    def get_api_representation(self, value, context=None):
        root_card, items = self.tree(value, (context or {}).get("request"))
        return {"heading": value.get("heading") or "", "root": root_card, "children": items}

    # Migrations name this block by its path, as for ContactListBlock.
    class Meta:
        icon = "list-ul"
        label = _("Organisation tree")
        template = "wagtail_crm/blocks/relationship_tree.html"


#: Migrations refer to the block by the package path.
DECONSTRUCT_ALIASES = {
    RelationshipTreeBlock: "wagtail_crm.blocks.RelationshipTreeBlock",
}
