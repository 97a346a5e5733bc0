"""Tickets: references, closing and charging exactly once, status changes, messages, mail."""

import random
import threading

import pytest
from django.core import mail
from django.core.exceptions import ValidationError
from django.db import connection
from django.utils import timezone

from tests.factories import (
    FolderFactory,
    OrganizationFactory,
    PersonFactory,
    TicketFactory,
    TimeEntryFactory,
    UserFactory,
    credit_account,
)
from wagtail_crm.models import (
    CreditTransaction,
    Ticket,
    TicketSequence,
    TicketStatus,
    TimeEntry,
)
from wagtail_crm.services import credits
from wagtail_crm.services.tickets import (
    add_message,
    close_ticket,
    log_time,
    reopen_ticket,
    set_status,
)

pytestmark = pytest.mark.django_db


def person_with_email(address, **fields):
    person = PersonFactory(**fields)
    person.primary_email = address
    person.save(update_fields=["primary_email"])
    return person


# References and defaults ---------------------------------------------------------------------


def test_references_count_up_within_the_year():
    year = timezone.localdate().year
    first, second = TicketFactory(), TicketFactory()
    assert first.reference == f"T-{year}-00001"
    assert second.reference == f"T-{year}-00002"
    assert TicketSequence.next_reference(year + 1) == f"T-{year + 1}-00001"
    assert TicketSequence.next_reference(year) == f"T-{year}-00003"
    # Saving again keeps the reference.
    first.subject = "Changed"
    first.save()
    first.refresh_from_db()
    assert first.reference == f"T-{year}-00001"


def test_a_ticket_is_in_its_requesters_folder_unless_given_one():
    folder, other = FolderFactory(), FolderFactory()
    requester = PersonFactory(folder=folder)
    assert TicketFactory(requester=requester).folder == folder
    assert TicketFactory(requester=requester, folder=other).folder == other


def test_overdue_means_active_and_past_due():
    past = timezone.now() - timezone.timedelta(hours=1)
    assert TicketFactory(due_at=past).is_overdue
    assert not TicketFactory(due_at=past, status="resolved").is_overdue
    assert not TicketFactory(due_at=timezone.now() + timezone.timedelta(days=1)).is_overdue
    assert not TicketFactory().is_overdue


# Closing and charging ------------------------------------------------------------------------


@pytest.fixture
def account():
    return credit_account(minutes=1000)


def test_closing_charges_the_billable_minutes_exactly_once(account):
    user = UserFactory()
    ticket = TicketFactory(requester=account.contact)
    TimeEntryFactory(ticket=ticket, minutes=30)
    TimeEntryFactory(ticket=ticket, minutes=15)
    charge = close_ticket(ticket, user=user)
    assert (charge.kind, charge.amount, charge.ticket, charge.created_by) == (
        "ticket_charge", -45, ticket, user
    )
    assert charge.memo == ticket.reference
    assert ticket.status == TicketStatus.CLOSED and ticket.closed_at is not None
    assert set(ticket.time_entries.values_list("charged_in", flat=True)) == {charge.pk}

    assert close_ticket(ticket, user=user) is None
    assert set_status(ticket, "closed", user=user) is None
    assert CreditTransaction.objects.filter(kind="ticket_charge").count() == 1
    assert credits.balance(account) == 1000 - 45


def test_reopening_and_closing_again_charges_only_the_new_minutes(account):
    ticket = TicketFactory(requester=account.contact)
    log_time(ticket, user=None, minutes=20)
    first = close_ticket(ticket, user=None)
    with pytest.raises(ValidationError, match="reopen"):
        log_time(ticket, user=None, minutes=5)
    reopen_ticket(ticket, user=None)
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.OPEN and ticket.closed_at is None
    log_time(ticket, user=None, minutes=25, note="Follow-up")
    second = close_ticket(ticket, user=None)
    assert (first.amount, second.amount) == (-20, -25)
    assert credits.balance(account) == 1000 - 45
    # Reopened and closed with nothing new: nothing charged.
    reopen_ticket(ticket, user=None)
    assert close_ticket(ticket, user=None) is None
    assert ticket.credit_transactions.count() == 2


