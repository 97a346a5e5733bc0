"""Credit accounts and the ledger: grants, adjustments, charges, overdraft, low-balance mail."""

import pytest
from django.core import mail
from django.core.exceptions import ValidationError

from tests.factories import (
    OrganizationFactory,
    PersonFactory,
    TicketFactory,
    TimeEntryFactory,
    UserFactory,
    credit_account,
)
from wagtail_crm.models import (
    CreditAccount,
    CreditTransaction,
    LedgerIsAppendOnly,
    TicketStatus,
    TransactionKind,
)
from wagtail_crm.services import credits
from wagtail_crm.services.tickets import InsufficientCredit, close_ticket

pytestmark = pytest.mark.django_db


def ticket_with(account, *minutes, billable=True):
    ticket = TicketFactory(requester=account.contact)
    for amount in minutes:
        TimeEntryFactory(ticket=ticket, minutes=amount, billable=billable)
    return ticket


def test_grants_and_adjustments_write_the_ledger_and_the_cached_balance():
    account = credit_account()
    user = UserFactory()
    entry = credits.grant(account, 120, user=user, memo="Support pack")
    assert (entry.kind, entry.amount, entry.balance_after, entry.created_by) == (
        "grant", 120, 120, user
    )
    credits.grant(account, 60, user=user, memo="Bought", kind=TransactionKind.PURCHASE)
    credits.adjust(account, -30, user=user, memo="Double entry last month")
    assert account.balance == 150
    assert credits.balance(account) == 150
    account.refresh_from_db()
    assert account.balance == account.ledger_sum() == 150
    assert list(account.transactions.values_list("kind", flat=True)) == [
        "adjustment", "purchase", "grant"
    ]


@pytest.mark.parametrize("minutes", [0, -5])
def test_a_grant_is_positive(minutes):
    with pytest.raises(ValidationError):
        credits.grant(credit_account(), minutes, user=None, memo="")
    assert not CreditTransaction.objects.exists()


def test_a_grant_cannot_take_credit_and_an_adjustment_needs_a_memo_and_minutes():
    account = credit_account()
    with pytest.raises(ValidationError):
        credits.grant(account, 10, user=None, memo="", kind=TransactionKind.TICKET_CHARGE)
    with pytest.raises(ValidationError):
        credits.adjust(account, 10, user=None, memo="  ")
    with pytest.raises(ValidationError):
        credits.adjust(account, 0, user=None, memo="Nothing")
    assert not CreditTransaction.objects.exists()


def test_account_for_a_person_is_their_own_unless_their_organisation_shares_one():
    organisation = OrganizationFactory()
    person = PersonFactory(primary_organization=organisation)
    own = credits.account_for(person)
    assert own.contact == person
    assert credits.account_for(person) == own  # not created twice

    shared = credit_account(organisation, shared=True)
    assert credits.account_for(person) == shared
    assert credits.account_for(organisation) == shared

    CreditAccount.objects.filter(pk=shared.pk).update(is_shared=False)
    assert credits.account_for(person) == own


def test_the_ledger_cannot_be_edited_or_deleted():
    account = credit_account(minutes=100)
    entry = account.transactions.get()
    entry.amount = 1000
    with pytest.raises(LedgerIsAppendOnly):
        entry.save()
    with pytest.raises(LedgerIsAppendOnly):
        entry.delete()
    with pytest.raises(LedgerIsAppendOnly):
        CreditTransaction.objects.filter(pk=entry.pk).update(amount=1000)
    with pytest.raises(LedgerIsAppendOnly):
        CreditTransaction.objects.all().delete()
    with pytest.raises(LedgerIsAppendOnly):
        CreditTransaction.objects.bulk_update([entry], ["amount"])
    with pytest.raises(LedgerIsAppendOnly):
        account.transactions.update(memo="changed")
    # Nor by deleting what it points at.
    with pytest.raises(Exception, match="protected"):
        account.delete()
    entry = CreditTransaction.objects.get()
    assert (entry.amount, entry.memo) == (100, "Opening balance")
    assert credits.balance(account) == 100


