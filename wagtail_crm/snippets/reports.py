"""The "Time spent" report (Reports menu): ticket time summed per contact, organisation,
assignee or month, over the tickets the user may see, with CSV and XLSX export.

Each page is one aggregate query over ``TimeEntry`` (plus the paginator's count): the rows
are ``values(<dimension>).annotate(Sum...)``, limited to time on tickets ``ticket_policy``
lets the user view. A contact or organisation in a folder the user cannot see is named
"Hidden contact", as in the ticket listing.
"""

from dataclasses import dataclass

import django_filters
from django.db.models import Q, Sum
from django.db.models.functions import TruncMonth
from django.urls import path, reverse
from django.utils.formats import date_format
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin.filters import DateRangePickerWidget, WagtailFilterSet
from wagtail.admin.menu import MenuItem
from wagtail.admin.ui.tables import Column
from wagtail.admin.views.reports import ReportView

from ..models import TimeEntry
from ..permissions import HIDDEN_CONTACT, VIEW, folder_levels
from .listing import escape_formula
from .tickets import ticket_policy, tickets_visible_to

CONTACT, ORGANISATION, ASSIGNEE, MONTH = "contact", "organisation", "assignee", "month"

#: What the report groups by: (label, the values() it groups on).
DIMENSIONS = {
    CONTACT: (_("Contact"), {
        "key": "ticket__requester_id",
        "name": "ticket__requester__display_name",
        "folder": "ticket__requester__folder_id",
    }),
    ORGANISATION: (_("Organisation"), {
        "key": "ticket__requester__primary_organization_id",
        "name": "ticket__requester__primary_organization__display_name",
        "folder": "ticket__requester__primary_organization__folder_id",
    }),
    ASSIGNEE: (_("Assignee"), {
        "key": "user_id",
        "username": "user__username",
        "first_name": "user__first_name",
        "last_name": "user__last_name",
    }),
    MONTH: (_("Month"), {"key": TruncMonth("spent_on")}),
}


class TimeSpentFilterSet(WagtailFilterSet):
    group_by = django_filters.ChoiceFilter(
        label=_("Group by"),
        choices=[(key, label) for key, (label, _fields) in DIMENSIONS.items()],
        empty_label=None,
        method="keep",
    )
    spent_on = django_filters.DateFromToRangeFilter(
        label=_("Date"), widget=DateRangePickerWidget
    )

    class Meta:
        model = TimeEntry
        fields = []

    def keep(self, queryset, name, value):
        # Not a filter: the view groups by it.
        return queryset


@dataclass
class Row:
    """One line of the report: a contact, organisation, assignee or month and its minutes."""

    key: object
    label: str
    total: int
    billable: int
    charged: int


class TimeSpentReportView(ReportView):
    page_title = _("Time spent")
    header_icon = "time"
    index_url_name = "wagtail_crm_time_spent_report"
    index_results_url_name = "wagtail_crm_time_spent_report_results"
    filterset_class = TimeSpentFilterSet
    permission_policy = ticket_policy
    permission_required = "view"
    paginate_by = 50
    export_filename = "time-spent"
    list_export = ["label", "total", "billable", "charged"]

    @cached_property
    def dimension(self):
        filters = self.filters
        value = filters.form.cleaned_data.get("group_by") if filters.is_valid() else None
        return value if value in DIMENSIONS else CONTACT

    @property
    def export_headings(self):
        return {
            "label": DIMENSIONS[self.dimension][0],
            "total": _("Minutes"),
            "billable": _("Billable minutes"),
            "charged": _("Charged minutes"),
        }

    @property
    def columns(self):
        headings = self.export_headings
        return [Column(name, label=headings[name]) for name in self.list_export]

    def get_queryset(self):
        entries = TimeEntry.objects.filter(ticket__in=tickets_visible_to(self.request.user))
        entries = self.filter_queryset(entries)
        fields = DIMENSIONS[self.dimension][1]
        plain = {name: f for name, f in fields.items() if isinstance(f, str)}
        expressions = {name: f for name, f in fields.items() if not isinstance(f, str)}
        rows = entries.annotate(**expressions).values(*plain.values(), *expressions).annotate(
            total=Sum("minutes"),
            billable_minutes=Sum("minutes", filter=Q(billable=True)),
            charged=Sum("minutes", filter=Q(charged_in__isnull=False)),
        )
        if self.dimension == MONTH:
            return rows.order_by("key")
        return rows.order_by("-total", fields["key"])

    def get_filtered_queryset(self):
        # get_queryset() filters the time entries before grouping them.
        return self.get_queryset()

    def paginate_queryset(self, queryset, page_size):
        # The table is built before ReportView.get() decorates the page: decorate it here.
        paginator, page, object_list, is_paginated = super().paginate_queryset(
            queryset, page_size
        )
        return paginator, page, self.decorate_paginated_queryset(object_list), is_paginated

    def decorate_paginated_queryset(self, object_list):
        fields = DIMENSIONS[self.dimension][1]
        return [
            values if isinstance(values, Row) else
            Row(
                key=values[fields["key"]] if isinstance(fields["key"], str) else values["key"],
                label=self.label(values, fields),
                total=values["total"] or 0,
                billable=values["billable_minutes"] or 0,
                charged=values["charged"] or 0,
            )
            for values in object_list
        ]

    def label(self, values, fields):
        if self.dimension == MONTH:
            return date_format(values["key"], "YEAR_MONTH_FORMAT")
        if values[fields["key"]] is None:
            return str(_("No organisation") if self.dimension == ORGANISATION else _("Nobody"))
        if self.dimension == ASSIGNEE:
            full_name = f"{values[fields['first_name']]} {values[fields['last_name']]}".strip()
            return full_name or values[fields["username"]]
        levels = folder_levels(self.request.user)
        if levels is None or levels.get(values[fields["folder"]], 0) >= VIEW:
            return values[fields["name"]]
        return str(HIDDEN_CONTACT)

    def to_row_dict(self, item):
        return {field: escape_formula(getattr(item, field)) for field in self.list_export}

    def get_heading(self, queryset, field):
        return str(self.export_headings[field])


class TimeSpentMenuItem(MenuItem):
    def is_shown(self, request):
        return ticket_policy.user_has_permission(request.user, "view")


def time_spent_report_urls():
    """For the ``register_admin_urls`` hook."""
    return [
        path(
            "crm/reports/time-spent/",
            TimeSpentReportView.as_view(),
            name=TimeSpentReportView.index_url_name,
        ),
        path(
            "crm/reports/time-spent/results/",
            TimeSpentReportView.as_view(results_only=True),
            name=TimeSpentReportView.index_results_url_name,
        ),
    ]


def time_spent_menu_item():
    """For the ``register_reports_menu_item`` hook."""
    return TimeSpentMenuItem(
        _("Time spent"),
        reverse(TimeSpentReportView.index_url_name),
        name="crm-time-spent",
        icon_name="time",
        order=900,
    )
