"""Ticket operations: status changes, closing with its credit charge, messages and time.

Closing a ticket charges its billable minutes not yet charged, exactly once, however many
requests close it at the same time: :func:`close_ticket` locks the ticket row, then the credit
account row (always in that order), and only then reads which time entries are uncharged.
Writers that add time to a ticket lock its row too (:func:`log_time`; the admin form saves the
ticket row, which locks it, before its time entries), so no entry slips in between the sum
and the charge. Emails go out when the transaction commits, never for a rolled-back change.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from ..models import Ticket, TicketMessage, TicketStatus, TimeEntry, TransactionKind
from . import ticket_mail
from .credits import InsufficientCredit, account_for, check_overdraft, lock_account, post

__all__ = [
    "InsufficientCredit",
    "add_message",
    "close_ticket",
    "log_time",
    "reopen_ticket",
    "set_status",
]


def lock_ticket(ticket):
    """The ticket's row, locked until the current transaction ends."""
    return Ticket.objects.select_for_update().get(pk=ticket.pk)


def _store_status(ticket, locked, status, user):
    old = locked.status
    locked.status = status
    locked.closed_at = timezone.now() if status == TicketStatus.CLOSED else None
    locked.save(update_fields=["status", "closed_at", "updated_at"])
    ticket.status, ticket.closed_at, ticket.updated_at = (
        locked.status, locked.closed_at, locked.updated_at
    )
    ticket_id, user_id = locked.pk, user.pk if user else None
    transaction.on_commit(
        lambda: ticket_mail.notify_status_change(ticket_id, old, status, user_id)
    )


def close_ticket(ticket, *, user):
    """Close ``ticket`` and charge its billable minutes not charged yet.

    The charge is one ``ticket_charge`` transaction of minus those minutes on the requester's
    account (``services.credits.account_for``); the time entries it covers point at it. With
    nothing new to charge no transaction is written, and closing a closed ticket does nothing.

    Returns:
        The CreditTransaction written, or ``None``.

    Raises:
        InsufficientCredit: the charge would overdraw the account beyond
            ``WAGTAIL_CRM_CREDIT_OVERDRAFT_LIMIT``; nothing is changed.
    """
    with transaction.atomic():
        locked = lock_ticket(ticket)
        uncharged = list(
            TimeEntry.objects.filter(ticket=locked, billable=True, charged_in__isnull=True)
            .values_list("pk", "minutes")
        )
        minutes = sum(m for _pk, m in uncharged)
        charge = None
        if minutes:
            account = lock_account(account_for(locked.requester))
            check_overdraft(account, minutes)
            charge = post(
                account, -minutes, TransactionKind.TICKET_CHARGE, user=user, ticket=locked,
                memo=locked.reference,
            )
            TimeEntry.objects.filter(pk__in=[pk for pk, _m in uncharged]).update(
                charged_in=charge
            )
        if locked.status != TicketStatus.CLOSED:
            _store_status(ticket, locked, TicketStatus.CLOSED, user)
    return charge


def set_status(ticket, status, *, user):
    """Change the ticket's status; closing goes through :func:`close_ticket`.

    Returns:
        The charge written when the ticket closed, otherwise ``None``.
    """
    if status not in TicketStatus.values:
        raise ValidationError(_("Unknown ticket status: %(status)s") % {"status": status})
    if status == TicketStatus.CLOSED:
        return close_ticket(ticket, user=user)
    with transaction.atomic():
        locked = lock_ticket(ticket)
        if locked.status != status:
            _store_status(ticket, locked, status, user)
    return None


def reopen_ticket(ticket, *, user):
    """Open a resolved or closed ticket again; time logged from now on is charged when it
    closes again, and what was charged before is not charged twice."""
    return set_status(ticket, TicketStatus.OPEN, user=user)


def add_message(ticket, *, author, body, is_internal=False, attachments=()):
    """Add a public reply or an internal note, and email it (on commit).

    A public reply goes to the requester and the assignee, an internal note to the assignee
    only; nobody is emailed their own message.
    """
    if not (body or "").strip():
        raise ValidationError(_("Write a message."))
    with transaction.atomic():
        message = TicketMessage.objects.create(
            ticket=ticket, author=author, body=body, is_internal=is_internal
        )
        if attachments:
            message.attachments.set(attachments)
        Ticket.objects.filter(pk=ticket.pk).update(updated_at=timezone.now())
        message_id = message.pk
        transaction.on_commit(lambda: ticket_mail.notify_message(message_id))
    return message


def log_time(ticket, *, user, minutes, note="", billable=True, spent_on=None):
    """Log ``minutes`` spent on ``ticket``; billable time is charged when the ticket closes.

    Raises:
        ValidationError: the ticket is closed (reopen it first) or ``minutes`` is not positive.
    """
    if int(minutes) <= 0:
        raise ValidationError(_("Give a positive number of minutes."))
    with transaction.atomic():
        locked = lock_ticket(ticket)
        if locked.status == TicketStatus.CLOSED:
            raise ValidationError(_("This ticket is closed: reopen it to log more time."))
        entry = TimeEntry(
            ticket=locked, user=user, minutes=int(minutes), note=note, billable=billable
        )
        if spent_on is not None:
            entry.spent_on = spent_on
        entry.save()
    return entry
