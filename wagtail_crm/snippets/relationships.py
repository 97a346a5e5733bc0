"""Admin viewsets for relationship types and relationships."""

from urllib.parse import urlencode

import django_filters
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Prefetch, Value
from django.http import Http404
from django.template.response import TemplateResponse
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.panels import FieldPanel, InlinePanel, ObjectList
from wagtail.admin.ui.tables import BooleanColumn, Column, DateColumn, NumberColumn
from wagtail.snippets.views import snippets
from wagtail.snippets.views.snippets import SnippetViewSet

from ..forms.relationships import RelationshipForm, RelationshipTypeForm
from ..models import (
    Contact,
    CRMSettings,
    CustomField,
    CustomFieldTarget,
    Relationship,
    RelationshipParticipant,
    RelationshipStatus,
    RelationshipType,
)
from ..panels import format_custom_value
from ..permissions import HIDDEN_CONTACT, contact_policy, folder_levels
from .access import ContactChooser
from .configuration import (
    DELETE_TEMPLATE,
    WHY_NEEDED,
    WHY_REFUSED_TO_USER,
    RefusingDeleteView,
)
from .listing import escape_formula

# Relationship types --------------------------------------------------------------------------


def why_relationship_type_is_needed(relationship_type):
    """Why ``relationship_type`` cannot be deleted now, or an empty string."""
    count = Relationship.objects.filter(type=relationship_type).count()
    if not count:
        return ""
    return ngettext(
        "%(count)d relationship is of this type; change its type or delete it first.",
        "%(count)d relationships are of this type; change their type or delete them first.",
        count,
    ) % {"count": count}


class RelationshipTypeDeleteView(RefusingDeleteView):
    def get_refusal(self):
        return why_relationship_type_is_needed(self.object) or super().get_refusal()


class RelationshipTypeViewSet(SnippetViewSet):
    model = RelationshipType
    icon = "link"
    menu_label = _("Relationship types")
    menu_order = 450
    url_prefix = "crm/relationship-types"
    delete_view_class = RelationshipTypeDeleteView
    delete_template_name = DELETE_TEMPLATE
    copy_view_enabled = False
    search_fields = ["name", "slug"]
    list_display = [
        "name",
        "slug",
        BooleanColumn("is_symmetric", label=_("Symmetric"), sort_key="is_symmetric"),
        BooleanColumn("is_hierarchical", label=_("Hierarchical"), sort_key="is_hierarchical"),
        NumberColumn("relationship_count", label=_("Used by"), sort_key="relationship_count"),
    ]
    edit_handler = ObjectList(
        [FieldPanel("name"), FieldPanel("slug"), FieldPanel("description"),
         FieldPanel("is_symmetric"), FieldPanel("is_hierarchical"),
         FieldPanel("sets_primary_organization"), FieldPanel("sort_order"),
         InlinePanel(
             "roles",
             heading=_("Roles"),
             label=_("Role"),
             min_num=1,
             panels=[FieldPanel("name"), FieldPanel("slug"), FieldPanel("allowed_kind"),
                     FieldPanel("min_participants"), FieldPanel("max_participants"),
                     FieldPanel("tree_position")],
         )],
        base_form_class=RelationshipTypeForm,
    )

    def get_queryset(self, request):
        return RelationshipType.objects.annotate(relationship_count=Count("relationships"))


# The listing's bulk delete leaves alone types that relationships still use.
WHY_NEEDED[RelationshipType] = why_relationship_type_is_needed


# Relationships: access -----------------------------------------------------------------------


def contacts_visible_to(user, action="view"):
    """Contacts the user may ``action``: a queryset to use inside other queries."""
    return contact_policy.filter_queryset(Contact.objects.all(), user, action)


def relationships_visible_to(user, queryset=None):
    """Relationships with at least one participant the user may view."""
    queryset = Relationship.objects.all() if queryset is None else queryset
    if folder_levels(user) is None:
        return queryset
    return queryset.filter(Exists(RelationshipParticipant.objects.filter(
        relationship=OuterRef("pk"), contact__in=contacts_visible_to(user)
    )))


def with_participants(queryset, user):
    """``queryset`` with its participants, contacts and roles loaded in one more query.

    Each participant has ``is_visible``: whether the user may view its contact.
    """
    participants = RelationshipParticipant.objects.select_related("contact", "role").order_by(
        "sort_order", "pk"
    )
    if folder_levels(user) is None:
        participants = participants.annotate(is_visible=Value(True))
    else:
        participants = participants.annotate(is_visible=Exists(
            contacts_visible_to(user).filter(pk=OuterRef("contact_id"))
        ))
    return queryset.select_related("type").prefetch_related(
        Prefetch("participants", queryset=participants, to_attr="loaded_participants")
    )


