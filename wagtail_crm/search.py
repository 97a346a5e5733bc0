"""Searching contacts: the listings, their "select all", and the contact chooser.

Contacts are searched through Wagtail search (the backend named by
``WAGTAIL_CRM_SEARCH_BACKEND``) with autocomplete, so that a name is found while it is typed.
Results keep the order of the queryset searched (by name unless the user sorted by a column),
not the backend's relevance: the database backend ranks relevance with a subquery per matching
contact, which on SQLite takes minutes when a one-letter search matches most of 100,000
contacts, and an alphabetical list is what a contact search is read as.
"""

from django.core.exceptions import FieldDoesNotExist
from django.db import connections
from django.db.models import CharField, F, Func, TextField
from wagtail.search.backends import get_search_backend

from .conf import crm_settings

#: The order of search results when the queryset searched has none.
DEFAULT_ORDER = ("sort_name", "id")


def search_contacts(query, queryset, fields=None):
    """The contacts of ``queryset`` that match ``query``, in the queryset's order.

    Args:
        query: what the user typed; the last word may be the start of a word.
        queryset: the contacts to search (already filtered by folder access).
        fields: limit the search to these autocomplete fields (default: all of them).
    """
    if not queryset.ordered:
        queryset = queryset.order_by(*DEFAULT_ORDER)
    backend = get_search_backend(crm_settings.SEARCH_BACKEND)
    if connections[queryset.db].vendor == "postgresql" and getattr(
        backend.query_compiler_class, "HANDLES_ORDER_BY_EXPRESSIONS", False
    ):
        queryset = _matches_first(queryset)
    return backend.autocomplete(query, queryset, fields=fields, order_by_relevance=False)


class SameText(Func):
    """A text column, unchanged, as an expression that no index on the column serves."""

    template = "(%(expressions)s || '')"
    output_field = TextField()


def _matches_first(queryset):
    """``queryset`` in the same order, with a first text key that no index serves.

    Walking an index in the listing's order and checking each row against the full-text index
    takes PostgreSQL 0.3 s when the matches sort late (a search for "Singh" at 100,000
    contacts): its planner assumes matches are spread evenly through the order. Without that
    path it finds the matches through the full-text index, then sorts them (under 0.03 s).
    """
    keys = list(queryset.query.order_by)
    if not keys or not isinstance(keys[0], str):
        return queryset
    descending, name = keys[0].startswith("-"), keys[0].lstrip("-")
    try:
        field = queryset.model._meta.get_field(name)
    except FieldDoesNotExist:
        return queryset
    if not isinstance(field, (CharField, TextField)) or field.is_relation:
        return queryset
    first = SameText(F(name))
    keys[0] = first.desc() if descending else first.asc()
    return queryset.order_by(*keys)
