"""Admin for credit accounts: balances, the ledger (read only) and adding credit.

Accounts follow their contact's folder: ``view`` sees an account and its ledger, ``manage``
opens accounts, marks them shared and adds grants, purchases, refunds and adjustments (through
``services.credits``). No screen edits or deletes a ledger row, and accounts are never deleted.
"""

from django import forms
from django.contrib import messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _
from django.views.generic import FormView
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, ObjectList
from wagtail.admin.ui.tables import BooleanColumn, NumberColumn
from wagtail.admin.views.generic.base import WagtailAdminTemplateMixin
from wagtail.permission_policies import BasePermissionPolicy
from wagtail.snippets.views import snippets
from wagtail.snippets.views.snippets import SnippetViewSet

from ..models import Contact, CreditAccount, TransactionKind
from ..permissions import MANAGE, VIEW, contact_policy, folder_levels
from ..services import credits
from .access import ContactChooser

#: Level each action needs on the account contact's folder. Accounts are never deleted.
ACCOUNT_LEVELS = {
    "view": VIEW, "inspect": VIEW, "export": VIEW, "choose": VIEW,
    "add": MANAGE, "change": MANAGE, "credit": MANAGE,
}


class CreditAccountPermissionPolicy(BasePermissionPolicy):
    """Folder access on the account's contact; nobody deletes an account."""

    def _folders(self, user, action):
        needed = ACCOUNT_LEVELS.get(action)
        if needed is None:
            return []
        levels = folder_levels(user)
        if levels is None:
            return None
        return [folder for folder, rank in levels.items() if rank >= needed]

    def filter_queryset(self, queryset, user, actions):
        if isinstance(actions, str):
            actions = [actions]
        query = Q(pk__in=[])
        for action in actions:
            folders = self._folders(user, action)
            if folders is None:
                return queryset
            query |= Q(contact__folder_id__in=folders)
        return queryset.filter(query)

    def user_has_permission(self, user, action):
        folders = self._folders(user, action)
        return action in ACCOUNT_LEVELS and (folders is None or bool(folders)) and user.is_active

    def user_has_permission_for_instance(self, user, action, instance):
        folders = self._folders(user, action)
        if folders is None:
            return action in ACCOUNT_LEVELS and user.is_active
        return instance.contact.folder_id in folders

    def instances_user_has_any_permission_for(self, user, actions):
        return self.filter_queryset(CreditAccount.objects.all(), user, actions)

    def users_with_any_permission(self, actions):
        actions = [action for action in actions if action in ACCOUNT_LEVELS]
        if not actions:
            return get_user_model().objects.none()
        return contact_policy.users_with_any_permission(actions)

    def users_with_any_permission_for_instance(self, actions, instance):
        actions = [action for action in actions if action in ACCOUNT_LEVELS]
        if not actions:
            return get_user_model().objects.none()
        return contact_policy.users_with_any_permission_for_instance(actions, instance.contact)


#: Registered for CreditAccount in hooks.py.
credit_account_policy = CreditAccountPermissionPolicy(CreditAccount)


class VisibleAccountMixin:
    instance_action = None

    def get_object(self, *args, **kwargs):
        obj = super().get_object(*args, **kwargs)
        user = self.request.user
        if not credit_account_policy.user_has_permission_for_instance(user, "view", obj):
            raise Http404
        if self.instance_action and not credit_account_policy.user_has_permission_for_instance(
            user, self.instance_action, obj
        ):
            raise PermissionDenied
        return obj


def visible_account_only(view_class, action=None):
    return type(
        view_class.__name__,
        (VisibleAccountMixin, view_class),
        {"__module__": __name__, "instance_action": action},
    )


class CreditAccountIndexView(snippets.IndexView):
    def get_base_queryset(self):
        queryset = credit_account_policy.filter_queryset(
            super().get_base_queryset(), self.request.user, "view"
        )
        return queryset.select_related("contact")


