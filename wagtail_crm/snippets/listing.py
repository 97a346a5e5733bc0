"""People and organisations listings: columns, filters, search, export."""

from wagtail.snippets.views.snippets import IndexView

from ..models import CRMSettings


def items_per_page():
    return 50


def filterset_for(model):
    return None


def export_fields(model):
    return ["display_name", "primary_email", "primary_phone", "city", "country"]


def export_headings(model):
    return {}


class ContactIndexView(IndexView):
    def get_paginate_by(self, queryset):
        if self.is_export:
            return None
        return CRMSettings.load(request_or_site=self.request).items_per_page
