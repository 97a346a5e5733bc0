"""Admin for tickets: the listing (filters, export), the ticket page and form, folder access.

A ticket belongs to a folder (its requester's unless chosen), and folder access decides who
works with it, as for contacts: ``view`` sees it, ``contribute`` adds tickets and edits those
assigned to or created by the user, ``manage`` edits and deletes all. Status changes made in
the form go through ``services.tickets`` (closing charges the time spent), and a refused charge
shows as an error on the status field with nothing saved.
"""

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import Q, Sum
from django.http import Http404
from django.shortcuts import get_list_or_404
from django.urls import reverse
from django.utils import timezone
from django.utils.functional import cached_property
from django.utils.translation import gettext_lazy as _
from wagtail.admin import messages
from wagtail.admin.filters import WagtailFilterSet
from wagtail.admin.forms import WagtailAdminModelForm
from wagtail.admin.panels import FieldPanel, FieldRowPanel, InlinePanel, ObjectList
from wagtail.admin.ui.tables import Column, DateColumn
from wagtail.log_actions import log
from wagtail.snippets.bulk_actions.delete import DeleteBulkAction
from wagtail.snippets.bulk_actions.snippet_bulk_action import SnippetBulkAction
from wagtail.snippets.views import snippets
from wagtail.snippets.views.snippets import SnippetViewSet

from ..models import (
    Contact,
    CreditAccount,
    Folder,
    Ticket,
    TicketPriority,
    TicketStatus,
    TimeEntry,
)
from ..models.tickets import ACTIVE_STATUSES
from ..panels import TIMELINE, ContactPanel
from ..permissions import (
    VIEW,
    ContactPermissionPolicy,
    contact_policy,
    folder_ids,
    folder_levels,
    folders_for,
    visible_name,
)
from ..services import ticket_mail
from ..services.tickets import InsufficientCredit, close_ticket, set_status
from .access import ContactChooser
from .configuration import DELETE_TEMPLATE, WHY_NEEDED, RefusingDeleteView
from .listing import escape_formula

# Access --------------------------------------------------------------------------------------


class TicketPermissionPolicy(ContactPermissionPolicy):
    """Folder access for tickets: a ticket is "own" when assigned to or created by the user."""

    @staticmethod
    def own_q(user):
        return Q(assignee_id=user.pk) | Q(created_by_id=user.pk)

    @staticmethod
    def is_own(user, instance):
        return user.pk in (instance.assignee_id, instance.created_by_id)

    def users_with_any_permission_for_instance(self, actions, instance):
        users = get_user_model().objects.filter(is_active=True)
        return users.filter(
            pk__in=[
                user.pk for user in contact_policy.users_with_any_permission(actions)
                if self.user_has_any_permission_for_instance(user, actions, instance)
            ]
        )


#: Registered for Ticket in hooks.py.
ticket_policy = TicketPermissionPolicy(Ticket)


def tickets_visible_to(user, queryset=None):
    queryset = Ticket.objects.all() if queryset is None else queryset
    return ticket_policy.filter_queryset(queryset, user, "view")


class VisibleTicketMixin:
    """404 for a ticket outside the user's folders; PermissionDenied for an action they lack."""

    instance_action = None

    def get_object(self, *args, **kwargs):
        obj = super().get_object(*args, **kwargs)
        user = self.request.user
        if not ticket_policy.user_has_permission_for_instance(user, "view", obj):
            raise Http404
        if self.instance_action and not ticket_policy.user_has_permission_for_instance(
            user, self.instance_action, obj
        ):
            raise PermissionDenied
        return obj


def visible_ticket_only(view_class, action=None):
    return type(
        view_class.__name__,
        (VisibleTicketMixin, view_class),
        {"__module__": __name__, "instance_action": action},
    )


# Listing -------------------------------------------------------------------------------------


def visible_contacts_for_filter(request):
    if request is None:
        return Contact.objects.none()
    return contact_policy.filter_queryset(Contact.objects.all(), request.user, "view").order_by(
        "sort_name", "pk"
    )


def visible_folders(request):
    if request is None:
        return Folder.objects.none()
    ids = folder_ids(request.user, VIEW)
    return Folder.objects.all() if ids is None else Folder.objects.filter(pk__in=ids)


def assignees(request):
    if request is None:
        return get_user_model().objects.none()
    return get_user_model().objects.filter(
        pk__in=tickets_visible_to(request.user).values("assignee_id")
    ).order_by(get_user_model().USERNAME_FIELD)


