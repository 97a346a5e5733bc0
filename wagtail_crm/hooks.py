"""Every Wagtail hook of the CRM: menus, viewsets, panels, bulk actions."""

from wagtail import hooks
from wagtail.permissions import register_permission_policy
from wagtail.snippets.models import register_snippet

from .forms.folder_access import group_folder_access_panel
from .models import Contact, CreditAccount, Ticket
from .permissions import contact_policy
from .snippets.access import contact_chooser_viewset
from .snippets.bulk_actions import MoveToFolderBulkAction, TagBulkAction, TrashBulkAction
from .snippets.configuration import refuse_bulk_delete_of_needed_objects
from .snippets.contacts import CRMViewSetGroup
from .snippets.credits import credit_account_policy
from .snippets.reports import time_spent_menu_item, time_spent_report_urls
from .snippets.tickets import (
    AssignBulkAction,
    CloseBulkAction,
    ContactTicketsPanel,
    TicketDeleteBulkAction,
    ticket_policy,
)
from .snippets.trash import register_trash_log_actions

# Folder access decides who works with which contacts (Person and Organization included).
register_permission_policy(Contact, contact_policy)
register_permission_policy(Ticket, ticket_policy)
register_permission_policy(CreditAccount, credit_account_policy)
register_snippet(CRMViewSetGroup)

hooks.register("register_bulk_action", TagBulkAction)
hooks.register("register_bulk_action", MoveToFolderBulkAction)
# After Wagtail's own bulk delete, which it replaces for people and organisations.
hooks.register("register_bulk_action", TrashBulkAction, order=1)

hooks.register("before_delete_snippet", refuse_bulk_delete_of_needed_objects)
hooks.register("register_group_permission_panel", group_folder_access_panel)
hooks.register("register_log_actions", register_trash_log_actions)
hooks.register("register_crm_contact_panel", ContactTicketsPanel)
hooks.register("register_bulk_action", AssignBulkAction)
hooks.register("register_bulk_action", CloseBulkAction)
hooks.register("register_bulk_action", TicketDeleteBulkAction, order=1)


@hooks.register("register_admin_viewset")
def register_contact_chooser():
    return contact_chooser_viewset


hooks.register("register_admin_urls", time_spent_report_urls)
hooks.register("register_reports_menu_item", time_spent_menu_item)
