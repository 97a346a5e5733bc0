"""Searching contacts: the listings, their "select all", and the contact chooser.

Contacts are searched through Wagtail search (the backend named by
``WAGTAIL_CRM_SEARCH_BACKEND``) with autocomplete, so that a name is found while it is typed.
Results keep the order of the queryset searched (by name unless the user sorted by a column),
not the backend's relevance: the database backend ranks relevance with a subquery per matching
contact, which on SQLite takes minutes when a one-letter search matches most of 100,000
contacts, and an alphabetical list is what a contact search is read as.
"""

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
    return backend.autocomplete(query, queryset, fields=fields, order_by_relevance=False)