class TicketFilterSet(WagtailFilterSet):
    status = django_filters.ChoiceFilter(label=_("Status"), choices=TicketStatus.choices)
    priority = django_filters.ChoiceFilter(label=_("Priority"), choices=TicketPriority.choices)
    assignee = django_filters.ModelChoiceFilter(label=_("Assignee"), queryset=assignees)
    requester = django_filters.ModelChoiceFilter(
        label=_("Requester"), queryset=visible_contacts_for_filter, widget=ContactChooser
    )
    folder = django_filters.ModelChoiceFilter(label=_("Folder"), queryset=visible_folders)
    overdue = django_filters.BooleanFilter(
        label=_("Overdue"), method="filter_overdue", widget=forms.CheckboxInput
    )

    class Meta:
        model = Ticket
        fields = []

    def filter_overdue(self, queryset, name, value):
        if not value:
            return queryset
        return queryset.filter(status__in=ACTIVE_STATUSES, due_at__lt=timezone.now())


def status_text(ticket):
    text = ticket.get_status_display()
    return f"{text} ({_('overdue')})" if ticket.is_overdue else text


class TicketIndexView(snippets.IndexView):
    """Tickets in the user's folders; a requester in a hidden folder is "Hidden contact"."""

    def get_base_queryset(self):
        queryset = tickets_visible_to(self.request.user, super().get_base_queryset())
        return queryset.select_related("requester", "assignee", "folder").annotate(
            minutes=Sum("time_entries__minutes")
        )

    def requester_name(self, ticket):
        return visible_name(self.request.user, ticket.requester)

    def to_row_dict(self, item):
        computed = {
            "requester": self.requester_name(item),
            "status": status_text(item),
            "priority": item.get_priority_display(),
            "assignee": str(item.assignee or ""),
            "folder": str(item.folder),
            "minutes": item.minutes or 0,
            "channel": item.get_channel_display(),
        }
        return {
            field: computed[field] if field in computed else getattr(item, field)
            for field in self.list_export
        }

    def get_heading(self, queryset, field):
        return escape_formula(str(super().get_heading(queryset, field)))

    def preprocess_field_value(self, field, value, export_format):
        return escape_formula(super().preprocess_field_value(field, value, export_format))

    def get_edit_url(self, instance):
        # Per ticket: contributors edit their own only (no query: levels are cached).
        if ticket_policy.user_has_permission_for_instance(self.request.user, "change", instance):
            return super().get_edit_url(instance)
        return None

    def get_delete_url(self, instance):
        if ticket_policy.user_has_permission_for_instance(self.request.user, "delete", instance):
            return super().get_delete_url(instance)
        return None

    def get_table(self, object_list):
        for ticket in object_list:
            ticket.requester_label = self.requester_name(ticket)
        return super().get_table(object_list)


# The ticket form -----------------------------------------------------------------------------