def test_the_cached_balance_is_the_ledger_sum(settings):
    settings.WAGTAIL_CRM_CREDIT_OVERDRAFT_LIMIT = 1000
    account = credit_account(minutes=90)
    user = UserFactory()
    close_ticket(ticket_with(account, 30, 15), user=user)
    credits.adjust(account, 7, user=user, memo="Goodwill")
    close_ticket(ticket_with(account, 200), user=user)
    credits.grant(account, 60, user=user, memo="Top-up", kind=TransactionKind.REFUND)
    account.refresh_from_db()
    assert account.balance == account.ledger_sum() == 90 - 45 + 7 - 200 + 60
    balances = list(account.transactions.order_by("pk").values_list("balance_after", flat=True))
    assert balances == [90, 45, 52, -148, -88]


# Overdraft -----------------------------------------------------------------------------------


def test_an_overdraft_is_refused_with_a_clear_message(settings):
    settings.WAGTAIL_CRM_CREDIT_OVERDRAFT_LIMIT = None
    account = credit_account(minutes=20)
    ticket = ticket_with(account, 30)
    with pytest.raises(InsufficientCredit) as refused:
        close_ticket(ticket, user=None)
    message = str(refused.value)
    assert "20 minutes" in message and "30 minutes" in message
    assert str(account.contact) in message
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN
    assert not ticket.time_entries.filter(charged_in__isnull=False).exists()
    assert credits.balance(account) == 20 and account.transactions.count() == 1

    # Exactly the balance is fine.
    TimeEntryFactory(ticket=ticket, minutes=10, billable=False)
    credits.grant(account, 10, user=None, memo="")
    assert close_ticket(ticket, user=None).amount == -30
    assert credits.balance(account) == 0


def test_an_overdraft_is_allowed_down_to_the_limit(settings):
    settings.WAGTAIL_CRM_CREDIT_OVERDRAFT_LIMIT = 60
    account = credit_account(minutes=10)
    close_ticket(ticket_with(account, 70), user=None)
    assert credits.balance(account) == -60
    with pytest.raises(InsufficientCredit, match="overdraft limit of -60 minutes"):
        close_ticket(ticket_with(account, 1), user=None)
    assert credits.balance(account) == -60


def test_a_zero_limit_refuses_like_none(settings):
    settings.WAGTAIL_CRM_CREDIT_OVERDRAFT_LIMIT = 0
    account = credit_account(minutes=5)
    with pytest.raises(InsufficientCredit):
        close_ticket(ticket_with(account, 6), user=None)


# Low balance ---------------------------------------------------------------------------------


def test_the_low_balance_mail_goes_once_per_crossing(
    settings, django_capture_on_commit_callbacks
):
    settings.WAGTAIL_CRM_CREDIT_LOW_BALANCE_MINUTES = 60
    person = PersonFactory(given_name="Lowry")
    person.primary_email = "lowry@example.org"
    person.save(update_fields=["primary_email"])
    account = credit_account(person, minutes=100)

    def close(minutes):
        with django_capture_on_commit_callbacks(execute=True):
            close_ticket(ticket_with(account, minutes), user=None)

    def low_balance_mails():
        return [m for m in mail.outbox if "running low" in m.subject]

    close(30)  # 70: above
    assert low_balance_mails() == []
    close(10)  # 60: at the threshold
    assert [m.to for m in low_balance_mails()] == [["lowry@example.org"]]
    assert "60 minutes" in low_balance_mails()[0].body and "Lowry" in low_balance_mails()[0].body
    close(5)  # 55: still low, no second mail
    assert len(low_balance_mails()) == 1
    with django_capture_on_commit_callbacks(execute=True):
        credits.grant(account, 100, user=None, memo="Top-up")  # 155
    close(100)  # 55: crossed again
    assert len(low_balance_mails()) == 2


def test_no_low_balance_mail_to_a_contact_who_opted_out_or_without_a_threshold(
    settings, django_capture_on_commit_callbacks
):
    settings.WAGTAIL_CRM_CREDIT_LOW_BALANCE_MINUTES = 60
    person = PersonFactory(do_not_email=True)
    person.primary_email = "quiet@example.org"
    person.save(update_fields=["primary_email"])
    account = credit_account(person, minutes=100)
    with django_capture_on_commit_callbacks(execute=True):
        close_ticket(ticket_with(account, 50), user=None)
    assert mail.outbox == []

    settings.WAGTAIL_CRM_CREDIT_LOW_BALANCE_MINUTES = None
    with django_capture_on_commit_callbacks(execute=True):
        close_ticket(ticket_with(account, 40), user=None)
    assert mail.outbox == []