class CreditAccountForm(WagtailAdminModelForm):
    """Opens an account for a contact in a folder the user manages; the contact stays."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            self.fields["contact"].disabled = True
        elif self.for_user is not None:
            contacts = Contact.objects.all()
            if folder_levels(self.for_user) is not None:
                contacts = contacts.filter(folder_id__in=folders_managed(self.for_user))
            self.fields["contact"].queryset = contacts
            self.fields["contact"].widget = ContactChooser(for_user=self.for_user)


def folders_managed(user):
    levels = folder_levels(user) or {}
    return [folder for folder, rank in levels.items() if rank >= MANAGE]


class CreditAccountInspectView(snippets.InspectView):
    """The account page: balance and the ledger, newest first."""

    #: Ledger rows shown on the page.
    ledger_limit = 500

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["ledger"] = self.object.transactions.select_related("created_by", "ticket")[
            : self.ledger_limit
        ]
        if credit_account_policy.user_has_permission_for_instance(
            self.request.user, "credit", self.object
        ):
            context["credit_url"] = reverse(
                CreditAccount.snippet_viewset.get_url_name("credit"), args=[self.object.pk]
            )
        return context


#: What an administrator may add to the ledger, and the service function for each.
CREDIT_KINDS = [
    (TransactionKind.GRANT, _("Grant")),
    (TransactionKind.PURCHASE, _("Purchase")),
    (TransactionKind.REFUND, _("Refund")),
    (TransactionKind.ADJUSTMENT, _("Adjustment (positive or negative)")),
]


class CreditEntryForm(forms.Form):
    kind = forms.ChoiceField(label=_("Kind"), choices=CREDIT_KINDS)
    minutes = forms.IntegerField(
        label=_("Minutes"), help_text=_("Negative only for an adjustment.")
    )
    memo = forms.CharField(label=_("Memo"), widget=forms.Textarea(attrs={"rows": 3}))

    def save(self, account, user):
        data = self.cleaned_data
        try:
            if data["kind"] == TransactionKind.ADJUSTMENT:
                return credits.adjust(account, data["minutes"], user=user, memo=data["memo"])
            return credits.grant(
                account, data["minutes"], user=user, memo=data["memo"], kind=data["kind"]
            )
        except ValidationError as error:
            self.add_error("minutes", error)
            return None


class CreditEntryView(WagtailAdminTemplateMixin, FormView):
    """Adds a grant, purchase, refund or adjustment to one account's ledger."""

    form_class = CreditEntryForm
    template_name = "wagtailadmin/generic/form.html"
    page_title = _("Add credit")
    header_icon = "form"

    def dispatch(self, request, pk):
        self.account = get_object_or_404(CreditAccount.objects.select_related("contact"), pk=pk)
        policy = credit_account_policy
        if not policy.user_has_permission_for_instance(request.user, "view", self.account):
            raise Http404
        if not policy.user_has_permission_for_instance(request.user, "credit", self.account):
            raise PermissionDenied
        return super().dispatch(request, pk)

    def get_page_subtitle(self):
        return str(self.account)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["action_url"] = self.request.path
        context["submit_button_label"] = _("Add to the ledger")
        return context

    def form_valid(self, form):
        if form.save(self.account, self.request.user) is None:
            return self.form_invalid(form)
        messages.success(self.request, _("Added to the ledger of %(account)s.") % {
            "account": self.account
        })
        return redirect(CreditAccount.snippet_viewset.get_url_name("inspect"), self.account.pk)


class CreditAccountViewSet(SnippetViewSet):
    model = CreditAccount
    icon = "resubmit"
    menu_label = _("Credit accounts")
    menu_order = 320
    url_prefix = "crm/credit-accounts"
    index_view_class = CreditAccountIndexView
    edit_view_class = visible_account_only(snippets.EditView, "change")
    delete_view_class = visible_account_only(snippets.DeleteView, "delete")
    inspect_view_class = visible_account_only(CreditAccountInspectView)
    history_view_class = visible_account_only(snippets.HistoryView)
    usage_view_class = visible_account_only(snippets.UsageView)
    inspect_view_enabled = True
    inspect_template_name = "wagtail_crm/tickets/credit_account.html"
    copy_view_enabled = False
    search_fields = ["contact__display_name"]
    ordering = ("contact__sort_name", "pk")
    export_filename = "credit-accounts"
    list_export = ["contact", "is_shared", "balance"]
    list_display = [
        "contact",
        BooleanColumn("is_shared", label=_("Shared"), sort_key="is_shared"),
        NumberColumn("balance", label=_("Balance (minutes)"), sort_key="balance"),
    ]
    edit_handler = ObjectList(
        [FieldPanel("contact"), FieldPanel("is_shared")], base_form_class=CreditAccountForm
    )

    @property
    def credit_view(self):
        return CreditEntryView.as_view()

    def get_urlpatterns(self):
        return super().get_urlpatterns() + [
            path("credit/<int:pk>/", self.credit_view, name="credit"),
        ]
