"""The contact page's panels, and the registry that lets other features add theirs.

A panel is a :class:`ContactPanel`: a laces component with a ``name``, the ``tab`` it sits in, an
``order`` within that tab and an ``is_shown(contact, request)`` test. Features add a panel by
registering a callable that returns one (a ``ContactPanel`` subclass qualifies) for the Wagtail hook
``register_crm_contact_panel``. Panels read what the contact page view loaded in one go (the contact
with its methods, addresses and tags), so that showing them costs no query per row.
"""

import datetime
from dataclasses import dataclass, field

from django.contrib.contenttypes.models import ContentType
from django.core.paginator import Paginator
from django.db.models import Case, Count, F, Prefetch, Value, When, Window
from django.db.models.functions import RowNumber
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from wagtail import hooks
from wagtail.admin.ui.components import Component
from wagtail.models import ModelLogEntry

from .models import (
    Contact,
    CRMSettings,
    CustomField,
    CustomFieldType,
    MethodScheme,
    Organization,
    Person,
)
from .models.relationships import Relationship, RelationshipParticipant, RelationshipStatus
from .permissions import HIDDEN_CONTACT, VIEW, contact_policy, folder_ids
from .phones import format_phone

#: The Wagtail hook whose registered callables each return an extra panel.
PANEL_HOOK = "register_crm_contact_panel"

#: The tabs of the contact page, in order, with their headings.
TABS = {
    "summary": _("Summary"),
    "details": _("Details"),
    "events": _("Events"),
    "relations": _("Relations"),
}
#: Panels in this tab are shown below the tabs, one after another.
TIMELINE = "timeline"


class ContactPanel(Component):
    """One block of the contact page; subclasses set the attributes and add ``get_context``."""

    #: Unique name; the panel is the section ``crm-panel-<name>-section`` of the page.
    name = ""
    #: Heading shown above the panel.
    heading = ""
    #: Name of the Wagtail icon shown beside the heading.
    icon = "placeholder"
    #: The tab the panel sits in: a key of TABS, or TIMELINE.
    tab = "summary"
    #: Position within the tab, lowest first.
    order = 100
    template_name = ""

    def is_shown(self, contact, request):
        """Whether the panel appears on this contact's page."""
        return True

    def get_heading(self, contact):
        return self.heading

    def get_context(self, contact, request):
        """The panel's own template variables."""
        return {}

    def get_context_data(self, parent_context=None):
        contact = parent_context["contact"]
        request = parent_context["request"]
        return {
            "panel": self,
            "heading": self.get_heading(contact),
            "contact": contact,
            "request": request,
            **self.get_context(contact, request),
        }


@dataclass
class Tab:
    name: str
    heading: str
    panels: list = field(default_factory=list)


def get_panels():
    """Every panel: the built-in ones and those returned by ``register_crm_contact_panel`` hooks."""
    panels = [panel_class() for panel_class in BUILT_IN_PANELS]
    for fn in hooks.get_hooks(PANEL_HOOK):
        panel = fn()
        if panel is not None:
            panels.append(panel)
    return panels


def get_contact_page_layout(contact, request):
    """The tabs that have panels to show for ``contact`` and the timeline panels, in order."""
    shown = sorted(
        (panel for panel in get_panels() if panel.is_shown(contact, request)),
        key=lambda panel: panel.order,
    )
    tabs = [Tab(name, heading) for name, heading in TABS.items()]
    by_name = {tab.name: tab for tab in tabs}
    timeline = []
    for panel in shown:
        if panel.tab == TIMELINE:
            timeline.append(panel)
        elif panel.tab in by_name:
            by_name[panel.tab].panels.append(panel)
    return [tab for tab in tabs if tab.panels], timeline


# Helpers ---------------------------------------------------------------------


def method_row(method, crm_settings):
    """What the page shows of a contact method."""
    return {
        "type": method.type.name,
        "icon": method.type.icon,
        "label": method.label,
        "value": method.display_value(crm_settings.phone_display_format),
        # ContactMethod.link() never returns a script URL.
        "url": method.link(crm_settings.click_to_call_template),
        "is_primary": method.is_primary,
    }