def participant_label(participant):
    """"Name (role)", or "Hidden contact (role)" for a contact the user may not view."""
    name = participant.contact if participant.is_visible else HIDDEN_CONTACT
    return f"{name} ({participant.role.name})"


def participants_text(relationship):
    return ", ".join(participant_label(p) for p in relationship.loaded_participants)


def status_text(relationship):
    return str(relationship.status().label)


def relationship_title(relationship, user):
    """A title for the relationship's pages that names only the contacts the user may view."""
    loaded = with_participants(Relationship.objects.filter(pk=relationship.pk), user).first()
    if loaded is None:
        return relationship.type.name if relationship.type_id else str(_("Relationship"))
    names = participants_text(loaded)
    return f"{loaded.type.name}: {names}" if names else loaded.type.name


class VisibleRelationshipMixin:
    """404 for a relationship without a participant the user may view.

    With :attr:`instance_action` set, the user must also be allowed that action on at least
    one participant. Page titles and messages name only visible contacts.
    """

    instance_action = None

    def get_object(self, *args, **kwargs):
        obj = super().get_object(*args, **kwargs)
        user = self.request.user
        if not relationships_visible_to(user).filter(pk=obj.pk).exists():
            raise Http404
        if self.instance_action and folder_levels(user) is not None:
            may = RelationshipParticipant.objects.filter(
                relationship=obj, contact__in=contacts_visible_to(user, self.instance_action)
            )
            if not may.exists():
                raise PermissionDenied
        return obj

    def get_page_subtitle(self):
        return relationship_title(self.object, self.request.user)

    def get_breadcrumbs_items(self):
        # Wagtail names the object with str(), which names every participant.
        leaked, safe = str(self.object), self.get_page_subtitle()
        return [
            {**item, "label": safe} if str(item.get("label")) == leaked else item
            for item in super().get_breadcrumbs_items()
        ]

    def get_success_message(self, *args, **kwargs):
        return _("Relationship saved.") if self.instance_action == "change" else _(
            "Relationship deleted."
        )


def visible_relationship_only(view_class, action=None):
    return type(
        view_class.__name__,
        (VisibleRelationshipMixin, view_class),
        {"__module__": __name__, "instance_action": action},
    )


# Relationships: listing and export -----------------------------------------------------------


def visible_contacts_for_filter(request):
    if request is None:
        return Contact.objects.none()
    return contacts_visible_to(request.user).order_by("sort_name", "pk")


class RelationshipFilterSet(WagtailFilterSet):
    type = django_filters.ModelChoiceFilter(
        label=_("Type"), queryset=RelationshipType.objects.all()
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=RelationshipStatus.choices, method="filter_status"
    )
    contact = django_filters.ModelChoiceFilter(
        label=_("Contact"), queryset=visible_contacts_for_filter, method="filter_contact",
        widget=ContactChooser,
    )

    class Meta:
        model = Relationship
        fields = []

    def filter_status(self, queryset, name, value):
        return queryset.with_status(value) if value else queryset

    def filter_contact(self, queryset, name, value):
        return queryset.involving(value) if value else queryset


def role_participants_text(relationship, role):
    """The participants of ``relationship`` in ``role``, named as the user may see them."""
    return ", ".join(
        str(p.contact) if p.is_visible else str(HIDDEN_CONTACT)
        for p in relationship.loaded_participants if p.role_id == role.pk
    )


def participant_uids_text(relationship):
    """``role=uid`` pairs, the contacts' stable ids, to match the contacts' own export."""
    return "; ".join(
        f"{p.role.slug}={p.contact.uid if p.is_visible else HIDDEN_CONTACT}"
        for p in relationship.loaded_participants
    )


def attribute_text(definition, crm_settings):
    """A function giving a relationship's value of a custom field as text."""
    def text(relationship):
        if relationship.type_id != definition.relationship_type_id:
            return ""
        return str(format_custom_value(
            definition, (relationship.custom or {}).get(definition.key), crm_settings
        ))
    return text


