"""People and organisations listings: columns, filters, search, export."""

import tempfile
from collections import defaultdict
from functools import reduce
from itertools import count, islice
from operator import or_

import django_filters
from django import forms
from django.contrib.admin.utils import quote
from django.contrib.humanize.templatetags.humanize import intcomma
from django.db import connection
from django.db.models import BooleanField, Func, Prefetch, Q, QuerySet
from django.http import FileResponse, StreamingHttpResponse
from django.urls import reverse
from django.utils.encoding import force_str
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from django_countries import countries
from taggit.utils import parse_tags
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.paginator import WagtailPaginator
from wagtail.admin.ui.tables import BulkActionsCheckboxColumn, Column, TitleColumn
from wagtail.admin.widgets import AdminTagWidget, BooleanRadioSelect
from wagtail.admin.widgets.button import Button
from wagtail.snippets.views.snippets import IndexView
from wagtail.snippets.widgets import AdminSnippetChooser

from ..conf import crm_settings
from ..forms.widgets import QuickSelect
from ..models import (
    Contact,
    ContactKind,
    ContactMethod,
    ContactMethodType,
    ContactTag,
    CRMSettings,
    CustomField,
    CustomFieldType,
    Folder,
    MethodScheme,
    Organization,
    Person,
)
from ..models.preferences import DEFAULT_ORGANIZATION_COLUMNS, DEFAULT_PERSON_COLUMNS
from ..permissions import VIEW, contact_policy, folder_ids, visible_name
from ..phones import format_phone
from ..search import search_contacts
from ..services.exporting import export_contacts
from . import cells

#: Headings of the columns a listing can show, by key; custom fields add "custom:<key>".
COLUMN_LABELS = {
    "display_name": _("Name"),
    "primary_email": _("Email"),
    "primary_phone": _("Phone"),
    "primary_organization": _("Organisation"),
    "job_title": _("Job title"),
    "organization_type": _("Type"),
    "city": _("City"),
    "country": _("Country"),
    "folder": _("Folder"),
    "tags": _("Tags"),
    "created_at": _("Created"),
    "updated_at": _("Updated"),
}
#: Columns that do not apply to a kind of contact.
NOT_SHOWN_FOR = {
    ContactKind.PERSON: {"organization_type"},
    ContactKind.ORGANIZATION: {"primary_organization", "job_title"},
}
DEFAULT_COLUMNS = {
    ContactKind.PERSON: DEFAULT_PERSON_COLUMNS,
    ContactKind.ORGANIZATION: DEFAULT_ORGANIZATION_COLUMNS,
}
#: Headings of what an export adds to the shown columns.
EXPORT_LABELS = {"emails": _("Emails"), "phones": _("Phones"), "addresses": _("Addresses")}
#: A cell starting with one of these is read as a formula by spreadsheet programs.
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
CHOICE_TYPES = (CustomFieldType.CHOICE, CustomFieldType.MULTICHOICE)
#: Sort keys that the search backend can order by (the FilterFields of Contact).
SEARCH_SORT_KEYS = {field.field_name for field in Contact.get_filterable_search_fields()}


#: Stands for a contact's id in URLs reversed once per listing (ContactIndexView.instance_url);
#: digits, as URL patterns take integer ids.
URL_MARK = "9073115820641"


def contact_kind(model):
    return ContactKind.ORGANIZATION if issubclass(model, Organization) else ContactKind.PERSON


def available_columns(model, custom_fields):
    """The columns the listing of ``model`` can show, as ``{key: heading}``.

    Args:
        model: Person or Organization.
        custom_fields: CustomField definitions; those of the model's kind shown in listings count.
    """
    kind = contact_kind(model)
    columns = {key: label for key, label in COLUMN_LABELS.items() if key not in NOT_SHOWN_FOR[kind]}
    for field in custom_fields:
        if field.target == kind and field.in_listing:
            columns[f"custom:{field.key}"] = field.label
    return columns


def chosen_column_keys(model, settings, custom_fields):
    """The name, then the columns chosen in CRMSettings that exist, in the chosen order."""
    if contact_kind(model) == ContactKind.PERSON:
        chosen = settings.person_columns
    else:
        chosen = settings.organization_columns
    available = available_columns(model, custom_fields)
    keys = ["display_name"]
    for key in chosen if isinstance(chosen, list) else []:
        if isinstance(key, str) and key in available and key not in keys:
            keys.append(key)
    return keys


