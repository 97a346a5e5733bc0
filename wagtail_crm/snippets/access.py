"""Folder access on the contact admin views: what a user may not see answers 404.

Every view of the people and organisations viewsets that takes a contact's pk is built with
:func:`visible_only`; the chooser lists and returns only visible contacts. Listings, exports and
bulk actions filter their querysets through ``contact_policy`` themselves.
"""

from django.core.exceptions import PermissionDenied
from django.http import Http404
from django.utils.translation import gettext_lazy as _
from wagtail.admin.forms.choosers import BaseFilterForm, SearchFilterMixin
from wagtail.admin.views.generic import chooser as chooser_views
from wagtail.admin.viewsets.chooser import ChooserViewSet
from wagtail.snippets.views import chooser, snippets

from ..models import Contact
from ..permissions import HIDDEN_CONTACT, contact_policy
from ..search import DEFAULT_ORDER, search_contacts


class VisibleContactMixin:
    """Answer 404 for a contact the user may not view, and refuse what they may not do to it.

    Wagtail's generic views check model-level permissions only; this checks the contact itself.
    """

    #: What the user must be allowed to do to this contact ("change", "delete"), besides view it.
    instance_action = None

    def get_object(self, *args, **kwargs):
        obj = super().get_object(*args, **kwargs)
        user = self.request.user
        if not contact_policy.user_has_permission_for_instance(user, "view", obj):
            raise Http404
        if self.instance_action and not contact_policy.user_has_permission_for_instance(
            user, self.instance_action, obj
        ):
            raise PermissionDenied
        return obj


def visible_only(view_class, action=None):
    """``view_class`` behind :class:`VisibleContactMixin`, requiring ``action`` on the contact."""
    return type(
        view_class.__name__,
        (VisibleContactMixin, view_class),
        {"__module__": __name__, "instance_action": action},
    )


class VisibleObjectListMixin:
    def get_object_list(self):
        return contact_policy.filter_queryset(super().get_object_list(), self.request.user, "view")


class ContactSearchForm(SearchFilterMixin, BaseFilterForm):
    """The chooser's search box: contacts by name as they are typed (see search.py)."""

    def filter(self, objects):
        objects = BaseFilterForm.filter(self, objects)
        query = self.cleaned_data.get("q")
        if query:
            objects = search_contacts(query, objects)
            self.is_searching = True
            self.search_query = query
        return objects


class ContactChooserMixin(VisibleObjectListMixin):
    ordering = DEFAULT_ORDER
    filter_form_class = ContactSearchForm


class ContactChooseView(ContactChooserMixin, chooser.ChooseView):
    pass


class ContactChooseResultsView(ContactChooserMixin, chooser.ChooseResultsView):
    pass


class ContactChosenView(chooser.SnippetChosenView):
    def get_object(self, pk):
        queryset = contact_policy.filter_queryset(
            self.model_class.objects.all(), self.request.user, "view"
        )
        return queryset.get(pk=pk)


class ContactChosenMultipleView(chooser.SnippetChosenMultipleView):
    def get_objects(self, pks):
        return contact_policy.filter_queryset(
            super().get_objects(pks), self.request.user, "view"
        )


class NoCreateView(chooser.SnippetCreateView):
    """Contacts are added on their own form (folder, custom fields, methods), not in the
    chooser, which has no creation form: its "create" URL is not found."""

    def dispatch(self, request, *args, **kwargs):
        raise Http404


class ContactChooserViewSet(chooser.SnippetChooserViewSet):
    """The contact chooser: only contacts the user may view; no creating in the modal."""

    choose_view_class = ContactChooseView
    choose_results_view_class = ContactChooseResultsView
    chosen_view_class = ContactChosenView
    chosen_multiple_view_class = ContactChosenMultipleView
    create_view_class = NoCreateView


#: Views of the contact viewsets that take a pk and have no CRM subclass of their own.
HistoryView = visible_only(snippets.HistoryView)
UsageView = visible_only(snippets.UsageView)
RevisionsCompareView = visible_only(snippets.RevisionsCompareView)


# Any contact, person or organisation: for fields such as a relationship's participants ------------


class AnyContactChooseView(ContactChooserMixin, chooser_views.ChooseView):
    pass


class AnyContactChooseResultsView(ContactChooserMixin, chooser_views.ChooseResultsView):
    pass


class AnyContactChosenView(chooser_views.ChosenView):
    def get_object(self, pk):
        queryset = contact_policy.filter_queryset(Contact.objects.all(), self.request.user, "view")
        return queryset.get(pk=pk)


class AnyContactChosenMultipleView(chooser_views.ChosenMultipleView):
    def get_objects(self, pks):
        queryset = contact_policy.filter_queryset(Contact.objects.all(), self.request.user, "view")
        return queryset.filter(pk__in=pks)


class AnyContactChooserViewSet(ChooserViewSet):
    """Chooses a person or an organisation among those the user may view, searched by name."""

    model = Contact
    icon = "user"
    choose_one_text = _("Choose a contact")
    choose_another_text = _("Choose another contact")
    choose_view_class = AnyContactChooseView
    choose_results_view_class = AnyContactChooseResultsView
    chosen_view_class = AnyContactChosenView
    chosen_multiple_view_class = AnyContactChosenMultipleView
    create_view_class = NoCreateView
    #: Forms ask for it by name (ContactChooser); other foreign keys to Contact keep theirs.
    register_widget = False


#: Registered in hooks.py; its widget is :class:`ContactChooser`'s base.
contact_chooser_viewset = AnyContactChooserViewSet(
    "wagtail_crm_contact_chooser", url_prefix="crm/choose-contact"
)


class ContactChooser(contact_chooser_viewset.widget_class):
    """The chooser of any contact. With ``for_user`` set, a contact that user may not view (one
    already chosen by someone else) shows as "Hidden contact", without its name or a link."""

    def __init__(self, *args, for_user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.for_user = for_user

    def get_value_data_from_instance(self, instance):
        if self.for_user is not None and not contact_policy.user_has_permission_for_instance(
            self.for_user, "view", instance
        ):
            return {"id": instance.pk, "edit_url": "", self.display_title_key: HIDDEN_CONTACT}
        return super().get_value_data_from_instance(instance)
