"""Emails about tickets and credit: replies, status changes and low balances.

Each is rendered from plain-text templates under ``wagtail_crm/mail/`` (a site builder overrides
them in their own templates directory) and sent with ``django.core.mail``. The services call
these functions from ``transaction.on_commit``, with ids, so a rolled-back change sends nothing.
Requesters are emailed public replies and status changes, never internal notes; contacts marked
"do not email" and contacts without an email address are skipped.
"""

from django.core.mail import EmailMessage
from django.template.loader import render_to_string

from ..conf import crm_settings
from ..models import CreditAccount, Ticket, TicketMessage, TicketStatus


def send(template, recipient, context):
    """Render ``wagtail_crm/mail/<template>_subject.txt`` and ``<template>.txt`` and send them."""
    subject = render_to_string(f"wagtail_crm/mail/{template}_subject.txt", context)
    body = render_to_string(f"wagtail_crm/mail/{template}.txt", context)
    EmailMessage(
        " ".join(subject.split()), body, crm_settings.TICKET_FROM_EMAIL, [recipient]
    ).send()


def requester_address(contact, author=None):
    """The requester's email address, or "" when they are not to be emailed."""
    if contact.do_not_email or not contact.primary_email:
        return ""
    if author is not None and contact.user_id and contact.user_id == author.pk:
        return ""
    return contact.primary_email


def assignee_address(ticket, author_id=None):
    assignee = ticket.assignee
    if assignee is None or not assignee.email or not assignee.is_active:
        return ""
    return "" if assignee.pk == author_id else assignee.email


def time_spent(ticket):
    """Minutes logged on the ticket, shown to the requester."""
    return sum(ticket.time_entries.values_list("minutes", flat=True))


def notify_message(message_id):
    """Email a new message: public replies to the requester and assignee, notes to the assignee."""
    if not crm_settings.TICKET_NOTIFICATIONS:
        return
    message = (
        TicketMessage.objects.select_related("ticket__requester", "ticket__assignee", "author")
        .filter(pk=message_id).first()
    )
    if message is None:
        return
    ticket = message.ticket
    context = {"ticket": ticket, "message": message, "author": message.author}
    if not message.is_internal:
        to = requester_address(ticket.requester, message.author)
        if to:
            send("ticket_reply", to, {**context, "for_requester": True})
    to = assignee_address(ticket, message.author_id)
    if to:
        send("ticket_reply", to, {**context, "for_requester": False})


def notify_status_change(ticket_id, old_status, new_status, user_id=None):
    """Email the requester and the assignee that the ticket's status changed."""
    if not crm_settings.TICKET_NOTIFICATIONS:
        return
    ticket = Ticket.objects.select_related("requester", "assignee").filter(pk=ticket_id).first()
    if ticket is None:
        return
    context = {
        "ticket": ticket,
        "old_status": TicketStatus(old_status).label,
        "new_status": TicketStatus(new_status).label,
        "minutes": time_spent(ticket),
    }
    to = requester_address(ticket.requester)
    if to and (ticket.requester.user_id is None or ticket.requester.user_id != user_id):
        send("ticket_status", to, {**context, "for_requester": True})
    to = assignee_address(ticket, user_id)
    if to:
        send("ticket_status", to, {**context, "for_requester": False})


def send_low_balance(account_id, balance):
    """Tell the account's contact that its credit is running low."""
    account = CreditAccount.objects.select_related("contact").filter(pk=account_id).first()
    if account is None:
        return
    to = requester_address(account.contact)
    if to:
        send("low_balance", to, {
            "account": account, "contact": account.contact, "balance": balance,
            "threshold": crm_settings.CREDIT_LOW_BALANCE_MINUTES,
        })