def items_per_page():
    """Rows per page before CRMSettings is read (the index view reads it per request)."""
    return CRMSettings._meta.get_field("items_per_page").default


# Columns ---------------------------------------------------------------------


class ContactColumn(Column):
    """A column of contacts that also gives its value to exports and names what it reads."""

    def __init__(
        self, name, *, export=None, related=(), prefetch=(), load=None, load_for_export=True,
        **kwargs,
    ):
        super().__init__(name, **kwargs)
        self.export = export
        #: select_related() lookups the column reads.
        self.related = related
        #: prefetch_related() lookups the column reads.
        self.prefetch = prefetch
        #: A function given each page (or export chunk) of contacts, that fetches what the
        #: column reads for all of them at once and sets it on each contact.
        self.load = load
        #: Whether exports need what ``load`` fetches (not when it is only for the page's links).
        self.load_for_export = load_for_export

    def export_value(self, contact):
        return self.export(contact) if self.export else self.get_value(contact)

    def render_cell_html(self, instance, parent_context):
        return cells.text_cell(self, self.get_value(instance))


class LinkColumn(ContactColumn):
    """A value that links somewhere: ``mailto:`` for an email, the dial link of a phone."""

    def __init__(self, name, *, get_url, **kwargs):
        super().__init__(name, **kwargs)
        self.get_url = get_url

    def render_cell_html(self, instance, parent_context):
        value = self.get_value(instance)
        return cells.link_cell(self, value, self.get_url(instance) if value else "")


class DateColumn(ContactColumn):
    cell_template_name = "wagtailadmin/tables/date_cell.html"

    def render_cell_html(self, instance, parent_context):
        # Wagtail's template: a relative date with the full date as a tooltip.
        return Column.render_cell_html(self, instance, parent_context)


class TagsColumn(ContactColumn):
    cell_template_name = "wagtailadmin/tables/related_objects_cell.html"

    def __init__(self, name, **kwargs):
        super().__init__(name, load=load_tag_names, **kwargs)

    def get_value(self, instance):
        return instance.listing_tag_names

    def export_value(self, contact):
        return ", ".join(self.get_value(contact))

    def render_cell_html(self, instance, parent_context):
        return cells.list_cell(self, self.get_value(instance))


class NameColumn(TitleColumn):
    """The contact's name, linking to the contact page, with the row's buttons."""

    related = prefetch = ()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.menus = cells.RowMenus()

    def export_value(self, contact):
        return contact.display_name

    def render_cell_html(self, instance, parent_context):
        buttons = sorted(self.get_buttons(instance, parent_context))
        return cells.title_cell(
            self,
            self.get_value(instance),
            self.get_link_url(instance, parent_context),
            self.get_title_id(instance, parent_context),
            self.menus.render(buttons, instance, parent_context),
        )


class CheckboxColumn(BulkActionsCheckboxColumn):
    """The bulk actions' checkbox of each row."""

    def render_cell_html(self, instance, parent_context):
        return cells.checkbox_cell(self.obj_type, instance.pk)


def methods_prefetch():
    return Prefetch("methods", queryset=ContactMethod.objects.select_related("type"))


def load_tag_names(contacts):
    """Set ``listing_tag_names`` on each contact: its tags' names, sorted (one query)."""
    names = defaultdict(list)
    rows = (
        ContactTag.objects.filter(content_object_id__in=[contact.pk for contact in contacts])
        .order_by("tag__name")
        .values_list("content_object_id", "tag__name")
    )
    for contact_id, name in rows:
        names[contact_id].append(name)
    for contact in contacts:
        contact.listing_tag_names = names.get(contact.pk, [])


