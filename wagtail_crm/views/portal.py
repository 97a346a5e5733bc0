"""The support portal: a logged-in user whose login is linked to a contact (``Contact.user``)
opens tickets, replies, follows their tickets and reads their credit.

Every lookup is filtered by ``requester`` = the user's own contact, so another person's ticket
answers 404. A logged-in user without a linked contact gets the "not linked" page (403). The
portal shows public replies only, never internal notes, and time entries without their notes.
"""

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.generic import FormView, ListView, TemplateView
from wagtail.log_actions import log

from ..forms.portal import PortalReplyForm, PortalTicketForm
from ..models import (
    Contact,
    CreditTransaction,
    Ticket,
    TicketChannel,
)
from ..services.credits import existing_account_for
from ..services.tickets import add_message

NOT_LINKED_TEMPLATE = "wagtail_crm/portal/not_linked.html"


def contact_of(user):
    """The (live) contact whose login ``user`` is, or ``None``."""
    return Contact.objects.filter(user_id=user.pk).first()


class PortalMixin(LoginRequiredMixin):
    """Anonymous users go to ``LOGIN_URL``; users without a contact get the 403 page.

    Sets ``self.contact`` for the view.
    """

    def dispatch(self, request, *args, **kwargs):
        if not request.user.is_authenticated:
            return self.handle_no_permission()
        self.contact = contact_of(request.user)
        if self.contact is None:
            return render(request, NOT_LINKED_TEMPLATE, status=403)
        return super().dispatch(request, *args, **kwargs)

    def my_tickets(self):
        return Ticket.objects.filter(requester=self.contact)

    def get_context_data(self, **kwargs):
        return super().get_context_data(contact=self.contact, **kwargs)


class TicketListView(PortalMixin, ListView):
    """My tickets, most recently updated first, with the minutes spent on each."""

    template_name = "wagtail_crm/portal/ticket_list.html"
    context_object_name = "tickets"
    paginate_by = 20

    def get_queryset(self):
        return self.my_tickets().annotate(minutes=Sum("time_entries__minutes")).order_by(
            "-updated_at", "-pk"
        )


class TicketCreateView(PortalMixin, FormView):
    """A new ticket from the portal, in the requester's folder."""

    template_name = "wagtail_crm/portal/ticket_form.html"
    form_class = PortalTicketForm

    def form_valid(self, form):
        ticket = form.save(commit=False)
        ticket.requester = self.contact
        ticket.folder_id = self.contact.folder_id
        ticket.channel = TicketChannel.PORTAL
        ticket.created_by = self.request.user
        with transaction.atomic():
            ticket.save()
            log(ticket, "wagtail.create", user=self.request.user)
        messages.success(
            self.request, _("Your ticket %(reference)s has been opened.") % {
                "reference": ticket.reference
            }
        )
        return redirect("wagtail_crm:portal_ticket", pk=ticket.pk)


class TicketDetailView(PortalMixin, TemplateView):
    """One of my tickets: its public thread, the time spent and a reply form."""

    template_name = "wagtail_crm/portal/ticket_detail.html"

    def dispatch(self, request, *args, **kwargs):
        self.ticket = None
        return super().dispatch(request, *args, **kwargs)

    def get_ticket(self):
        if self.ticket is None:
            self.ticket = get_object_or_404(self.my_tickets(), pk=self.kwargs["pk"])
        return self.ticket

    def get_context_data(self, form=None, **kwargs):
        ticket = self.get_ticket()
        entries = list(ticket.time_entries.only("spent_on", "minutes", "billable", "charged_in"))
        replies = ticket.messages.filter(is_internal=False).select_related("author")
        return super().get_context_data(
            ticket=ticket,
            replies=replies,
            time_entries=entries,
            total_minutes=sum(entry.minutes for entry in entries),
            form=form if form is not None else PortalReplyForm(),
            can_reply=not ticket.is_closed,
            **kwargs,
        )

    def post(self, request, *args, **kwargs):
        ticket = self.get_ticket()
        form = PortalReplyForm(request.POST)
        if ticket.is_closed:
            form.is_valid()
            form.add_error(None, _(
                "This ticket is closed and takes no more replies. Open a new ticket instead."
            ))
            return self.render_to_response(self.get_context_data(form=form), status=400)
        if not form.is_valid():
            return self.render_to_response(self.get_context_data(form=form), status=400)
        try:
            add_message(ticket, author=request.user, body=form.cleaned_data["body"])
        except ValidationError as error:
            form.add_error("body", error)
            return self.render_to_response(self.get_context_data(form=form), status=400)
        messages.success(request, _("Your reply has been sent."))
        return redirect("wagtail_crm:portal_ticket", pk=ticket.pk)


class CreditView(PortalMixin, ListView):
    """My credit: the balance of the account my tickets are charged to, and its ledger.

    The owner of the account sees the whole ledger. A person whose tickets are charged to their
    organisation's shared account sees its balance and only the rows of their own tickets.
    """

    template_name = "wagtail_crm/portal/credit.html"
    context_object_name = "ledger"
    paginate_by = 50

    def get_queryset(self):
        self.account = existing_account_for(self.contact)
        if self.account is None:
            return CreditTransaction.objects.none()
        rows = self.account.transactions.select_related("ticket")
        if self.is_shared_view:
            rows = rows.filter(ticket__requester=self.contact)
        return rows.order_by("-created_at", "-pk")

    @property
    def is_shared_view(self):
        return self.account is not None and self.account.contact_id != self.contact.pk

    def get_context_data(self, **kwargs):
        return super().get_context_data(
            account=self.account,
            shared=self.is_shared_view,
            organisation=self.account.contact if self.is_shared_view else None,
            **kwargs,
        )