class TicketForm(WagtailAdminModelForm):
    """Requesters and folders among those the user may see; charged time stays as charged."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        user = self.for_user
        ticket = self.instance
        if user is not None:
            contacts = contact_policy.filter_queryset(Contact.objects.all(), user, "view")
            if ticket.requester_id:
                contacts = Contact.all_objects.filter(
                    Q(pk__in=contacts.values("pk")) | Q(pk=ticket.requester_id)
                )
            self.fields["requester"].queryset = contacts
            self.fields["requester"].widget = ContactChooser(for_user=user)
            folders = folders_for(user, "add")
            if ticket.folder_id:
                folders = Folder.objects.filter(
                    Q(pk__in=folders.values("pk")) | Q(pk=ticket.folder_id)
                )
            self.fields["folder"].queryset = folders
        self.fields["folder"].required = False
        self.fields["folder"].help_text = _("The requester's folder when left empty.")
        User = get_user_model()
        staff = contact_policy.users_with_any_permission(["view"]).filter(is_active=True)
        self.fields["assignee"].queryset = User.objects.filter(
            Q(pk__in=staff.values("pk")) | Q(pk=ticket.assignee_id or 0)
        ).order_by(User.USERNAME_FIELD)
        # Sent messages stay as they were sent (and an internal note stays internal).
        messages_formset = self.formsets.get("messages")
        for form in messages_formset.forms if messages_formset is not None else ():
            if form.instance.pk:
                for name in ("body", "is_internal"):
                    if name in form.fields:
                        form.fields[name].disabled = True
        #: The status stored before this form: what set_status() changes from.
        self.stored_status = (
            Ticket.objects.filter(pk=ticket.pk).values_list("status", flat=True).first()
            if ticket.pk else None
        )

    def clean(self):
        cleaned_data = super().clean()
        requester, folder = cleaned_data.get("requester"), cleaned_data.get("folder")
        user = self.for_user
        if requester is None or user is None or folder_levels(user) is None:
            return cleaned_data
        target = folder or requester.folder
        unchanged = self.instance.pk and target.pk == self.instance.folder_id
        if not unchanged and not folders_for(user, "add").filter(pk=target.pk).exists():
            self.add_error("folder", _(
                "You may not add tickets to the folder '%(folder)s': choose one you contribute to."
            ) % {"folder": target})
        return cleaned_data

    def is_valid(self):
        # Child formsets are validated after the form's own clean(), so time is checked here.
        if not super().is_valid():
            return False
        entries = self.formsets.get("time_entries")
        if entries is None:
            return True
        valid, adds_time = True, False
        charged = {
            row[0]: row[1:] for row in TimeEntry.objects.filter(
                ticket_id=self.instance.pk, charged_in__isnull=False
            ).values_list("pk", "minutes", "billable", "spent_on")
        } if self.instance.pk else {}
        for form in entries.forms:
            entry = form.instance
            removing = entries.can_delete and entries._should_delete_form(form)
            if entry.pk in charged:
                data = form.cleaned_data
                posted = (data.get("minutes"), data.get("billable"), data.get("spent_on"))
                if removing or posted != charged[entry.pk]:
                    form.add_error(None, _("This time has been charged and cannot be changed."))
                    valid = False
            elif not entry.pk and form.has_changed() and not removing:
                adds_time = True
        closed = TicketStatus.CLOSED
        if adds_time and self.stored_status == closed and self.cleaned_data["status"] == closed:
            self.add_error("status", _("This ticket is closed: reopen it to log more time."))
            valid = False
        return valid


class TicketSaveMixin:
    """Saves the form with the stored status, then changes status through the service."""

    def save_instance(self):
        form = self.form
        user = self.request.user
        new_status = form.cleaned_data["status"]
        if form.instance.pk:
            form.instance.status = form.stored_status
        else:
            # A new ticket starts in the chosen status, unless that is closed: closing charges.
            form.instance.created_by = user
            if new_status == TicketStatus.CLOSED:
                form.instance.status = TicketStatus.NEW
        new_messages = []
        for name in ("messages", "time_entries"):
            formset = form.formsets.get(name)
            for child in formset.forms if formset is not None else ():
                if child.instance.pk is None and child.has_changed():
                    setattr(child.instance, "author" if name == "messages" else "user", user)
                    if name == "messages":
                        new_messages.append(child.instance)
        instance = super().save_instance()
        for message in new_messages:
            if message.pk:
                transaction.on_commit(lambda pk=message.pk: ticket_mail.notify_message(pk))
        if new_status != instance.status:
            set_status(instance, new_status, user=user)
        return instance

    def form_valid(self, form):
        try:
            with transaction.atomic():
                return super().form_valid(form)
        except InsufficientCredit as refused:
            if form.stored_status is None:
                # Rolled back: the new ticket was not saved after all.
                form.instance.pk, form.instance.reference = None, ""
            form.add_error("status", str(refused))
            self.produced_error_message = self.get_error_message()
            return self.form_invalid(form)


class TicketCreateView(TicketSaveMixin, snippets.CreateView):
    """``?requester=<pk>`` fills in the requester ("log an interaction" on a contact page)."""

    def get_initial_form_instance(self):
        instance = super().get_initial_form_instance() or Ticket()
        contact_id = self.request.GET.get("requester", "")
        if contact_id.isdigit():
            contact = contact_policy.filter_queryset(
                Contact.objects.all(), self.request.user, "view"
            ).filter(pk=contact_id).first()
            if contact is not None:
                instance.requester = contact
        return instance


class TicketEditView(TicketSaveMixin, snippets.EditView):
    pass


class TicketInspectView(snippets.InspectView):
    """The ticket page: its fields, its thread (with internal notes) and its time entries."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        ticket = self.object
        context["thread"] = ticket.messages.select_related("author").prefetch_related(
            "attachments"
        )
        context["time_entries"] = ticket.time_entries.select_related("user", "charged_in")
        context["requester_name"] = visible_name(self.request.user, ticket.requester)
        return context

    def get_field_display_value(self, field_name, field):
        if field_name == "requester":
            return visible_name(self.request.user, self.object.requester)
        return super().get_field_display_value(field_name, field)


class TicketDeleteView(RefusingDeleteView):
    def get_refusal(self):
        if self.object.credit_transactions.exists():
            return _("This ticket's time has been charged: it is kept with the credit ledger.")
        return super().get_refusal()