def first_of_scheme(methods, scheme):
    return next((m for m in methods if m.type.scheme == scheme), None)


def proxy_model(contact):
    """Person or Organization, whichever ``contact`` is."""
    return Person if contact.is_person else Organization


def contact_url(contact, view_name="inspect"):
    """The admin URL of ``contact`` for one of its viewset's views (the contact page by default)."""
    viewset = proxy_model(contact).snippet_viewset
    return reverse(viewset.get_url_name(view_name), args=[contact.pk])


def page_of(request, queryset, param, per_page):
    """The page of ``queryset`` picked by the ``param`` query parameter, with neighbours' URLs."""
    page = Paginator(queryset, per_page).get_page(request.GET.get(param))

    def url(number):
        query = request.GET.copy()
        query[param] = number
        return "?" + query.urlencode()

    return {
        "page": page,
        "previous_url": url(page.previous_page_number()) if page.has_previous() else "",
        "next_url": url(page.next_page_number()) if page.has_next() else "",
    }


def next_anniversary(date, today):
    """The first day on or after ``today`` with the month and day of ``date``.

    29 February falls on 28 February in other years.
    """
    for year in (today.year, today.year + 1):
        try:
            candidate = date.replace(year=year)
        except ValueError:
            candidate = datetime.date(year, 2, 28)
        if candidate >= today:
            return candidate


def format_custom_value(definition, value, crm_settings):
    """A stored custom value as text for the page."""
    if value in (None, "", []):
        return ""
    ftype = definition.field_type if definition else None
    if ftype == CustomFieldType.BOOLEAN:
        return _("Yes") if value else _("No")
    if ftype == CustomFieldType.DATE:
        return definition.from_json(value)
    if ftype == CustomFieldType.PHONE:
        return format_phone(str(value), crm_settings.phone_display_format)
    if ftype == CustomFieldType.PERCENT:
        return f"{value}%"
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return str(value)


# Built-in panels ---------------------------------------------------------------


def organization_context(contact, request):
    """A person's organisation for a template: named and linked only if the user may see it."""
    organization = contact.primary_organization if contact.is_person else None
    if organization is None:
        return {"organization": None, "organization_url": "", "organization_hidden": False}
    if not contact_policy.user_has_permission_for_instance(request.user, "view", organization):
        return {
            "organization": HIDDEN_CONTACT,
            "organization_url": "",
            "organization_hidden": True,
        }
    return {
        "organization": organization,
        "organization_url": "" if organization.in_trash else contact_url(organization),
        "organization_hidden": False,
    }


class SummaryPanel(ContactPanel):
    name = "summary"
    heading = _("Summary")
    icon = "user"
    tab = "summary"
    order = 10
    template_name = "wagtail_crm/contacts/panels/summary.html"

    def get_context(self, contact, request):
        crm_settings = CRMSettings.load(request_or_site=request)
        methods = list(contact.methods.all())
        email = first_of_scheme(methods, MethodScheme.EMAIL)
        phone = first_of_scheme(methods, MethodScheme.PHONE)
        addresses = list(contact.addresses.all())
        return {
            "email": email and method_row(email, crm_settings),
            "phone": phone and method_row(phone, crm_settings),
            "address": addresses[0].lines() if addresses else [],
            **organization_context(contact, request),
            "tags": list(contact.tags.all()),
        }


class ContactMethodsPanel(ContactPanel):
    name = "methods"
    heading = _("Contact methods")
    icon = "mail"
    tab = "details"
    order = 10
    template_name = "wagtail_crm/contacts/panels/methods.html"

    def get_context(self, contact, request):
        crm_settings = CRMSettings.load(request_or_site=request)
        return {"methods": [method_row(m, crm_settings) for m in contact.methods.all()]}


