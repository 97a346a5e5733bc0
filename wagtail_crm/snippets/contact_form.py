"""The person and organisation edit forms, their create and edit views, and delete-to-trash."""

import functools

from django.contrib.admin.utils import quote
from django.db import transaction
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.html import format_html_join
from django.utils.translation import gettext_lazy as _
from wagtail.admin import messages
from wagtail.admin.compare import FieldComparison, diff_text
from wagtail.admin.panels import (
    FieldPanel,
    FieldRowPanel,
    InlinePanel,
    MultiFieldPanel,
    ObjectList,
    Panel,
    TabbedInterface,
    get_form_for_model,
)
from wagtail.log_actions import log
from wagtail.snippets.views.snippets import CreateView, DeleteView, EditView

from ..forms.contacts import (
    ADDRESS_FIELDS,
    METHOD_FIELDS,
    ContactChildForm,
    CountrySelect,
    OrganizationForm,
    PersonForm,
)
from ..models import Contact, CustomField
from .trash import TrashViewSet


class CustomValuesComparison(FieldComparison):
    """Compares ``Contact.custom`` between revisions, one "label: value" line per value."""

    def __init__(self, field, obj_a, obj_b):
        super().__init__(field, obj_a, obj_b)
        self.labels = {d.key: d.label for d in CustomField.objects.for_target(obj_b.kind)}

    def field_label(self):
        return _("Custom fields")

    def as_text(self, values):
        return "\n".join(
            f"{self.labels.get(key, key)}: {value}" for key, value in sorted((values or {}).items())
        )

    def htmldiff(self):
        return diff_text(self.as_text(self.val_a), self.as_text(self.val_b)).to_html()


class CustomFieldsPanel(Panel):
    """The form's custom fields: one per CustomField definition, added by ContactForm."""

    class BoundPanel(Panel.BoundPanel):
        template_name = "wagtail_crm/contacts/custom_fields_panel.html"

        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            names = getattr(self.form, "custom_fields", {})
            self.bound_fields = [self.form[name] for name in names]

        def is_shown(self):
            return bool(self.bound_fields)

        def get_context_data(self, parent_context=None):
            context = super().get_context_data(parent_context)
            context["fields"] = self.bound_fields
            return context

        def get_comparison(self):
            return [functools.partial(CustomValuesComparison, Contact._meta.get_field("custom"))]


class ContactInlinePanel(InlinePanel):
    """An InlinePanel whose child forms are ContactChildForm."""

    def get_form_options(self):
        options = super().get_form_options()
        defer = self.child_edit_handler.get_form_options().get("defer_required_on_fields")
        options["formsets"][self.relation_name]["form"] = get_form_for_model(
            self.db_field.related_model,
            form_class=ContactChildForm,
            **({"defer_required_on_fields": defer} if defer else {}),
        )
        return options


class ContactEditHandler(TabbedInterface):
    """The tabs of the contact form; the custom fields are rendered by CustomFieldsPanel."""

    class BoundPanel(TabbedInterface.BoundPanel):
        def render_missing_fields(self):
            claimed = set(self.panel.get_form_options().get("fields", []))
            claimed.update(getattr(self.form, "custom_fields", {}))
            return format_html_join(
                "", "{}", ((self.form[name],) for name in self.form.fields if name not in claimed)
            )


def contact_details_tab():
    return ObjectList(
        [
            ContactInlinePanel(
                "methods",
                heading=_("Email, phone and web"),
                label=_("contact method"),
                panels=[FieldPanel(name) for name in METHOD_FIELDS],
            ),
            ContactInlinePanel(
                "addresses",
                heading=_("Addresses"),
                label=_("address"),
                panels=[
                    FieldPanel(name, widget=CountrySelect if name == "country" else None)
                    for name in ADDRESS_FIELDS
                ],
            ),
        ],
        heading=_("Contact details"),
    )


def custom_fields_tab():
    return ObjectList([CustomFieldsPanel(heading=_("Custom fields"))], heading=_("Custom fields"))


def filing_tab():
    return ObjectList(
        [
            FieldRowPanel([FieldPanel("folder"), FieldPanel("owner")]),
            FieldPanel("tags"),
            FieldPanel("photo"),
            FieldPanel("notes", help_text=_("Shown at the top of the contact page.")),
            FieldPanel("do_not_email"),
        ],
        heading=_("Notes and filing"),
    )


def person_edit_handler():
    return ContactEditHandler(
        [
            ObjectList(
                [
                    MultiFieldPanel(
                        [
                            FieldRowPanel([FieldPanel("prefix"), FieldPanel("given_name")]),
                            FieldRowPanel(
                                [FieldPanel("additional_names"), FieldPanel("family_name")]
                            ),
                            FieldRowPanel([FieldPanel("suffix"), FieldPanel("nickname")]),
                        ],
                        heading=_("Name"),
                    ),
                    FieldRowPanel([FieldPanel("job_title"), FieldPanel("primary_organization")]),
                    FieldPanel("birthday"),
                ],
                heading=_("Person"),
            ),
            contact_details_tab(),
            custom_fields_tab(),
            filing_tab(),
        ],
        base_form_class=PersonForm,
    )


def organization_edit_handler():
    return ContactEditHandler(
        [
            ObjectList(
                [FieldPanel("organization_name"), FieldPanel("organization_type")],
                heading=_("Organisation"),
            ),
            contact_details_tab(),
            custom_fields_tab(),
            filing_tab(),
        ],
        base_form_class=OrganizationForm,
    )


class ContactCreateView(CreateView):
    #: Set by the viewset; after saving, the new contact's page is shown.
    inspect_url_name = None

    def get_success_url(self):
        return reverse(self.inspect_url_name, args=[quote(self.object.pk)])


class ContactEditView(EditView):
    delete_item_label = _("Move to trash")

    def get_success_url(self):
        return reverse(self.inspect_url_name, args=[quote(self.object.pk)])


class ContactTrashView(DeleteView):
    """Moves a contact to the trash, where it can be restored; nothing is deleted."""

    page_title = _("Move to trash")
    #: The viewset passes Wagtail's delete templates as ``template_name``; this is used.
    confirm_template_name = "wagtail_crm/contacts/confirm_trash.html"
    success_message = _("%(model_name)s '%(object)s' moved to the trash.")
    #: The audit log action recorded.
    log_action = "wagtail_crm.trash"

    def get_template_names(self):
        return [self.confirm_template_name]

    def get_usage_url(self):
        # The contact stays in the database, so whatever refers to it is unaffected.
        return None

    # Moving to the trash is not a deletion: Wagtail's delete hooks are not run.
    def run_before_hook(self):
        return None

    def run_after_hook(self):
        return None

    @property
    def confirmation_message(self):
        return _("Move %(object)s to the trash? It can be restored from the trash.") % {
            "object": self.object
        }

    def form_valid(self, form):
        success_url = self.get_success_url()
        with transaction.atomic():
            self.object.move_to_trash()
            log(self.object, self.log_action, user=self.request.user)
        restore_url = reverse(f"{TrashViewSet.name}:restore", args=[quote(self.object.pk)])
        messages.success(
            self.request,
            self.get_success_message(),
            buttons=[messages.button(restore_url, _("Restore"))],
        )
        return redirect(success_url)
