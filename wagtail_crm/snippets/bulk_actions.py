"""Bulk actions on people and organisations: tag, move to folder, move to trash."""

from wagtail.snippets.bulk_actions.snippet_bulk_action import SnippetBulkAction

from ..models import Organization, Person


class ContactBulkAction(SnippetBulkAction):
    models = [Person, Organization]


class TagBulkAction(ContactBulkAction):
    display_name = "Tag"
    action_type = "crm_tag"
    template_name = "wagtail_crm/bulk_actions/tag.html"


class MoveToFolderBulkAction(ContactBulkAction):
    display_name = "Move to folder"
    action_type = "crm_move"
    template_name = "wagtail_crm/bulk_actions/move.html"


class TrashBulkAction(ContactBulkAction):
    display_name = "Move to trash"
    action_type = "crm_trash"
    template_name = "wagtail_crm/bulk_actions/trash.html"