class TicketViewSet(SnippetViewSet):
    model = Ticket
    icon = "help"
    menu_label = _("Tickets")
    menu_order = 300
    url_prefix = "crm/tickets"
    index_view_class = TicketIndexView
    add_view_class = TicketCreateView
    edit_view_class = visible_ticket_only(TicketEditView, "change")
    delete_view_class = visible_ticket_only(TicketDeleteView, "delete")
    inspect_view_class = visible_ticket_only(TicketInspectView)
    history_view_class = visible_ticket_only(snippets.HistoryView)
    usage_view_class = visible_ticket_only(snippets.UsageView)
    delete_template_name = DELETE_TEMPLATE
    inspect_view_enabled = True
    inspect_template_name = "wagtail_crm/tickets/inspect.html"
    inspect_view_fields = [
        "reference", "subject", "description", "status", "priority", "requester", "assignee",
        "folder", "channel", "due_at", "created_at", "updated_at", "closed_at",
    ]
    copy_view_enabled = False
    filterset_class = TicketFilterSet
    search_fields = ["reference", "subject"]
    ordering = ("-updated_at", "-pk")
    export_filename = "tickets"
    list_export = [
        "reference", "subject", "status", "priority", "requester", "assignee", "folder",
        "channel", "minutes", "due_at", "created_at", "updated_at",
    ]
    export_headings = {
        "reference": _("Reference"), "subject": _("Subject"), "status": _("Status"),
        "priority": _("Priority"), "requester": _("Requester"), "assignee": _("Assignee"),
        "folder": _("Folder"), "channel": _("Channel"), "minutes": _("Minutes"),
        "due_at": _("Due"), "created_at": _("Created"), "updated_at": _("Updated"),
    }
    list_display = [
        "reference",
        "subject",
        Column("requester_label", label=_("Requester")),
        Column("status", label=_("Status"), accessor=status_text, sort_key="status"),
        Column("priority", label=_("Priority"), sort_key="priority"),
        Column("assignee", label=_("Assignee")),
        DateColumn("due_at", label=_("Due"), sort_key="due_at"),
        DateColumn("updated_at", label=_("Updated"), sort_key="updated_at"),
    ]
    edit_handler = ObjectList(
        [
            FieldPanel("subject"),
            FieldPanel("requester"),
            FieldRowPanel([FieldPanel("status"), FieldPanel("priority")]),
            FieldRowPanel([FieldPanel("assignee"), FieldPanel("due_at")]),
            FieldRowPanel([FieldPanel("folder"), FieldPanel("channel")]),
            FieldPanel("description"),
            FieldPanel("tags"),
            InlinePanel(
                "messages", heading=_("Thread"), label=_("Message"),
                panels=[FieldPanel("body"), FieldPanel("is_internal")],
            ),
            InlinePanel(
                "time_entries", heading=_("Time spent"), label=_("Time entry"),
                panels=[FieldRowPanel([FieldPanel("minutes"), FieldPanel("spent_on"),
                                       FieldPanel("billable")]),
                        FieldPanel("note")],
            ),
        ],
        base_form_class=TicketForm,
    )


# The contact page ----------------------------------------------------------------------------


class ContactTicketsPanel(ContactPanel):
    """The contact's tickets on its timeline, and "Log an interaction" (a new ticket)."""

    name = "tickets"
    heading = _("Tickets")
    icon = "help"
    tab = TIMELINE
    order = 5
    template_name = "wagtail_crm/tickets/contact_panel.html"
    #: Tickets listed, newest first.
    limit = 10

    def get_context(self, contact, request):
        tickets = tickets_visible_to(request.user, Ticket.objects.filter(requester=contact))
        viewset = Ticket.snippet_viewset
        add_url = ""
        if ticket_policy.user_has_permission(request.user, "add"):
            add_url = reverse(viewset.get_url_name("add")) + f"?requester={contact.pk}"
        return {
            "tickets": list(tickets.select_related("assignee")[: self.limit]),
            "inspect_url_name": viewset.get_url_name("inspect"),
            "list_url": reverse(viewset.get_url_name("list")) + f"?requester={contact.pk}",
            "add_url": add_url,
        }


# Bulk actions and bulk delete ----------------------------------------------------------------


def why_ticket_is_needed(ticket):
    """Why ``ticket`` cannot be deleted (its time was charged), or an empty string."""
    if ticket.credit_transactions.exists():
        return _("This ticket's time has been charged: it is kept with the credit ledger.")
    return ""


# The listing's bulk delete leaves charged tickets alone (configuration's before-delete hook).
WHY_NEEDED[Ticket] = why_ticket_is_needed