class AddressesPanel(ContactPanel):
    name = "addresses"
    heading = _("Addresses")
    icon = "site"
    tab = "details"
    order = 20
    template_name = "wagtail_crm/contacts/panels/addresses.html"

    def get_context(self, contact, request):
        return {"addresses": list(contact.addresses.all())}


class CustomValuesPanel(ContactPanel):
    name = "custom"
    heading = _("Custom fields")
    icon = "form"
    tab = "details"
    order = 30
    template_name = "wagtail_crm/contacts/panels/custom.html"

    def get_context(self, contact, request):
        crm_settings = CRMSettings.load(request_or_site=request)
        values = dict(contact.custom or {})
        rows = []
        for definition in CustomField.objects.for_target(contact.kind):
            value = values.pop(definition.key, None)
            rows.append((definition.label, format_custom_value(definition, value, crm_settings)))
        # Values whose definition was removed are kept: show them under their key.
        rows += [
            (key, format_custom_value(None, value, crm_settings)) for key, value in values.items()
        ]
        return {"rows": rows}


class MoreDetailsPanel(ContactPanel):
    name = "more"
    heading = _("More details")
    icon = "info-circle"
    tab = "details"
    order = 40
    template_name = "wagtail_crm/contacts/panels/more.html"


class EventsPanel(ContactPanel):
    name = "events"
    heading = _("Events")
    icon = "date"
    tab = "events"
    order = 10
    template_name = "wagtail_crm/contacts/panels/events.html"

    def get_context(self, contact, request):
        events = []
        if contact.birthday:
            today = timezone.localdate()
            upcoming = next_anniversary(contact.birthday, today)
            days = (upcoming - today).days
            note = (
                _("Today")
                if days == 0
                else ngettext(
                    "Next on %(date)s, in %(days)d day", "Next on %(date)s, in %(days)d days", days
                )
                % {"date": date_format(upcoming), "days": days}
            )
            events.append({"label": _("Birthday"), "date": contact.birthday, "note": note})
        events.append({"label": _("Created"), "date": contact.created_at, "note": ""})
        events.append({"label": _("Updated"), "date": contact.updated_at, "note": ""})
        if contact.deleted_at:
            events.append({"label": _("Moved to trash"), "date": contact.deleted_at, "note": ""})
        return {"events": events}


class RelationsPanel(ContactPanel):
    name = "organisation"
    heading = _("Organisation")
    icon = "group"
    tab = "relations"
    order = 10
    template_name = "wagtail_crm/contacts/panels/relations.html"
    #: People listed per page on an organisation's page.
    per_page = 20

    def get_heading(self, contact):
        return self.heading if contact.is_person else _("People")

    def get_context(self, contact, request):
        if contact.is_person:
            return organization_context(contact, request)
        people = Contact.objects.people().filter(primary_organization=contact).order_by(
            "sort_name", "pk"
        ).only("pk", "kind", "display_name", "job_title", "primary_email", "primary_phone")
        people = contact_policy.filter_queryset(people, request.user, "view")
        pager = page_of(request, people, "people_page", self.per_page)
        return {
            "pager": pager,
            "people": [(person, contact_url(person)) for person in pager["page"]],
        }


#: The hierarchical types an organisation's tree and a person's chain follow. "Reports to" is
#: left out: following it as well would list each person under their department and their
#: manager.
ORGANISATION_TREE_TYPES = ("department-of", "subsidiary-of", "employee-of")


def relationship_add_url(contact, user=None):
    """The admin URL that adds a relationship with ``contact`` filled in, or "" without one.

    There is no link when the Relationships admin screens are not installed, or when ``user``
    (if given) may not add relationships.
    """
    try:
        viewset = Relationship.snippet_viewset
        url = reverse(viewset.get_url_name("add"))
    except (AttributeError, NoReverseMatch):
        return ""
    policy = getattr(viewset, "permission_policy", None)
    if user is not None and policy is not None and not policy.user_has_permission(user, "add"):
        return ""
    return f"{url}?contact={contact.pk}"