def load_phone_links(contacts, click_to_call_template):
    """Set ``listing_phone_link`` on each contact: the link of its primary phone, from the
    phone's type's template or the click-to-call URL (one query)."""
    wanted = {contact.pk: contact.primary_phone for contact in contacts if contact.primary_phone}
    links = {}
    rows = (
        ContactMethod.objects.filter(contact_id__in=list(wanted), type__scheme=MethodScheme.PHONE)
        .order_by("-is_primary", "sort_order", "id")
        .values_list(
            "contact_id", "value", "normalized", "type_id", "type__scheme", "type__link_template"
        )
    )
    for contact_id, value, normalized, type_id, scheme, link_template in rows:
        if contact_id in links or normalized != wanted[contact_id]:
            continue
        method_type = ContactMethodType(pk=type_id, scheme=scheme, link_template=link_template)
        method = ContactMethod(type=method_type, value=value, normalized=normalized)
        links[contact_id] = method.link(click_to_call_template)
    for contact in contacts:
        contact.listing_phone_link = links.get(contact.pk, "")


def country_name(code, names):
    """The name of the country ``code``, looked up once per code in the ``names`` cache."""
    if code not in names:
        names[code] = countries.name(code) if code else ""
    return names[code]


def custom_value_text(value):
    if isinstance(value, bool):
        return _("Yes") if value else _("No")
    if isinstance(value, list):
        return ", ".join(str(item) for item in value)
    return "" if value is None else value


def contact_columns(keys, settings, custom_fields, user):
    """The columns for ``keys`` other than the name (see ContactIndexView.name_column).

    ``user`` sees the names of the organisations in folders they may view, "Hidden contact"
    for the others.
    """
    fmt, call = settings.phone_display_format, settings.click_to_call_template
    country_names = {}  # for this request, in its language
    columns = {
        "primary_email": lambda: LinkColumn(
            "primary_email",
            sort_key="primary_email",
            get_url=lambda contact: f"mailto:{contact.primary_email}",
        ),
        "primary_phone": lambda: LinkColumn(
            "primary_phone",
            sort_key="primary_phone",
            load=lambda contacts: load_phone_links(contacts, call),
            load_for_export=False,
            accessor=lambda contact: format_phone(contact.primary_phone, fmt),
            get_url=lambda contact: contact.listing_phone_link,
        ),
        "primary_organization": lambda: ContactColumn(
            "primary_organization",
            sort_key="primary_organization__sort_name",
            related=("primary_organization",),
            accessor=lambda contact: str(visible_name(user, contact.primary_organization)),
        ),
        "job_title": lambda: ContactColumn("job_title", sort_key="job_title"),
        "organization_type": lambda: ContactColumn(
            "organization_type",
            sort_key="organization_type",
            accessor=lambda contact: contact.get_organization_type_display(),
        ),
        "city": lambda: ContactColumn("city", sort_key="city"),
        "country": lambda: ContactColumn(
            "country",
            sort_key="country",
            accessor=lambda contact: country_name(contact.country.code, country_names),
        ),
        "folder": lambda: ContactColumn(
            "folder",
            sort_key="folder__name",
            related=("folder",),
            accessor=lambda contact: contact.folder.name,
        ),
        "tags": lambda: TagsColumn("tags"),
        "created_at": lambda: DateColumn("created_at", sort_key="created_at"),
        "updated_at": lambda: DateColumn("updated_at", sort_key="updated_at"),
    }
    labels = {f"custom:{field.key}": field.label for field in custom_fields}
    built = []
    for key in keys:
        if key in columns:
            column = columns[key]()
            column.label = COLUMN_LABELS[key]
        elif key in labels:
            name = key.removeprefix("custom:")
            column = ContactColumn(
                key,
                label=labels[key],
                sort_key=f"custom__{name}",
                accessor=lambda contact, name=name: custom_value_text(contact.custom.get(name)),
                export=lambda contact, name=name: contact.custom.get(name),
            )
        else:
            continue
        built.append(column)
    return built


def with_relations(queryset, columns, prefetch=()):
    """``queryset`` fetching what ``columns`` read, and ``prefetch``, in fixed query counts."""
    related = {lookup for column in columns for lookup in column.related}
    lookups = [*prefetch, *(lookup for column in columns for lookup in column.prefetch)]
    prefetch = {}
    for lookup in lookups:
        prefetch.setdefault(getattr(lookup, "prefetch_to", lookup), lookup)
    if related:  # select_related() without names would follow every foreign key
        queryset = queryset.select_related(*sorted(related))
    return queryset.prefetch_related(*prefetch.values())