def hide_tickets_out_of_view(objects, context, user):
    """A bulk action's objects and context, naming only the refused tickets the user may view.

    Answers 404 when nothing is left to act on or to name.
    """
    context["items_with_no_access"] = [
        ticket for ticket in context["items_with_no_access"]
        if ticket_policy.user_has_permission_for_instance(user, "view", ticket)
    ]
    if not objects and not context["items_with_no_access"]:
        raise Http404
    return objects, context


class AssignForm(forms.Form):
    assignee = forms.ModelChoiceField(
        label=_("Assignee"), queryset=get_user_model().objects.none(), required=False,
        help_text=_("Leave empty to unassign."),
    )


class TicketBulkAction(SnippetBulkAction):
    """A bulk action on the tickets the user may change; hidden tickets are never named."""

    models = [Ticket]
    #: The permission needed on each ticket.
    permission = "change"

    @classmethod
    def get_queryset(cls, model, object_ids):
        return get_list_or_404(Ticket.objects.select_related("requester"), pk__in=object_ids)

    def get_all_objects_in_listing_query(self, parent_id):
        visible = tickets_visible_to(self.request.user)
        filters = TicketFilterSet(self.request.GET, queryset=visible, request=self.request)
        return (filters.qs if filters.is_valid() else visible).values_list("pk", flat=True)

    def check_perm(self, ticket):
        return ticket_policy.user_has_permission_for_instance(
            self.request.user, self.permission, ticket
        )

    def get_actionable_objects(self):
        return hide_tickets_out_of_view(*super().get_actionable_objects(), self.request.user)

    def get_execution_context(self):
        data = self.cleaned_form.cleaned_data if self.cleaned_form else {}
        return {**super().get_execution_context(), **data, "user": self.request.user}


class AssignBulkAction(TicketBulkAction):
    display_name = _("Assign")
    action_type = "crm_assign"
    aria_label = _("Assign the selected tickets")
    template_name = "wagtail_crm/tickets/bulk_assign.html"
    action_priority = 20
    form_class = AssignForm

    def get_form(self, form_class=None):
        form = super().get_form(form_class)
        staff = contact_policy.users_with_any_permission(["view"]).filter(is_active=True)
        form.fields["assignee"].queryset = get_user_model().objects.filter(
            pk__in=staff.values("pk")
        ).order_by(get_user_model().USERNAME_FIELD)
        return form

    @classmethod
    def execute_action(cls, tickets, assignee=None, user=None, **kwargs):
        ids = [ticket.pk for ticket in tickets]
        Ticket.objects.filter(pk__in=ids).update(assignee=assignee, updated_at=timezone.now())
        for ticket in tickets:
            log(ticket, "wagtail.edit", user=user,
                data={"assignee": assignee.get_username() if assignee else None})
        return len(ids), 0

    def get_success_message(self, num_parent_objects, num_child_objects):
        assignee = self.cleaned_form.cleaned_data["assignee"]
        if assignee is None:
            return _("Unassigned %(count)d tickets.") % {"count": num_parent_objects}
        return _("Assigned %(count)d tickets to %(user)s.") % {
            "count": num_parent_objects, "user": assignee,
        }


class CloseBulkAction(TicketBulkAction):
    """Closes each ticket through the service (charging its time); refusals are reported."""

    display_name = _("Close")
    action_type = "crm_close"
    aria_label = _("Close the selected tickets")
    template_name = "wagtail_crm/tickets/bulk_close.html"
    action_priority = 30

    @classmethod
    def execute_action(cls, tickets, user=None, self=None, **kwargs):
        closed, refused = 0, []
        for ticket in tickets:
            try:
                close_ticket(ticket, user=user)
                log(ticket, "wagtail.edit", user=user, data={"status": TicketStatus.CLOSED})
                closed += 1
            except InsufficientCredit as error:
                refused.append(f"{ticket.reference}: {error}")
        if self is not None:
            for message in refused:
                messages.error(self.request, message)
        return closed, 0

    def get_success_message(self, num_parent_objects, num_child_objects):
        return _("Closed %(count)d tickets.") % {"count": num_parent_objects}


class TicketDeleteBulkAction(DeleteBulkAction):
    """Wagtail's bulk delete for tickets, never naming tickets the user cannot see; credit
    accounts are never deleted, so for them it is not found."""

    models = [Ticket, CreditAccount]

    @cached_property
    def _actionable_objects(self):
        if self.model is not Ticket:
            raise Http404
        return hide_tickets_out_of_view(*super()._actionable_objects, self.request.user)