def contact_url_maker():
    """A function of (kind, id) giving a contact page's URL, reversing each viewset once."""
    templates = {
        kind: contact_url(model(pk=0, kind=kind)).replace("/0/", "/{}/")
        for kind, model in (("person", Person), ("organization", Organization))
    }
    return lambda kind, pk: templates[kind].format(pk)


def is_visible(contact_folder_id, visible_folders):
    """Whether a contact in that folder may be named to a user with those folder ids."""
    return visible_folders is None or contact_folder_id in visible_folders


def relationships_list_url(contact, relationship_type):
    """The Relationships listing filtered to ``contact``'s relationships of one type, or ""."""
    try:
        url = reverse(Relationship.snippet_viewset.get_url_name("list"))
    except (AttributeError, NoReverseMatch):
        return ""
    return f"{url}?contact={contact.pk}&type={relationship_type.pk}"


class RelationshipsPanel(ContactPanel):
    """The contact's relationships, grouped by type, under way and upcoming before past, with
    the others taking part.

    Each type lists its first :attr:`per_type` relationships and links to the Relationships
    listing for the rest. Two queries whatever the number of relationships: the
    relationships with their types (ranked and counted per type in SQL), and their
    participants with contacts and roles.
    """

    name = "relationships"
    heading = _("Relationships")
    icon = "link"
    tab = "relations"
    order = 20
    template_name = "wagtail_crm/contacts/panels/relationships.html"
    #: Relationships listed per type.
    per_type = 20

    def get_context(self, contact, request):
        visible = folder_ids(request.user, VIEW)
        visible = None if visible is None else set(visible)
        url_of = contact_url_maker()
        today = timezone.localdate()
        participants = RelationshipParticipant.objects.select_related("contact", "role").order_by(
            "role__sort_order", "contact__sort_name", "pk"
        )
        ended = Case(When(end_date__lt=today, then=Value(1)), default=Value(0))
        by_type = {"partition_by": [F("type_id")]}
        relationships = (
            Relationship.objects.involving(contact)
            .annotate(
                rank=Window(RowNumber(), order_by=[
                    ended.asc(), F("start_date").desc(nulls_last=True), F("pk").asc()
                ], **by_type),
                type_total=Window(Count("pk"), **by_type),
            )
            .filter(rank__lte=self.per_type)
            .select_related("type")
            .prefetch_related(Prefetch("participants", queryset=participants))
            .order_by("type__sort_order", "type__name", "type_id", "rank")
        )
        groups = {}
        for relationship in relationships:
            others, own_roles = [], []
            for participant in relationship.participants.all():
                other = participant.contact
                if other.pk == contact.pk:
                    own_roles.append(participant.role.name)
                    continue
                shown = is_visible(other.folder_id, visible)
                others.append({
                    "name": str(other) if shown else HIDDEN_CONTACT,
                    "hidden": not shown,
                    "in_trash": shown and other.deleted_at is not None,
                    "url": url_of(other.kind, other.pk)
                    if shown and other.deleted_at is None else "",
                    "role": participant.role.name,
                })
            status = relationship.status(today)
            row = {
                "relationship": relationship,
                "status": status,
                "status_label": status.label,
                "is_past": status == RelationshipStatus.PAST,
                "own_roles": own_roles,
                "others": others,
            }
            group = groups.setdefault(relationship.type_id, {
                "type": relationship.type,
                "rows": [],
                "total": relationship.type_total,
                "more_url": "",
            })
            group["rows"].append(row)
        for group in groups.values():
            if group["total"] > len(group["rows"]):
                group["more_url"] = relationships_list_url(contact, group["type"])
        return {
            "groups": list(groups.values()),
            "add_url": relationship_add_url(contact, request.user),
        }


