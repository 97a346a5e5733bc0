"""Bulk actions on people and organisations: tag, move to folder, move to trash."""

from django import forms
from django.http import Http404
from django.shortcuts import get_list_or_404
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext
from taggit.models import Tag
from taggit.utils import parse_tags
from wagtail.admin import messages
from wagtail.admin.widgets import AdminTagWidget
from wagtail.log_actions import log
from wagtail.snippets.bulk_actions.snippet_bulk_action import SnippetBulkAction

from ..models import Contact, ContactTag, Folder, Organization, Person
from ..permissions import contact_policy, folders_for
from .listing import contacts_in_listing


class TagForm(forms.Form):
    tags = forms.CharField(
        label=_("Tags"),
        widget=AdminTagWidget,
        error_messages={"required": _("Enter at least one tag.")},
    )

    def clean_tags(self):
        names = parse_tags(self.cleaned_data["tags"])
        if not names:
            raise forms.ValidationError(_("Enter at least one tag."))
        return names


class FolderForm(forms.Form):
    folder = forms.ModelChoiceField(
        label=_("Folder"),
        queryset=Folder.objects.all(),
        error_messages={
            "required": _("Choose the folder to move them to."),
            "invalid_choice": _("That folder does not exist (any more): choose another."),
        },
    )


class ContactBulkAction(SnippetBulkAction):
    models = [Person, Organization]
    #: The permission needed on each contact.
    permission = "change"

    @classmethod
    def get_queryset(cls, model, object_ids):
        return get_list_or_404(model.objects.select_related("folder"), pk__in=object_ids)

    def get_all_objects_in_listing_query(self, parent_id):
        return contacts_in_listing(self.model, self.request)

    def check_perm(self, contact):
        return self.permission_policy.user_has_permission_for_instance(
            self.request.user, self.permission, contact
        )

    def get_actionable_objects(self):
        # Contacts the user may not see are left out, not named among "no access".
        objects, context = super().get_actionable_objects()
        user = self.request.user
        context["items_with_no_access"] = [
            contact
            for contact in context["items_with_no_access"]
            if contact_policy.user_has_permission_for_instance(user, "view", contact)
        ]
        if not objects and not context["items_with_no_access"]:
            # Only contacts the user may not see were named: as if they did not exist.
            raise Http404
        return objects, context

    def get_execution_context(self):
        return {
            **super().get_execution_context(),
            **self.cleaned_form.cleaned_data,
            "user": self.request.user,
        }

    def form_invalid(self, form):
        messages.error(self.request, _("Nothing was changed: correct the errors below."))
        return super().form_invalid(form)

    def count_of(self, count):
        return ngettext("%(count)d %(name)s", "%(count)d %(names)s", count) % {
            "count": count,
            "name": self.model._meta.verbose_name,
            "names": self.model._meta.verbose_name_plural,
        }


class TagBulkAction(ContactBulkAction):
    display_name = _("Tag")
    action_type = "crm_tag"
    aria_label = _("Add tags to the selected contacts")
    template_name = "wagtail_crm/bulk_actions/tag.html"
    action_priority = 20
    form_class = TagForm

    @classmethod
    def execute_action(cls, contacts, tags=(), user=None, **kwargs):
        tag_objects = [Tag.objects.get_or_create(name=name)[0] for name in tags]
        ids = [contact.pk for contact in contacts]
        existing = set(
            ContactTag.objects.filter(content_object_id__in=ids, tag__in=tag_objects).values_list(
                "content_object_id", "tag_id"
            )
        )
        new = [
            ContactTag(content_object_id=contact_id, tag=tag)
            for contact_id in ids
            for tag in tag_objects
            if (contact_id, tag.pk) not in existing
        ]
        ContactTag.objects.bulk_create(new)
        tagged = {item.content_object_id for item in new}
        Contact.all_objects.filter(pk__in=tagged).update(updated_at=timezone.now())
        for contact in contacts:
            if contact.pk in tagged:
                log(contact, "wagtail.edit", user=user, data={"tags_added": list(tags)})
        return len(contacts), 0

    def get_success_message(self, num_parent_objects, num_child_objects):
        return _("Tagged %(contacts)s with %(tags)s.") % {
            "contacts": self.count_of(num_parent_objects),
            "tags": ", ".join(f"'{name}'" for name in self.cleaned_form.cleaned_data["tags"]),
        }


class MoveToFolderBulkAction(ContactBulkAction):
    display_name = _("Move to folder")
    action_type = "crm_move"
    aria_label = _("Move the selected contacts to another folder")
    template_name = "wagtail_crm/bulk_actions/move.html"
    action_priority = 30
    form_class = FolderForm
    #: Moving takes managing both the contact's folder and the destination.
    permission = "reassign"

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        form.fields["folder"].queryset = folders_for(self.request.user, "reassign")
        return form

    @classmethod
    def execute_action(cls, contacts, folder=None, user=None, **kwargs):
        moving = [contact for contact in contacts if contact.folder_id != folder.pk]
        Contact.all_objects.filter(pk__in=[contact.pk for contact in moving]).update(
            folder=folder, updated_at=timezone.now()
        )
        for contact in moving:
            log(
                contact,
                "wagtail.move",
                user=user,
                data={
                    "source": {"id": contact.folder_id, "title": contact.folder.name},
                    "destination": {"id": folder.pk, "title": folder.name},
                },
            )
        return len(contacts), 0

    def get_success_message(self, num_parent_objects, num_child_objects):
        return _("Moved %(contacts)s to the folder '%(folder)s'.") % {
            "contacts": self.count_of(num_parent_objects),
            "folder": self.cleaned_form.cleaned_data["folder"],
        }


class TrashBulkAction(ContactBulkAction):
    display_name = _("Move to trash")
    #: Takes the place of Wagtail's own "delete" for contacts: nothing is deleted for good.
    action_type = "delete"
    aria_label = _("Move the selected contacts to the trash")
    template_name = "wagtail_crm/bulk_actions/trash.html"
    action_priority = 40
    classes = {"serious"}
    permission = "delete"

    @classmethod
    def execute_action(cls, contacts, user=None, **kwargs):
        for contact in contacts:
            contact.move_to_trash()
            log(contact, "wagtail_crm.trash", user=user)
        return len(contacts), 0

    def get_success_message(self, num_parent_objects, num_child_objects):
        return _("Moved %(contacts)s to the trash.") % {
            "contacts": self.count_of(num_parent_objects)
        }