def test_non_billable_minutes_are_never_charged(account):
    ticket = TicketFactory(requester=account.contact)
    log_time(ticket, user=None, minutes=40, billable=False)
    assert close_ticket(ticket, user=None) is None
    assert ticket.status == TicketStatus.CLOSED
    reopen_ticket(ticket, user=None)
    log_time(ticket, user=None, minutes=10)
    assert close_ticket(ticket, user=None).amount == -10
    assert TimeEntry.objects.get(minutes=40).charged_in is None
    assert credits.balance(account) == 990


def test_a_shared_organisation_account_pays_for_its_people():
    organisation = OrganizationFactory()
    shared = credit_account(organisation, minutes=100, shared=True)
    person = PersonFactory(primary_organization=organisation)
    ticket = TicketFactory(requester=person)
    TimeEntryFactory(ticket=ticket, minutes=35)
    assert close_ticket(ticket, user=None).account == shared
    assert credits.balance(shared) == 65


def test_a_charged_time_entry_cannot_be_changed(account):
    ticket = TicketFactory(requester=account.contact)
    entry = TimeEntryFactory(ticket=ticket, minutes=30)
    close_ticket(ticket, user=None)
    entry.refresh_from_db()
    entry.minutes = 5
    with pytest.raises(ValidationError, match="charged"):
        entry.full_clean()
    entry.minutes, entry.note = 30, "A note may change"
    entry.full_clean()


def test_an_unknown_status_is_refused(account):
    with pytest.raises(ValidationError):
        set_status(TicketFactory(requester=account.contact), "lost", user=None)


# Messages and notifications ------------------------------------------------------------------


@pytest.fixture
def mailed_ticket(db):
    requester = person_with_email("requester@example.org", given_name="Rita")
    credit_account(requester, minutes=1000)
    assignee = UserFactory(username="agent", email="agent@example.com")
    return TicketFactory(requester=requester, assignee=assignee, subject="Printer on fire")


def test_a_public_reply_goes_to_the_requester_and_the_assignee(
    mailed_ticket, django_capture_on_commit_callbacks
):
    author = UserFactory(username="colleague")
    with django_capture_on_commit_callbacks(execute=True):
        add_message(mailed_ticket, author=author, body="We are on our way.")
    assert sorted(m.to[0] for m in mail.outbox) == ["agent@example.com", "requester@example.org"]
    assert all(mailed_ticket.reference in m.subject for m in mail.outbox)
    assert all("We are on our way." in m.body for m in mail.outbox)


