"""Admin viewsets for people and organisations, and the CRM menu group."""

from django.urls import path
from django.utils.translation import gettext_lazy as _
from wagtail.snippets.views.snippets import SnippetViewSet, SnippetViewSetGroup

from ..models import Organization, Person
from . import access, contact_form, contact_page, listing
from .configuration import ContactMethodTypeViewSet, CustomFieldViewSet, FolderViewSet
from .credits import CreditAccountViewSet
from .relationships import RelationshipTypeViewSet, RelationshipViewSet
from .tickets import TicketViewSet
from .trash import TrashViewSet


class ContactViewSet(SnippetViewSet):
    """What people and organisations share: listing, contact page, form and trash."""

    index_view_class = listing.ContactIndexView
    add_view_class = contact_form.ContactCreateView
    # Views of one contact answer 404 for contacts outside the user's folders.
    inspect_view_class = access.visible_only(contact_page.ContactInspectView)
    edit_view_class = access.visible_only(contact_form.ContactEditView, "change")
    delete_view_class = access.visible_only(contact_form.ContactTrashView, "delete")
    history_view_class = access.HistoryView
    usage_view_class = access.UsageView
    revisions_compare_view_class = access.RevisionsCompareView
    chooser_viewset_class = access.ContactChooserViewSet
    inspect_view_enabled = True
    copy_view_enabled = False
    ordering = ("sort_name", "pk")
    # The listing searches through search.search_contacts (WAGTAIL_CRM_SEARCH_BACKEND).
    search_backend_name = "default"

    #: The contact's vCard: see :class:`contact_page.ContactVCardView`.
    vcard_view_class = access.visible_only(contact_page.ContactVCardView)

    @property
    def vcard_view(self):
        return self.construct_view(self.vcard_view_class, **self.get_common_view_kwargs())

    def get_urlpatterns(self):
        return [
            *super().get_urlpatterns(),
            path("vcard/<int:pk>/", self.vcard_view, name="vcard"),
        ]

    @property
    def list_per_page(self):
        return listing.items_per_page()

    @property
    def filterset_class(self):
        return listing.filterset_for(self.model)

    @property
    def list_export(self):
        return listing.export_fields(self.model)

    @property
    def export_headings(self):
        return listing.export_headings(self.model)


class PersonViewSet(ContactViewSet):
    model = Person
    icon = "user"
    menu_label = _("People")
    menu_order = 100
    url_prefix = "crm/people"
    export_filename = "people"
    edit_handler = contact_form.person_edit_handler()


class OrganizationViewSet(ContactViewSet):
    model = Organization
    icon = "group"
    menu_label = _("Organisations")
    menu_order = 200
    url_prefix = "crm/organisations"
    export_filename = "organisations"
    edit_handler = contact_form.organization_edit_handler()


class CRMViewSetGroup(SnippetViewSetGroup):
    """The "CRM" menu group of the Wagtail admin."""

    menu_label = _("CRM")
    menu_icon = "group"
    menu_order = 150
    items = (
        PersonViewSet,
        OrganizationViewSet,
        RelationshipViewSet,
        TicketViewSet,
        CreditAccountViewSet,
        FolderViewSet,
        ContactMethodTypeViewSet,
        RelationshipTypeViewSet,
        CustomFieldViewSet,
        TrashViewSet,
    )