# Filters ---------------------------------------------------------------------


class TagNames(list):
    """Tag names chosen in the tag filter, shown as "a, b" among the active filters."""

    def __str__(self):
        return ", ".join(self)


class TagNamesField(forms.CharField):
    def clean(self, value):
        return TagNames(parse_tags(super().clean(value) or ""))


class TagFilter(django_filters.Filter):
    """Contacts with any of the tags, as an ``id__in`` subquery so that search can follow."""

    field_class = TagNamesField

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(
            id__in=ContactTag.objects.filter(tag__name__in=value).values("content_object_id")
        )


class JSONArrayHasAny(Func):
    """SQLite: the JSON array at ``path`` of a JSON column holds one of ``values``."""

    output_field = BooleanField()

    def __init__(self, expression, path, values):
        super().__init__(expression)
        self.path = path
        self.values = list(values)

    def as_sql(self, compiler, connection, **extra_context):
        column, params = compiler.compile(self.get_source_expressions()[0])
        marks = ", ".join(["%s"] * len(self.values))
        sql = f"EXISTS (SELECT 1 FROM json_each({column}, %s) WHERE json_each.value IN ({marks}))"
        return sql, (*params, self.path, *self.values)


def contacts_with_custom_value(definition, values):
    """The ids of contacts whose choice custom field ``definition`` holds any of ``values``."""
    lookup = f"custom__{definition.key}"
    if definition.field_type == CustomFieldType.CHOICE:
        condition = Q(**{f"{lookup}__in": values})
    elif connection.features.supports_json_field_contains:
        condition = reduce(or_, (Q(**{f"{lookup}__contains": [value]}) for value in values))
    else:
        condition = JSONArrayHasAny("custom", f"$.{definition.key}", values)
    return Contact.all_objects.filter(condition).values("id")


class CustomChoiceFilter(django_filters.MultipleChoiceFilter):
    """Contacts whose choice or multiple-choice custom field holds any of the ticked values."""

    def __init__(self, definition, **kwargs):
        self.definition = definition
        choices = [(choice, choice) for choice in definition.choice_list]
        super().__init__(
            label=definition.label, choices=choices, widget=forms.CheckboxSelectMultiple, **kwargs
        )

    def filter(self, qs, value):
        if not value:
            return qs
        return qs.filter(id__in=contacts_with_custom_value(self.definition, value))


class ContactFilterSet(WagtailFilterSet):
    """Filters of the contact listings, each on a FilterField of Contact or through its id."""

    folder = django_filters.ModelChoiceFilter(
        label=_("Folder"), queryset=Folder.objects.all(), empty_label=_("All")
    )
    tag = TagFilter(label=_("Tags"), widget=AdminTagWidget(free_tagging=False))
    country = django_filters.ChoiceFilter(
        label=_("Country"), choices=(), empty_label=_("All"), widget=QuickSelect
    )
    has_email = django_filters.BooleanFilter(
        label=_("Has email"), method="filter_has_email", widget=BooleanRadioSelect
    )

    class Meta:
        model = Contact
        fields = []

    def __init__(self, data=None, queryset=None, *, request=None, prefix=None, custom_fields=None):
        super().__init__(data, queryset, request=request, prefix=prefix)
        self.filters["country"].extra["choices"] = self.country_choices()
        if request is not None:
            # Only the folders (and organisations) the user may see are offered.
            visible = folder_ids(request.user, VIEW)
            if visible is not None:
                self.filters["folder"].queryset = Folder.objects.filter(pk__in=visible)
            if "organisation" in self.filters:
                self.filters["organisation"].queryset = contact_policy.filter_queryset(
                    Organization.objects.all(), request.user, "view"
                )
        kind = contact_kind(self._meta.model)
        if custom_fields is None:
            custom_fields = CustomField.objects.for_target(kind)
        for definition in custom_fields:
            if (
                definition.target == kind
                and definition.in_listing
                and definition.field_type in CHOICE_TYPES
            ):
                custom_filter = CustomChoiceFilter(definition)
                custom_filter.model, custom_filter.parent = self._meta.model, self
                self.filters[f"custom_{definition.key}"] = custom_filter

    def country_choices(self):
        first = []
        if self.request is not None:
            first = CRMSettings.load(request_or_site=self.request).countries_first_list
        names = dict(countries)
        return [(code, names[code]) for code in first if code in names] + [
            (code, name) for code, name in names.items() if code not in first
        ]

    def filter_has_email(self, queryset, name, value):
        if value is None:
            return queryset
        if value:
            return queryset.exclude(primary_email="")
        return queryset.filter(primary_email="")


