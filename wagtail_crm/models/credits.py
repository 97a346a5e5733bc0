"""Credit accounts and their append-only ledger.

Credits are counted in minutes. Every change to an account is one :class:`CreditTransaction`
(a grant, a purchase, a ticket charge, an adjustment or a refund); the account's ``balance`` is a
cache of the sum of its transactions, updated in the same database transaction as each new row,
with the account row locked. ``wagtail_crm.services.credits`` writes both; nothing else does.

The ledger is append-only. ``CreditTransaction.save()`` refuses to update a stored row,
``delete()`` refuses, and its queryset refuses ``update()``, ``bulk_update()`` and
``delete()``. Only raw SQL could change a ledger row, and nothing in the CRM runs any.
"""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from .contacts import Contact


class LedgerIsAppendOnly(Exception):
    """Raised on any attempt to change or delete a stored ledger row."""


class CreditAccount(models.Model):
    """A contact's credit balance, in minutes.

    An organisation's account marked ``is_shared`` pays for the tickets of the people whose
    primary organisation it is (``services.credits.account_for``).
    """

    contact = models.OneToOneField(
        Contact,
        verbose_name=_("contact"),
        # A contact whose account has a ledger is kept: the ledger names it.
        on_delete=models.PROTECT,
        related_name="credit_account",
    )
    #: For an organisation: its people's tickets are charged to this account.
    is_shared = models.BooleanField(
        _("shared with its people"),
        default=False,
        help_text=_(
            "For an organisation: tickets of people whose organisation this is are charged "
            "to this account instead of their own."
        ),
    )
    #: The sum of the ledger, kept in step by services.credits in the same transaction.
    balance = models.IntegerField(_("balance (minutes)"), default=0, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("credit account")
        verbose_name_plural = _("credit accounts")
        indexes = [models.Index(fields=["balance"], name="crm_credit_account_balance")]

    def __str__(self):
        return str(self.contact)

    def ledger_sum(self):
        """The balance recomputed from the ledger (what ``balance`` caches)."""
        total = self.transactions.aggregate(total=models.Sum("amount"))["total"]
        return total or 0


class TransactionKind(models.TextChoices):
    PURCHASE = "purchase", _("Purchase")
    GRANT = "grant", _("Grant")
    TICKET_CHARGE = "ticket_charge", _("Ticket charge")
    ADJUSTMENT = "adjustment", _("Adjustment")
    REFUND = "refund", _("Refund")


class LedgerQuerySet(models.QuerySet):
    """Ledger rows can be read and added, never changed or deleted in bulk."""

    def update(self, **kwargs):
        raise LedgerIsAppendOnly(_("Credit transactions cannot be changed."))

    def bulk_update(self, objs, fields, batch_size=None):
        raise LedgerIsAppendOnly(_("Credit transactions cannot be changed."))

    def delete(self):
        raise LedgerIsAppendOnly(_("Credit transactions cannot be deleted."))

    delete.queryset_only = True


class CreditTransaction(models.Model):
    """One row of an account's ledger: ``amount`` minutes added (positive) or taken (negative)."""

    account = models.ForeignKey(
        CreditAccount,
        verbose_name=_("account"),
        on_delete=models.PROTECT,
        related_name="transactions",
    )
    amount = models.IntegerField(_("minutes"))
    kind = models.CharField(_("kind"), max_length=20, choices=TransactionKind.choices)
    #: The ticket a charge (or refund) is for.
    ticket = models.ForeignKey(
        "wagtail_crm.Ticket",
        verbose_name=_("ticket"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="credit_transactions",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=_("by"),
        null=True,
        blank=True,
        # Users who wrote to the ledger are deactivated, not deleted: the row is never changed.
        on_delete=models.PROTECT,
        related_name="+",
    )
    memo = models.TextField(_("memo"), blank=True)
    #: The account's balance right after this row: the ledger reads as a statement.
    balance_after = models.IntegerField(_("balance after"), editable=False)
    created_at = models.DateTimeField(_("date"), auto_now_add=True)

    objects = LedgerQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        verbose_name = _("credit transaction")
        verbose_name_plural = _("credit transactions")
        indexes = [
            models.Index(fields=["account", "-created_at", "-id"], name="crm_credit_ledger"),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(amount=0), name="crm_credit_amount_nonzero"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.amount:+d} min"

    def save(self, *args, **kwargs):
        if self.pk is not None or not self._state.adding:
            raise LedgerIsAppendOnly(_("Credit transactions cannot be changed."))
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise LedgerIsAppendOnly(_("Credit transactions cannot be deleted."))