class RelationshipIndexView(snippets.IndexView):
    """Relationships the user may see; hidden participants are never named.

    Filtered by one type, the listing shows a column per role and per custom field of that
    type. Exports carry every custom field of the types listed, and the participants' ids.
    """

    #: Fields exported whatever the type.
    base_export = ["type", "participants", "participant_uids", "start_date", "end_date",
                   "status", "is_primary", "description"]

    def get_base_queryset(self):
        queryset = relationships_visible_to(self.request.user, super().get_base_queryset())
        return with_participants(queryset, self.request.user)

    @cached_property
    def chosen_type(self):
        """The type the listing is filtered by, or None."""
        if self.filters and self.filters.is_valid():
            return self.filters.form.cleaned_data.get("type")
        return None

    @cached_property
    def attribute_fields(self):
        """The custom fields shown: the chosen type's, or for an export every type's."""
        if self.chosen_type is not None:
            return list(CustomField.objects.for_relationship_type(self.chosen_type))
        if self.is_export:
            return list(
                CustomField.objects.filter(target=CustomFieldTarget.RELATIONSHIP)
                .select_related("relationship_type")
                .order_by("relationship_type__sort_order", "relationship_type__name",
                          "sort_order", "pk")
            )
        return []

    @cached_property
    def roles(self):
        if self.chosen_type is None:
            return []
        return list(self.chosen_type.roles.all())

    def attribute_heading(self, definition):
        if self.chosen_type is not None:
            return definition.label
        return f"{definition.relationship_type.name}: {definition.label}"

    @cached_property
    def columns(self):
        columns = list(super().columns)
        if self.chosen_type is None:
            return columns
        index = next(i for i, column in enumerate(columns) if column.name == "participants")
        columns[index:index + 1] = [
            Column(f"role_{role.pk}", label=role.name,
                   accessor=lambda item, role=role: role_participants_text(item, role))
            for role in self.roles
        ]
        crm_settings = CRMSettings.load(request_or_site=self.request)
        columns += [
            Column(f"custom_{definition.pk}", label=definition.label,
                   accessor=attribute_text(definition, crm_settings))
            for definition in self.attribute_fields
        ]
        return columns

    @cached_property
    def list_export(self):
        roles = [f"role:{role.pk}" for role in self.roles]
        fields = [f"custom:{definition.pk}" for definition in self.attribute_fields]
        return [*self.base_export[:2], *roles, *self.base_export[2:], *fields]

    def preprocess_field_value(self, field, value, export_format):
        # Names, descriptions and custom values are the users' text: never formulas.
        return escape_formula(super().preprocess_field_value(field, value, export_format))

    def get_heading(self, queryset, field):
        if field.startswith("role:"):
            return next(role.name for role in self.roles if f"role:{role.pk}" == field)
        if field.startswith("custom:"):
            return self.attribute_heading(self.export_attributes[field])
        return super().get_heading(queryset, field)

    @cached_property
    def export_attributes(self):
        return {f"custom:{definition.pk}": definition for definition in self.attribute_fields}

    def to_row_dict(self, item):
        row = {}
        for field in self.list_export:
            if field == "type":
                value = item.type.name
            elif field == "participants":
                value = participants_text(item)
            elif field == "participant_uids":
                value = participant_uids_text(item)
            elif field == "status":
                value = status_text(item)
            elif field.startswith("role:"):
                role = next(role for role in self.roles if f"role:{role.pk}" == field)
                value = role_participants_text(item, role)
            elif field.startswith("custom:"):
                definition = self.export_attributes[field]
                value = ""
                if item.type_id == definition.relationship_type_id:
                    stored = (item.custom or {}).get(definition.key)
                    value = definition.from_json(stored)
                    value = "" if value is None else value
            else:
                value = getattr(item, field)
            row[field] = value
        return row


def chosen_type(value):
    """The RelationshipType named by a slug or an id, or None."""
    if not value:
        return None
    if value.isdigit():
        return RelationshipType.objects.filter(pk=value).first()
    return RelationshipType.objects.filter(slug=value).first()