def nest(nodes, url_of):
    """Subtree nodes (depth first, root first) as nested dicts for a template, without the root.

    Hidden nodes carry HIDDEN_CONTACT as their name and no URL.
    """
    items = {}
    top = []
    for node in nodes:
        if node.depth == 0:
            continue
        item = {
            "name": HIDDEN_CONTACT if node.hidden else node.display_name,
            "hidden": node.hidden,
            "url": "" if node.hidden else url_of(node.kind, node.contact_id),
            "role": node.role_name,
            "children": [],
        }
        items[node.path_text] = item
        parent_path = node.path_text[: node.path_text.rindex(",", 0, -1) + 1]
        parent = items.get(parent_path)
        (parent["children"] if parent else top).append(item)
    return top


def chains(nodes, url_of):
    """Ancestor nodes as chains from the top organisation down to the starting contact.

    Each chain is a list of dicts (name, hidden, url, role), the top first; the starting
    contact itself is left out.
    """
    by_path = {node.path_text: node for node in nodes}
    prefixes = {
        path[: index + 1] for path in by_path for index in range(1, len(path) - 1)
        if path[index] == ","
    }
    result = []
    for path, node in by_path.items():
        if node.depth == 0 or path in prefixes:
            continue
        chain = []
        while node is not None and node.depth:
            chain.append({
                "name": HIDDEN_CONTACT if node.hidden else node.display_name,
                "hidden": node.hidden,
                "url": "" if node.hidden else url_of(node.kind, node.contact_id),
                "role": node.role_name,
            })
            path = path[: path.rindex(",", 0, -1) + 1]
            node = by_path.get(path)
        result.append(chain)
    result.sort(key=lambda chain: [link["name"] for link in chain])
    return result


class OrganisationTreePanel(ContactPanel):
    """An organisation's departments, subsidiaries and people; a person's chain to the top."""

    name = "tree"
    heading = _("Organisation tree")
    icon = "list-ul"
    tab = "relations"
    order = 30
    template_name = "wagtail_crm/contacts/panels/tree.html"
    #: How many levels of an organisation's tree are shown.
    depth = 3

    def get_heading(self, contact):
        return _("Place in organisations") if contact.is_person else self.heading

    def get_context(self, contact, request):
        from .services.relationships import ancestors, subtree

        visible = folder_ids(request.user, VIEW)
        url_of = contact_url_maker()
        if contact.is_person:
            nodes = ancestors(contact, ORGANISATION_TREE_TYPES, visible=visible)
            return {"chains": chains(nodes, url_of), "tree": []}
        nodes = subtree(contact, ORGANISATION_TREE_TYPES, self.depth, visible=visible)
        return {"tree": nest(nodes, url_of), "chains": [], "depth": self.depth}


class HistoryPanel(ContactPanel):
    name = "history"
    heading = _("Timeline")
    icon = "history"
    tab = TIMELINE
    order = 10
    template_name = "wagtail_crm/contacts/panels/history.html"
    #: Log entries listed per page.
    per_page = 20

    def get_context(self, contact, request):
        # Entries are logged against Person or Organization; code working on plain
        # Contact rows may log against Contact.
        content_types = ContentType.objects.get_for_models(
            Contact, proxy_model(contact), for_concrete_models=False
        ).values()
        entries = (
            ModelLogEntry.objects.filter(content_type__in=content_types, object_id=str(contact.pk))
            .select_related("user")
            .order_by("-timestamp", "-pk")
        )
        return {
            "pager": page_of(request, entries, "history_page", self.per_page),
            # Wagtail's history view lets in users who may change some contact.
            "history_url": (
                contact_url(contact, "history")
                if contact_policy.user_has_permission(request.user, "change")
                else ""
            ),
        }


#: The panels every contact page has, before those added through PANEL_HOOK.
BUILT_IN_PANELS = [
    SummaryPanel,
    ContactMethodsPanel,
    AddressesPanel,
    CustomValuesPanel,
    MoreDetailsPanel,
    EventsPanel,
    RelationsPanel,
    RelationshipsPanel,
    OrganisationTreePanel,
    HistoryPanel,
]
