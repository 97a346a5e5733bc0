"""The contact page (inspect view): the sticky note, the tabs of panels and the timeline."""

from django.contrib.admin.utils import quote, unquote
from django.db.models import Prefetch
from django.http import HttpResponse
from django.shortcuts import get_object_or_404
from django.urls import reverse
from django.utils.functional import cached_property
from django.utils.text import slugify
from django.utils.translation import gettext_lazy as _
from wagtail.admin.widgets.button import Button
from wagtail.snippets.views.snippets import InspectView

from ..interop.vcard import write_vcard
from ..models import Contact, ContactMethod
from ..panels import get_contact_page_layout
from ..permissions import contact_policy
from ..services.exporting import contact_records


class ContactInspectView(InspectView):
    """Shows one person or organisation; what it shows comes from :mod:`wagtail_crm.panels`."""

    #: The viewset passes Wagtail's generic inspect templates as ``template_name``; this is used.
    page_template_name = "wagtail_crm/contacts/contact_page.html"
    #: Loaded with the contact so that panels need no query per method, address or tag.
    select_related = ["photo", "folder", "owner", "primary_organization", "latest_revision"]
    prefetch_related = [
        Prefetch("methods", queryset=ContactMethod.objects.select_related("type")),
        "addresses",
        "tags",
    ]

    def get_template_names(self):
        return [self.page_template_name]

    def get_fields(self):
        return []

    def get_object(self, queryset=None):
        queryset = (
            self.model._default_manager.select_related(*self.select_related)
            .prefetch_related(*self.prefetch_related)
        )
        return get_object_or_404(queryset, pk=unquote(str(self.pk)))

    # The header's buttons: only what the user may do to this contact (Wagtail checks the model).

    def get_edit_url(self):
        if self.user_may("change"):
            return super().get_edit_url()
        return None

    def get_delete_url(self):
        if self.user_may("delete"):
            return super().get_delete_url()
        return None

    def user_may(self, action):
        return contact_policy.user_has_permission_for_instance(
            self.request.user, action, self.object
        )

    @cached_property
    def header_more_buttons(self):
        buttons = []
        if edit_url := self.get_edit_url():
            buttons.append(Button(_("Edit"), url=edit_url, icon_name="edit", priority=10))
        if self.user_has_permission("change"):  # what Wagtail's history view asks
            history_url = reverse(self.model.snippet_viewset.get_url_name("history"),
                                  args=[quote(self.object.pk)])
            buttons.append(
                Button(_("History"), url=history_url, icon_name="history", priority=20)
            )
        vcard_url = reverse(self.model.snippet_viewset.get_url_name("vcard"),
                            args=[quote(self.object.pk)])
        buttons.append(
            Button(_("Download vCard"), url=vcard_url, icon_name="download", priority=25)
        )
        if delete_url := self.get_delete_url():
            buttons.append(
                Button(_("Move to trash"), url=delete_url, icon_name="bin", priority=30)
            )
        return buttons

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        tabs, timeline = get_contact_page_layout(self.object, self.request)
        context.update(contact=self.object, tabs=tabs, timeline=timeline)
        return context


class ContactVCardView(InspectView):
    """The contact as a vCard 4.0 file, with RELATED for its relationships under way.

    Related contacts the user may not view are left out, as the organisation is.
    """

    def get(self, request, *args, **kwargs):
        contacts = Contact.all_objects.filter(pk=self.object.pk)
        record = next(contact_records(contacts, request.user))
        response = HttpResponse(
            write_vcard(record, "4.0"), content_type="text/vcard; charset=utf-8"
        )
        filename = slugify(self.object.display_name) or "contact"
        response["Content-Disposition"] = f'attachment; filename="{filename}.vcf"'
        return response