def test_an_internal_note_never_reaches_the_requester(
    mailed_ticket, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        add_message(mailed_ticket, author=None, body="Customer is difficult", is_internal=True)
    assert [m.to for m in mail.outbox] == [["agent@example.com"]]
    assert "Internal note" in mail.outbox[0].subject


def test_a_message_keeps_its_attachments(mailed_ticket):
    from django.core.files.base import ContentFile
    from wagtail.documents import get_document_model

    document = get_document_model().objects.create(
        title="Screenshot", file=ContentFile(b"not really a png", name="screen.png")
    )
    message = add_message(mailed_ticket, author=None, body="See attached",
                          attachments=[document])
    assert list(message.attachments.all()) == [document]


def test_nobody_is_mailed_their_own_message(mailed_ticket, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        add_message(mailed_ticket, author=mailed_ticket.assignee, body="Note to self",
                    is_internal=True)
    assert mail.outbox == []
    with pytest.raises(ValidationError):
        add_message(mailed_ticket, author=None, body="   ")


def test_status_changes_are_mailed_with_the_time_spent(
    mailed_ticket, django_capture_on_commit_callbacks
):
    TimeEntryFactory(ticket=mailed_ticket, minutes=45)
    with django_capture_on_commit_callbacks(execute=True):
        set_status(mailed_ticket, "pending", user=None)
        set_status(mailed_ticket, "pending", user=None)  # no change, no mail
    assert sorted(m.to[0] for m in mail.outbox) == ["agent@example.com", "requester@example.org"]
    assert "Pending" in mail.outbox[0].subject
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        close_ticket(mailed_ticket, user=mailed_ticket.assignee)
    assert [m.to for m in mail.outbox] == [["requester@example.org"]]
    assert "45 minutes" in mail.outbox[0].body and "Closed" in mail.outbox[0].body


def test_a_refused_closing_mails_nobody(settings, django_capture_on_commit_callbacks):
    from wagtail_crm.services.tickets import InsufficientCredit

    settings.WAGTAIL_CRM_CREDIT_OVERDRAFT_LIMIT = None
    requester = person_with_email("broke@example.org")
    credit_account(requester, minutes=5)
    ticket = TicketFactory(requester=requester)
    TimeEntryFactory(ticket=ticket, minutes=30)
    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(InsufficientCredit):
            close_ticket(ticket, user=None)
    assert mail.outbox == []


def test_notifications_can_be_turned_off(settings, mailed_ticket,
                                         django_capture_on_commit_callbacks):
    settings.WAGTAIL_CRM_TICKET_NOTIFICATIONS = False
    with django_capture_on_commit_callbacks(execute=True):
        add_message(mailed_ticket, author=None, body="Hello")
        set_status(mailed_ticket, "resolved", user=None)
    assert mail.outbox == []


# Exactly once under concurrency (PostgreSQL: real row locks, one connection per thread) ------


def run_in_threads(count, work):
    """Run ``work(index)`` in ``count`` threads started together; return their exceptions."""
    barrier = threading.Barrier(count)
    errors = []

    def target(index):
        try:
            barrier.wait(timeout=30)
            work(index)
        except Exception as error:  # noqa: BLE001 - reported by the test
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=target, args=(i,)) for i in range(count)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(thread.is_alive() for thread in threads)
    return errors


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_twenty_threads_closing_one_ticket_charge_it_once():
    account = credit_account(minutes=10_000)
    ticket = TicketFactory(requester=account.contact)
    for minutes in (30, 45, 5):
        TimeEntryFactory(ticket=ticket, minutes=minutes)
    seen = set()

    def close(_index):
        seen.add(connection.connection.info.backend_pid if connection.connection else None)
        close_ticket(Ticket.objects.get(pk=ticket.pk), user=None)
        seen.add(connection.connection.info.backend_pid)

    assert run_in_threads(20, close) == []
    assert len(seen - {None}) == 20  # twenty database connections
    charges = CreditTransaction.objects.filter(ticket=ticket)
    assert [c.amount for c in charges] == [-80]
    assert credits.balance(account) == 10_000 - 80
    assert Ticket.objects.get(pk=ticket.pk).status == TicketStatus.CLOSED


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_hundred_tickets_of_one_account_closed_from_ten_threads():
    start = 100_000
    account = credit_account(minutes=start)
    tickets = []
    for number in range(100):
        ticket = TicketFactory(requester=account.contact)
        TimeEntryFactory(ticket=ticket, minutes=number + 1)
        TimeEntryFactory(ticket=ticket, minutes=7, billable=False)
        tickets.append(ticket.pk)

    def close_all(index):
        # Every thread tries every ticket, each in its own order.
        order = list(tickets)
        random.Random(index).shuffle(order)
        for pk in order:
            close_ticket(Ticket.objects.get(pk=pk), user=None)

    assert run_in_threads(10, close_all) == []
    charges = CreditTransaction.objects.filter(kind="ticket_charge")
    assert charges.count() == 100
    assert sorted(charges.values_list("ticket_id", flat=True)) == sorted(tickets)
    charged = sum(range(1, 101))
    assert sum(c.amount for c in charges) == -charged
    account.refresh_from_db()
    assert account.balance == account.ledger_sum() == start - charged
    assert not Ticket.objects.exclude(status=TicketStatus.CLOSED).exists()
    assert TimeEntry.objects.filter(billable=True, charged_in__isnull=True).count() == 0


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_references_stay_unique_when_tickets_are_created_at_once():
    requester = PersonFactory()
    year = timezone.localdate().year

    def create(index):
        for number in range(5):
            Ticket.objects.create(subject=f"{index}-{number}", requester=requester)

    assert run_in_threads(10, create) == []
    references = sorted(Ticket.objects.values_list("reference", flat=True))
    assert references == [f"T-{year}-{n:05d}" for n in range(1, 51)]