class PersonFilterSet(ContactFilterSet):
    #: A chooser rather than a select: there may be tens of thousands of organisations.
    organisation = django_filters.ModelChoiceFilter(
        label=_("Organisation"),
        field_name="primary_organization",
        queryset=Organization.objects.all(),
        widget=AdminSnippetChooser(Organization),
    )

    class Meta:
        model = Person
        fields = []


class OrganizationFilterSet(ContactFilterSet):
    class Meta:
        model = Organization
        fields = []


def filterset_for(model):
    return OrganizationFilterSet if issubclass(model, Organization) else PersonFilterSet


def contacts_in_listing(model, request):
    """The ids of the contacts that the listing of ``model`` shows for the request's filters
    and search (for bulk actions on all of them)."""
    queryset = contact_policy.filter_queryset(model.objects.all(), request.user, "view")
    filterset = filterset_for(model)(request.GET, request=request)
    if filterset.is_valid():
        queryset = filterset.filter_queryset(queryset)
    query = request.GET.get("q", "").strip()
    if query:
        return [contact.pk for contact in search_contacts(query, queryset)]
    return queryset.values_list("pk", flat=True)


# Export ----------------------------------------------------------------------


def export_fields(model, column_keys=None, custom_fields=()):
    """What an export of ``model`` holds: the shown columns, every email, phone and address
    and the custom fields. Without ``column_keys``, the default columns."""
    kind = contact_kind(model)
    if column_keys is None:
        defaults = DEFAULT_COLUMNS[kind]
        column_keys = ["display_name", *(key for key in defaults if key != "display_name")]
    custom_keys = [f"custom:{field.key}" for field in custom_fields if field.target == kind]
    keys = list(column_keys)
    return keys + [key for key in [*EXPORT_LABELS, *custom_keys] if key not in keys]


def export_headings(model, custom_fields=()):
    kind = contact_kind(model)
    return {
        **COLUMN_LABELS,
        **EXPORT_LABELS,
        **{f"custom:{field.key}": field.label for field in custom_fields if field.target == kind},
    }


