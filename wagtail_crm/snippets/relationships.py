"""Admin viewsets for relationship types and relationships."""

import django_filters
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Exists, OuterRef, Prefetch, Value
from django.http import Http404
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
    Relationship,
    RelationshipParticipant,
    RelationshipType,
)
from ..permissions import HIDDEN_CONTACT, contact_policy, folder_levels
from .access import ContactChooser
from .configuration import (
    DELETE_TEMPLATE,
    WHY_NEEDED,
    WHY_REFUSED_TO_USER,
    RefusingDeleteView,
)

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
    return str(_("Active")) if relationship.is_active() else str(_("Past"))


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


class Status:
    ACTIVE = "active"
    PAST = "past"
    CHOICES = [(ACTIVE, _("Active")), (PAST, _("Past"))]


def visible_contacts_for_filter(request):
    if request is None:
        return Contact.objects.none()
    return contacts_visible_to(request.user).order_by("sort_name", "pk")


class RelationshipFilterSet(WagtailFilterSet):
    type = django_filters.ModelChoiceFilter(
        label=_("Type"), queryset=RelationshipType.objects.all()
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=Status.CHOICES, method="filter_status"
    )
    contact = django_filters.ModelChoiceFilter(
        label=_("Contact"), queryset=visible_contacts_for_filter, method="filter_contact",
        widget=ContactChooser,
    )

    class Meta:
        model = Relationship
        fields = []

    def filter_status(self, queryset, name, value):
        if value == Status.ACTIVE:
            return queryset.active()
        if value == Status.PAST:
            return queryset.past()
        return queryset

    def filter_contact(self, queryset, name, value):
        return queryset.involving(value) if value else queryset


class RelationshipIndexView(snippets.IndexView):
    """Relationships the user may see; hidden participants are never named."""

    def get_base_queryset(self):
        queryset = relationships_visible_to(self.request.user, super().get_base_queryset())
        return with_participants(queryset, self.request.user)

    def to_row_dict(self, item):
        computed = {
            "type": item.type.name,
            "participants": participants_text(item),
            "status": status_text(item),
        }
        return {
            field: computed[field] if field in computed else getattr(item, field)
            for field in self.list_export
        }


class RelationshipCreateView(snippets.CreateView):
    """``?contact=<pk>`` fills in the first participant, ``&type=<slug>`` the type."""

    def get_initial_form_instance(self):
        instance = super().get_initial_form_instance() or Relationship()
        relationship_type = None
        slug = self.request.GET.get("type")
        if slug:
            relationship_type = RelationshipType.objects.filter(slug=slug).first()
        if relationship_type is not None:
            instance.type = relationship_type
        contact_id = self.request.GET.get("contact")
        contact = None
        if contact_id and contact_id.isdigit():
            contact = contacts_visible_to(self.request.user).filter(pk=contact_id).first()
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
    list_export = ["type", "participants", "start_date", "end_date", "status", "description"]
    export_headings = {
        "type": _("Type"), "participants": _("Participants"), "start_date": _("Start date"),
        "end_date": _("End date"), "status": _("Status"), "description": _("Description"),
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
