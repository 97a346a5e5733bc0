"""Credit accounts: grants, adjustments and charges, each one ledger row in one transaction.

Every function that writes to the ledger locks the account row (``select_for_update``) first,
reads the balance from the locked row, writes one :class:`~wagtail_crm.models.CreditTransaction`
and stores the new cached balance before the transaction commits. Two writers to one account
therefore take turns, and ``CreditAccount.balance`` always equals the sum of the ledger.

Callers that also lock a ticket (``services.tickets.close_ticket``) lock the ticket first and
the account second; nothing locks in the other order, so they cannot deadlock.
"""

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext as _

from ..conf import crm_settings
from ..models import ContactKind, CreditAccount, CreditTransaction, TransactionKind


class InsufficientCredit(Exception):
    """A charge would take an account below what ``WAGTAIL_CRM_CREDIT_OVERDRAFT_LIMIT`` allows."""

    def __init__(self, account, balance, minutes, limit):
        self.account, self.balance, self.minutes, self.limit = account, balance, minutes, limit
        if limit:
            message = _(
                "Not enough credit: the account of %(name)s has %(balance)d minutes and charging "
                "%(minutes)d minutes would take it below the overdraft limit of -%(limit)d minutes."
            )
        else:
            message = _(
                "Not enough credit: the account of %(name)s has %(balance)d minutes, and "
                "%(minutes)d minutes are to be charged. Add credit to the account first."
            )
        super().__init__(message % {
            "name": account.contact, "balance": balance, "minutes": minutes, "limit": limit or 0,
        })

    @property
    def message(self):
        return str(self)


def existing_account_for(contact):
    """The account :func:`account_for` charges for ``contact``, or None where it has none yet.

    Reading it creates nothing (the support portal shows it; a contact with an account cannot
    be purged).
    """
    query = Q(contact_id=contact.pk)
    if contact.primary_organization_id and contact.kind == ContactKind.PERSON:
        query |= Q(contact_id=contact.primary_organization_id, is_shared=True)
    accounts = {account.contact_id: account for account in CreditAccount.objects.filter(query)}
    return accounts.get(contact.primary_organization_id) or accounts.get(contact.pk)


def account_for(contact):
    """The account a contact's tickets are charged to (created when missing).

    That is the account of the contact's primary organisation when the organisation's account
    is shared, otherwise the contact's own.
    """
    account = existing_account_for(contact)
    if account is None:
        account, _created = CreditAccount.objects.get_or_create(contact=contact)
    return account


def balance(account):
    """The account's balance in minutes, read from the database."""
    return CreditAccount.objects.values_list("balance", flat=True).get(pk=account.pk)


def lock_account(account):
    """The account's row, locked until the current transaction ends."""
    return CreditAccount.objects.select_for_update().select_related("contact").get(pk=account.pk)


def post(locked, amount, kind, *, user=None, ticket=None, memo=""):
    """Write one ledger row on a locked account and store its new balance.

    Call inside ``transaction.atomic()`` with ``locked`` from :func:`lock_account`. Sends the
    low-balance email (on commit) when the balance crosses ``CREDIT_LOW_BALANCE_MINUTES``.
    """
    before = locked.balance
    after = before + amount
    entry = CreditTransaction.objects.create(
        account=locked, amount=amount, kind=kind, ticket=ticket, created_by=user, memo=memo,
        balance_after=after,
    )
    CreditAccount.objects.filter(pk=locked.pk).update(balance=after)
    locked.balance = after
    threshold = crm_settings.CREDIT_LOW_BALANCE_MINUTES
    if threshold is not None and before > threshold >= after:
        from .ticket_mail import send_low_balance

        account_id = locked.pk
        transaction.on_commit(lambda: send_low_balance(account_id, after))
    return entry


def check_overdraft(locked, minutes):
    """Raise :class:`InsufficientCredit` unless charging ``minutes`` is allowed."""
    limit = crm_settings.CREDIT_OVERDRAFT_LIMIT
    floor = -(limit or 0)
    if locked.balance - minutes < floor:
        raise InsufficientCredit(locked, locked.balance, minutes, limit)


def grant(account, minutes, *, user, memo, kind=TransactionKind.GRANT):
    """Add ``minutes`` of credit (a grant, purchase or refund) to ``account``.

    Returns:
        The new CreditTransaction.

    Raises:
        ValidationError: ``minutes`` is not a positive number, or ``kind`` is not one that adds.
    """
    if kind not in (TransactionKind.GRANT, TransactionKind.PURCHASE, TransactionKind.REFUND):
        raise ValidationError(_("Only grants, purchases and refunds add credit."))
    if int(minutes) <= 0:
        raise ValidationError(_("Give a positive number of minutes."))
    with transaction.atomic():
        locked = lock_account(account)
        entry = post(locked, int(minutes), kind, user=user, memo=memo)
    account.balance = locked.balance
    return entry


def adjust(account, minutes, *, user, memo):
    """Correct ``account`` by ``minutes`` (positive or negative), explaining why in ``memo``.

    Adjustments are an administrator's deliberate correction: the overdraft limit does not
    apply to them.

    Raises:
        ValidationError: ``minutes`` is zero or ``memo`` is empty.
    """
    if not int(minutes):
        raise ValidationError(_("An adjustment needs a number of minutes other than zero."))
    if not (memo or "").strip():
        raise ValidationError(_("Say why the account is adjusted."))
    with transaction.atomic():
        locked = lock_account(account)
        entry = post(locked, int(minutes), TransactionKind.ADJUSTMENT, user=user, memo=memo)
    account.balance = locked.balance
    return entry