def escape_formula(value):
    """Quote a string that a spreadsheet would otherwise run as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_PREFIXES):
        return "'" + value
    return value


def address_text(address):
    return f"{address.label}: {address}" if address.label else str(address)


def in_chunks(results, chunk_size, load=None):
    """Iterate a queryset or search results ``chunk_size`` rows at a time, prefetching per chunk
    and handing each chunk to ``load`` first."""
    if isinstance(results, QuerySet):
        rows = results.iterator(chunk_size=chunk_size)
        chunks = iter(lambda: list(islice(rows, chunk_size)), [])
    else:
        chunks = (list(results[start : start + chunk_size]) for start in count(0, chunk_size))
    for chunk in chunks:
        if load is not None and chunk:
            load(chunk)
        yield from chunk
        if len(chunk) < chunk_size:
            return


# The view --------------------------------------------------------------------


class ContactPaginator(WagtailPaginator):
    @cached_property
    def items_count_label(self):
        name = self.verbose_name if self.count == 1 else self.verbose_name_plural
        return f"{intcomma(self.count)} {name}"

    def page(self, number):
        number = self.validate_number(number)
        bottom = (number - 1) * self.per_page
        top = bottom + self.per_page
        if top + self.orphans >= self.count:
            top = self.count
        return self._get_page(self.rows(bottom, top), number, self)

    def rows(self, bottom, top):
        """Rows ``bottom`` to ``top``. Past the first page of a queryset, the ids are found
        first, through the index alone, and only then the rows with their joins: the database
        would otherwise join every row it skips."""
        if bottom == 0 or not isinstance(self.object_list, QuerySet):
            return self.object_list[bottom:top]
        ids = list(self.object_list.values_list("pk", flat=True)[bottom:top])
        found = self.object_list.order_by().in_bulk(ids)
        return [found[pk] for pk in ids if pk in found]


class ContactIndexView(IndexView):
    """People or organisations: the columns chosen in CRMSettings, filters, search, export."""

    paginator_class = ContactPaginator
    table_class = cells.ContactTable

    @cached_property
    def crm_settings(self):
        return CRMSettings.load(request_or_site=self.request)

    @cached_property
    def custom_fields(self):
        return list(CustomField.objects.for_target(contact_kind(self.model)))

    @cached_property
    def column_keys(self):
        return chosen_column_keys(self.model, self.crm_settings, self.custom_fields)

    @cached_property
    def name_column(self):
        column_class = self._get_title_column_class(NameColumn)
        return column_class(
            "display_name",
            label=COLUMN_LABELS["display_name"],
            sort_key="sort_name",
            get_url=self.get_inspect_url,
            get_title_id=lambda contact: f"snippet_{quote(contact.pk)}_title",
        )

    @cached_property
    def contact_columns(self):
        return [
            self.name_column,
            *contact_columns(
                self.column_keys[1:], self.crm_settings, self.custom_fields, self.request.user
            ),
        ]

    @cached_property
    def columns(self):
        return [
            CheckboxColumn("bulk_actions", obj_type="snippet"),
            *self.contact_columns,
        ]

    # Row menus: "Edit" and "Move to trash" only on the rows the user may change or trash.

    def instance_url(self, url_name, instance):
        """The URL of ``url_name`` for ``instance``, reversed once per listing."""
        template = self.url_templates.get(url_name)
        if template is None:
            template = self.url_templates[url_name] = reverse(url_name, args=(URL_MARK,))
        return template.replace(URL_MARK, str(quote(instance.pk)))

    @cached_property
    def url_templates(self):
        return {}

    @cached_property
    def may_inspect(self):
        return self.user_has_any_permission({"add", "change", "delete", "view"})

    def get_inspect_url(self, instance):
        if self.inspect_url_name and self.may_inspect:
            return self.instance_url(self.inspect_url_name, instance)
        return None

    def get_edit_url(self, instance):
        user = self.request.user
        if self.edit_url_name and contact_policy.user_has_permission_for_instance(
            user, "change", instance
        ):
            return self.instance_url(self.edit_url_name, instance)
        return None

    def get_delete_url(self, instance):
        user = self.request.user
        if self.delete_url_name and contact_policy.user_has_permission_for_instance(
            user, "delete", instance
        ):
            return self.instance_url(self.delete_url_name, instance)
        return None

    def get_list_more_buttons(self, instance):
        buttons = super().get_list_more_buttons(instance)
        delete_url = self.get_delete_url(instance)
        for button in buttons:
            if delete_url and button.url == delete_url:
                button.label = _("Move to trash")
        return buttons

    def load_rows(self, contacts):
        """Fetch what the columns read for ``contacts`` (a page, or a chunk of an export)."""
        for column in self.contact_columns:
            if getattr(column, "load", None) is None:
                continue
            if column.load_for_export or not self.is_export:
                column.load(contacts)

    def paginate_queryset(self, queryset, page_size):
        paginator, page, rows, is_paginated = super().paginate_queryset(queryset, page_size)
        page.object_list = rows = list(rows)
        self.load_rows(rows)
        return paginator, page, rows, is_paginated

    def get_paginate_by(self, queryset):
        if self.is_export:
            return None
        return self.crm_settings.items_per_page

    def get_filterset_kwargs(self):
        return {**super().get_filterset_kwargs(), "custom_fields": self.custom_fields}

    def get_base_queryset(self):
        prefetch = (methods_prefetch(), "addresses") if self.is_export else ()
        visible = contact_policy.filter_queryset(
            super().get_base_queryset(), self.request.user, "view"
        )
        return with_relations(visible, self.contact_columns, prefetch)

    def get_valid_orderings(self):
        orderings = super().get_valid_orderings()
        if self.is_searching:
            # The search backend orders by FilterFields only; anything else falls back to names.
            orderings = [key for key in orderings if key.lstrip("-") in SEARCH_SORT_KEYS]
        return orderings

    def search_queryset(self, queryset):
        if not self.is_searching:
            return queryset
        return search_contacts(self.search_query, queryset, fields=self.search_fields)

    @cached_property
    def is_explicitly_ordered(self):
        return self.request.GET.get("ordering") in self.get_valid_orderings()

    def order_queryset(self, queryset):
        ordering = self.ordering or ("sort_name",)
        ordering = [ordering] if isinstance(ordering, str) else list(ordering)
        ordering = [{"pk": "id", "-pk": "-id"}.get(key, key) for key in ordering]
        if not {"id", "-id"} & set(ordering):
            # A unique last key keeps pages stable and is a FilterField for ordered searches.
            ordering.append("-id" if ordering[0].startswith("-") else "id")
        return queryset.order_by(*ordering)

    # Export: the shown columns, then every email, phone, address and custom field.

    #: Downloads of the listing (filters and search applied) in the formats of
    #: services.exporting, besides Wagtail's CSV and XLSX of the shown columns.
    crm_export_formats = {
        "vcard4": _("Download vCard"), "ldif": _("Download LDIF"), "sql": _("Download SQL"),
    }

    @cached_property
    def header_more_buttons(self):
        buttons = super().header_more_buttons.copy()
        for priority, (fmt, label) in enumerate(self.crm_export_formats.items(), start=110):
            buttons.append(Button(label, url=self.get_export_url(fmt), icon_name="download",
                                  priority=priority))
        return buttons

    def crm_export(self, fmt):
        """The listing's contacts (filters, search, folder policy) as a file in ``fmt``."""
        results = self.get_queryset()
        if isinstance(results, QuerySet):
            contacts = Contact.objects.filter(pk__in=results.order_by().values("pk"))
        else:
            contacts = Contact.objects.filter(pk__in=[contact.pk for contact in results])
        chunks, content_type, extension = export_contacts(contacts, fmt, user=self.request.user)
        response = StreamingHttpResponse(chunks, content_type=content_type)
        response["Content-Disposition"] = (
            f'attachment; filename="{self.get_filename()}.{extension}"'
        )
        return response

    def get(self, request, *args, **kwargs):
        if request.GET.get("export") in self.crm_export_formats:
            return self.crm_export(request.GET["export"])
        if not self.is_export:
            return super().get(request, *args, **kwargs)
        self.list_export = export_fields(self.model, self.column_keys, self.custom_fields)
        self.export_headings = export_headings(self.model, self.custom_fields)
        rows = in_chunks(self.get_queryset(), crm_settings.EXPORT_CHUNK_SIZE, self.load_rows)
        return self.as_spreadsheet(rows, request.GET["export"])

    @cached_property
    def export_values(self):
        """How each exported key is read from a contact."""
        fmt = self.crm_settings.phone_display_format
        values = {column.name: column.export_value for column in self.contact_columns}
        values["emails"] = lambda contact: "; ".join(
            m.value for m in contact.methods.all() if m.type.scheme == MethodScheme.EMAIL
        )
        values["phones"] = lambda contact: "; ".join(
            m.display_value(fmt)
            for m in contact.methods.all()
            if m.type.scheme == MethodScheme.PHONE
        )
        values["addresses"] = lambda contact: " | ".join(
            address_text(address) for address in contact.addresses.all()
        )
        for field in self.custom_fields:
            values.setdefault(f"custom:{field.key}", lambda c, key=field.key: c.custom.get(key))
        return values

    def to_row_dict(self, item):
        return {key: self.export_values[key](item) for key in self.list_export}

    def get_heading(self, queryset, field):
        return escape_formula(force_str(self.export_headings.get(field, field)))

    def preprocess_field_value(self, field, value, export_format):
        return escape_formula(super().preprocess_field_value(field, value, export_format))

    def write_xlsx_response(self, queryset):
        # Written to a temporary file rather than memory, then streamed from there.
        output = tempfile.TemporaryFile()
        self.write_xlsx(queryset, output)
        output.seek(0)
        return FileResponse(
            output,
            as_attachment=True,
            filename=f"{self.get_filename()}.xlsx",
            content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        )