class RelationshipCreateView(snippets.CreateView):
    """Adding a relationship starts with its type: the roles and fields depend on it.

    ``?type=<slug or id>`` chooses the type (without it, a page lists the types to choose
    from); ``?contact=<pk>`` fills in the first participant in a role that accepts it.
    """

    choose_type_template_name = "wagtail_crm/relationships/choose_type.html"

    @cached_property
    def relationship_type(self):
        return chosen_type(self.request.GET.get("type", ""))

    @cached_property
    def prefilled_contact(self):
        contact_id = self.request.GET.get("contact", "")
        if not contact_id.isdigit():
            return None
        return contacts_visible_to(self.request.user).filter(pk=contact_id).first()

    def get(self, request, *args, **kwargs):
        if self.relationship_type is None:
            return self.choose_type(request)
        return super().get(request, *args, **kwargs)

    def get_add_url(self):
        # The form posts back with the chosen type, which its disabled field does not send.
        url = super().get_add_url()
        if self.relationship_type is None:
            return url
        separator = "&" if "?" in url else "?"
        return f"{url}{separator}{urlencode({'type': self.relationship_type.slug})}"

    def choose_type(self, request):
        """The page that lists the types, each linking back here with the type chosen."""
        contact = self.prefilled_contact
        query = {"contact": contact.pk} if contact else {}
        types = RelationshipType.objects.prefetch_related("roles").order_by("sort_order", "name")
        choices = []
        for relationship_type in types:
            roles = list(relationship_type.roles.all())
            if contact is not None and not any(role.accepts(contact) for role in roles):
                continue
            choices.append({
                "type": relationship_type,
                "roles": roles,
                "url": "?" + urlencode({**query, "type": relationship_type.slug}),
            })
        context = {
            "view": self,
            "page_title": self.get_page_title(),
            "page_subtitle": _("Choose the type of relationship"),
            "header_title": self.get_page_title(),
            "header_icon": self.header_icon,
            "breadcrumbs_items": self.get_breadcrumbs_items(),
            "contact": contact,
            "choices": choices,
        }
        return TemplateResponse(request, self.choose_type_template_name, context)

    def get_initial_form_instance(self):
        instance = super().get_initial_form_instance() or Relationship()
        relationship_type = self.relationship_type
        if relationship_type is not None:
            instance.type = relationship_type
            #: Read by RelationshipForm: the type was chosen before the form.
            instance.type_is_chosen = True
        contact = self.prefilled_contact
        if contact is not None:
            role = None
            if relationship_type is not None:
                role = next(
                    (r for r in relationship_type.roles.all() if r.accepts(contact)), None
                )
            instance.participants = [RelationshipParticipant(contact=contact, role=role)]
        return instance

    def get_success_message(self, *args, **kwargs):
        return _("Relationship added.")


class RelationshipViewSet(SnippetViewSet):
    model = Relationship
    icon = "link"
    menu_label = _("Relationships")
    menu_order = 250
    url_prefix = "crm/relationships"
    index_view_class = RelationshipIndexView
    add_view_class = RelationshipCreateView
    edit_view_class = visible_relationship_only(snippets.EditView, "change")
    delete_view_class = visible_relationship_only(snippets.DeleteView, "delete")
    history_view_class = visible_relationship_only(snippets.HistoryView)
    usage_view_class = visible_relationship_only(snippets.UsageView)
    revisions_compare_view_class = visible_relationship_only(snippets.RevisionsCompareView)
    copy_view_enabled = False
    inspect_view_enabled = False
    filterset_class = RelationshipFilterSet
    ordering = ("-start_date", "pk")
    export_filename = "relationships"
    # The index view decides what is exported (it depends on the type filter).
    export_headings = {
        "type": _("Type"), "participants": _("Participants"),
        "participant_uids": _("Participant ids"), "start_date": _("Start date"),
        "end_date": _("End date"), "status": _("Status"), "is_primary": _("Primary"),
        "description": _("Description"),
    }
    list_display = [
        Column("type", label=_("Type"), accessor="type.name", sort_key="type__name"),
        Column("participants", label=_("Participants"), accessor=participants_text),
        DateColumn("start_date", label=_("Start"), sort_key="start_date"),
        DateColumn("end_date", label=_("End"), sort_key="end_date"),
        Column("status", label=_("Status"), accessor=status_text),
    ]
    edit_handler = ObjectList(
        [FieldPanel("type"),
         InlinePanel(
             "participants", heading=_("Participants"), label=_("Participant"), min_num=1,
             panels=[FieldPanel("contact"), FieldPanel("role")],
         ),
         FieldPanel("start_date"), FieldPanel("end_date"), FieldPanel("description"),
         FieldPanel("is_primary")],
        base_form_class=RelationshipForm,
    )


def why_bulk_delete_is_refused(user, relationships):
    """Users limited to some folders delete relationships one at a time.

    The bulk confirmation page names each relationship with all its participants, so it is
    refused unless the user may view every participant and delete one of each relationship.
    """
    if folder_levels(user) is None:
        return ""
    ids = [relationship.pk for relationship in relationships]
    hidden = RelationshipParticipant.objects.filter(relationship__in=ids).exclude(
        contact__in=contacts_visible_to(user)
    )
    deletable = RelationshipParticipant.objects.filter(
        relationship__in=ids, contact__in=contacts_visible_to(user, "delete")
    ).values("relationship").distinct()
    if hidden.exists() or deletable.count() < len(set(ids)):
        return _(
            "Some of these relationships involve contacts you cannot see or delete: delete "
            "relationships one at a time."
        )
    return ""


WHY_REFUSED_TO_USER[Relationship] = why_bulk_delete_is_refused
