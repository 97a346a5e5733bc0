"""The ticket and credit account admin: listing, filters, export, form, closing, access."""

import csv
import io

import pytest
from django.core import mail
from django.utils import timezone

from tests.admin_forms import formset, html
from tests.factories import (
    FolderFactory,
    PersonFactory,
    TicketFactory,
    TimeEntryFactory,
    UserFactory,
    credit_account,
    folder_user,
)
from wagtail_crm.models import (
    CreditAccount,
    CreditTransaction,
    Ticket,
    TicketMessage,
    TicketStatus,
)
from wagtail_crm.permissions import HIDDEN_CONTACT
from wagtail_crm.services import credits
from wagtail_crm.services.tickets import close_ticket

pytestmark = pytest.mark.django_db

TICKETS = "/admin/crm/tickets/"
ACCOUNTS = "/admin/crm/credit-accounts/"


def ticket_data(requester, messages=(), entries=(), **overrides):
    return {
        "subject": "Cannot log in", "requester": str(requester.pk), "status": "open",
        "priority": "3", "assignee": "", "due_at": "", "folder": "", "channel": "admin",
        "description": "", "tags": "",
        **formset("messages", list(messages)), **formset("time_entries", list(entries)),
        **overrides,
    }


def entry_row(minutes, billable=True, **extra):
    row = {"minutes": str(minutes), "spent_on": "2026-01-15", "note": ""}
    if billable:
        row["billable"] = "on"
    return {**row, **extra}


def stored_rows(ticket, name):
    """The formset rows of a ticket's stored messages or time entries, as the form posts them."""
    rows = []
    if name == "messages":
        for message in ticket.messages.all():
            rows.append({"id": str(message.pk), "body": message.body,
                         **({"is_internal": "on"} if message.is_internal else {})})
    else:
        for entry in ticket.time_entries.all():
            rows.append({**entry_row(entry.minutes, entry.billable), "id": str(entry.pk),
                         "spent_on": entry.spent_on.isoformat(), "note": entry.note})
    return rows


def edit_data(ticket, new_entries=(), **overrides):
    messages = stored_rows(ticket, "messages")
    entries = stored_rows(ticket, "time_entries") + list(new_entries)
    data = ticket_data(ticket.requester, messages, entries, subject=ticket.subject,
                       status=ticket.status, priority=str(ticket.priority))
    data["messages-INITIAL_FORMS"] = str(len(messages))
    data["time_entries-INITIAL_FORMS"] = str(len(stored_rows(ticket, "time_entries")))
    data.update(overrides)
    return data


# Adding, editing, closing --------------------------------------------------------------------


def test_add_a_ticket_with_a_reply_and_time(admin_client, superuser,
                                            django_capture_on_commit_callbacks):
    requester = PersonFactory()
    requester.primary_email = "rq@example.org"
    requester.save(update_fields=["primary_email"])
    assert admin_client.get(f"{TICKETS}add/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = admin_client.post(f"{TICKETS}add/", ticket_data(
            requester, messages=[{"body": "We are looking into it."}],
            entries=[entry_row(25), entry_row(5, billable=False)],
        ))
    assert response.status_code == 302, response.context["form"].errors
    ticket = Ticket.objects.get()
    assert ticket.reference.startswith("T-")
    assert (ticket.folder, ticket.created_by) == (requester.folder, superuser)
    message = ticket.messages.get()
    assert message.author == superuser
    assert {e.user for e in ticket.time_entries.all()} == {superuser}
    assert [m.to for m in mail.outbox] == [["rq@example.org"]]


def test_the_add_url_fills_in_the_requester(admin_client):
    requester = PersonFactory()
    form = admin_client.get(f"{TICKETS}add/?requester={requester.pk}").context["form"]
    assert form.initial["requester"] == requester.pk


def test_closing_in_the_form_charges_the_time(admin_client):
    account = credit_account(minutes=100)
    ticket = TicketFactory(requester=account.contact)
    TimeEntryFactory(ticket=ticket, minutes=30)
    data = edit_data(ticket, new_entries=[entry_row(15)], status="closed")
    response = admin_client.post(f"{TICKETS}edit/{ticket.pk}/", data)
    assert response.status_code == 302, response.context["form"].errors
    ticket.refresh_from_db()
    assert ticket.status == TicketStatus.CLOSED
    assert ticket.credit_transactions.get().amount == -45
    assert credits.balance(account) == 55

    # Charged time cannot be changed, and a closed ticket takes no new time.
    data = edit_data(ticket)
    data["time_entries-0-minutes"] = "1"
    response = admin_client.post(f"{TICKETS}edit/{ticket.pk}/", data)
    assert response.status_code == 200
    assert "has been charged" in str(response.context["form"].formsets["time_entries"].errors)
    response = admin_client.post(f"{TICKETS}edit/{ticket.pk}/", edit_data(
        ticket, new_entries=[entry_row(10)]
    ))
    assert "reopen it" in str(response.context["form"].errors["status"])

    # Reopened and closed again in one save with new time: only the new time is charged.
    response = admin_client.post(f"{TICKETS}edit/{ticket.pk}/", edit_data(ticket, status="open"))
    assert response.status_code == 302
    ticket.refresh_from_db()
    response = admin_client.post(f"{TICKETS}edit/{ticket.pk}/", edit_data(
        ticket, new_entries=[entry_row(10)], status="closed"
    ))
    assert response.status_code == 302
    assert list(ticket.credit_transactions.values_list("amount", flat=True)) == [-10, -45]


def test_an_overdraft_shows_on_the_status_field_and_nothing_is_saved(admin_client, settings):
    settings.WAGTAIL_CRM_CREDIT_OVERDRAFT_LIMIT = None
    account = credit_account(minutes=10)
    ticket = TicketFactory(requester=account.contact, subject="Before")
    data = edit_data(ticket, new_entries=[entry_row(30)], status="closed", subject="After")
    response = admin_client.post(f"{TICKETS}edit/{ticket.pk}/", data)
    assert response.status_code == 200
    error = str(response.context["form"].errors["status"])
    assert "10 minutes" in error and "30 minutes" in error
    ticket.refresh_from_db()
    assert (ticket.status, ticket.subject) == (TicketStatus.OPEN, "Before")
    assert not ticket.time_entries.exists()
    assert not CreditTransaction.objects.filter(kind="ticket_charge").exists()


def test_sent_messages_are_not_edited(admin_client):
    ticket = TicketFactory()
    TicketMessage.objects.create(ticket=ticket, body="Internal only", is_internal=True)
    data = edit_data(ticket)
    data["messages-0-body"] = "Rewritten"
    data.pop("messages-0-is_internal")
    response = admin_client.post(f"{TICKETS}edit/{ticket.pk}/", data)
    assert response.status_code == 302
    message = TicketMessage.objects.get()
    assert (message.body, message.is_internal) == ("Internal only", True)


def test_the_ticket_page_shows_the_thread_and_time(admin_client):
    ticket = TicketFactory()
    TicketMessage.objects.create(ticket=ticket, body="Public answer")
    TicketMessage.objects.create(ticket=ticket, body="Secret note", is_internal=True)
    TimeEntryFactory(ticket=ticket, minutes=42, note="Diagnosis")
    page = html(admin_client.get(f"{TICKETS}inspect/{ticket.pk}/"))
    assert "Public answer" in page and "Secret note" in page and "Internal note" in page
    assert "Diagnosis" in page and "42" in page


def test_a_charged_ticket_is_not_deleted(admin_client):
    account = credit_account(minutes=100)
    ticket = TicketFactory(requester=account.contact)
    TimeEntryFactory(ticket=ticket, minutes=5)
    close_ticket(ticket, user=None)
    response = admin_client.post(f"{TICKETS}delete/{ticket.pk}/")
    assert response.status_code == 200 and "kept with the credit ledger" in html(response)
    assert Ticket.objects.filter(pk=ticket.pk).exists()
    other = TicketFactory()
    assert admin_client.post(f"{TICKETS}delete/{other.pk}/").status_code == 302
    assert not Ticket.objects.filter(pk=other.pk).exists()


# Listing -------------------------------------------------------------------------------------


def test_listing_filters(admin_client):
    agent = UserFactory(username="agent")
    folder = FolderFactory(name="Support")
    requester = PersonFactory(folder=folder)
    urgent = TicketFactory(priority=5, assignee=agent, requester=requester,
                           due_at=timezone.now() - timezone.timedelta(days=1))
    pending = TicketFactory(status="pending")
    late_but_done = TicketFactory(status="resolved",
                                  due_at=timezone.now() - timezone.timedelta(days=1))

    def listed(**params):
        response = admin_client.get(TICKETS, params)
        assert response.status_code == 200
        return {t.pk for t in response.context["object_list"]}

    assert listed() == {urgent.pk, pending.pk, late_but_done.pk}
    assert listed(status="pending") == {pending.pk}
    assert listed(priority="5") == {urgent.pk}
    assert listed(assignee=agent.pk) == {urgent.pk}
    assert listed(requester=requester.pk) == {urgent.pk}
    assert listed(folder=folder.pk) == {urgent.pk}
    assert listed(overdue="true") == {urgent.pk}
    assert listed(q=urgent.reference) == {urgent.pk}
    assert "overdue" in html(admin_client.get(TICKETS))


def test_export_escapes_formulas(admin_client):
    TicketFactory(subject="=HYPERLINK(\"http://evil\")")
    TimeEntryFactory(ticket=Ticket.objects.get(), minutes=12)
    response = admin_client.get(TICKETS, {"export": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0][:3] == ["Reference", "Subject", "Status"]
    assert rows[1][1].startswith("'=")
    assert rows[1][8] == "12"
    assert admin_client.get(TICKETS, {"export": "xlsx"}).status_code == 200


def test_listing_queries_do_not_grow_with_rows(admin_client, django_assert_max_num_queries):
    TicketFactory(assignee=UserFactory())
    with django_assert_max_num_queries(40) as few:
        admin_client.get(TICKETS)
    for _n in range(10):
        TicketFactory(assignee=UserFactory())
    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client.get(TICKETS)


def test_ticket_page_queries_do_not_grow_with_messages(admin_client,
                                                       django_assert_max_num_queries):
    ticket = TicketFactory()
    TicketMessage.objects.create(ticket=ticket, body="One")
    TimeEntryFactory(ticket=ticket)
    with django_assert_max_num_queries(40) as few:
        admin_client.get(f"{TICKETS}inspect/{ticket.pk}/")
    for _n in range(10):
        TicketMessage.objects.create(ticket=ticket, body="More", author=UserFactory())
        TimeEntryFactory(ticket=ticket, user=UserFactory())
    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client.get(f"{TICKETS}inspect/{ticket.pk}/")


# Access --------------------------------------------------------------------------------------


@pytest.fixture
def folders():
    return FolderFactory(name="Mine"), FolderFactory(name="Theirs")


def test_tickets_of_other_folders_are_out_of_reach(client, folders):
    mine, theirs = folders
    client.force_login(folder_user("manager", (mine, "manage")))
    visible = TicketFactory(requester=PersonFactory(folder=mine), subject="Visible one")
    hidden = TicketFactory(requester=PersonFactory(folder=theirs), subject="Zebra secret")

    listing = client.get(TICKETS)
    assert [t.pk for t in listing.context["object_list"]] == [visible.pk]
    assert "Zebra secret" not in html(listing)
    export = b"".join(client.get(TICKETS, {"export": "csv"}).streaming_content)
    assert b"Zebra" not in export and b"Visible one" in export
    for view in ("edit", "delete", "inspect", "history", "usage"):
        assert client.get(f"{TICKETS}{view}/{visible.pk}/").status_code == 200, view
        assert client.get(f"{TICKETS}{view}/{hidden.pk}/").status_code == 404, view
    assert client.post(f"{TICKETS}delete/{hidden.pk}/").status_code == 404
    assert client.post(f"{TICKETS}edit/{hidden.pk}/", edit_data(hidden)).status_code == 404
    assert Ticket.objects.filter(pk=hidden.pk).exists()
    # Nor can a ticket be filed under a hidden requester or into a hidden folder.
    response = client.post(f"{TICKETS}add/", ticket_data(hidden.requester))
    assert "requester" in response.context["form"].errors
    response = client.post(f"{TICKETS}add/", ticket_data(visible.requester, folder=theirs.pk))
    assert "folder" in response.context["form"].errors


def test_a_requester_in_a_hidden_folder_is_not_named(client, folders):
    mine, theirs = folders
    client.force_login(folder_user("manager", (mine, "manage")))
    TicketFactory(requester=PersonFactory(folder=theirs, given_name="Zebediah"), folder=mine)
    page = html(client.get(TICKETS))
    assert "Zebediah" not in page and str(HIDDEN_CONTACT) in page


def test_viewers_read_and_contributors_edit_their_own(client, folders):
    mine, _theirs = folders
    viewer = folder_user("viewer", (mine, "view"))
    requester = PersonFactory(folder=mine)
    ticket = TicketFactory(requester=requester)
    client.force_login(viewer)
    assert client.get(TICKETS).status_code == 200
    assert client.get(f"{TICKETS}inspect/{ticket.pk}/").status_code == 200
    for view in ("edit", "delete"):
        response = client.get(f"{TICKETS}{view}/{ticket.pk}/")
        assert (response.status_code, response.url) == (302, "/admin/"), view
    assert client.get(f"{TICKETS}add/").status_code == 302

    assert f"{TICKETS}edit/{ticket.pk}/" not in html(client.get(TICKETS))
    assert f"{TICKETS}inspect/{ticket.pk}/" in html(client.get(TICKETS))

    contributor = folder_user("contributor", (mine, "contribute"))
    client.force_login(contributor)
    assert client.get(f"{TICKETS}edit/{ticket.pk}/").status_code == 302
    assert f"{TICKETS}edit/{ticket.pk}/" not in html(client.get(TICKETS))
    ticket.assignee = contributor
    ticket.save()
    assert client.get(f"{TICKETS}edit/{ticket.pk}/").status_code == 200
    assert f"{TICKETS}edit/{ticket.pk}/" in html(client.get(TICKETS))
    # A requester in a folder they only view needs a folder they contribute to.
    elsewhere = PersonFactory(folder=FolderFactory(name="Viewed"))
    viewed = elsewhere.folder
    from wagtail_crm.models import FolderAccess

    FolderAccess.objects.create(folder=viewed, group=contributor.groups.get(), level="view")
    response = client.post(f"{TICKETS}add/", ticket_data(elsewhere, subject="Elsewhere"))
    assert "folder" in response.context["form"].errors
    response = client.post(f"{TICKETS}add/", ticket_data(elsewhere, subject="Elsewhere",
                                                         folder=mine.pk))
    assert response.status_code == 302
    assert Ticket.objects.get(subject="Elsewhere").folder == mine
    response = client.post(f"{TICKETS}add/", ticket_data(requester, subject="Mine now"))
    assert response.status_code == 302
    created = Ticket.objects.get(subject="Mine now")
    assert created.created_by == contributor
    assert client.get(f"{TICKETS}edit/{created.pk}/").status_code == 200


# Credit accounts -----------------------------------------------------------------------------


def test_account_listing_page_and_adding_credit(admin_client, superuser):
    account = credit_account(PersonFactory(given_name="Paying"), minutes=90)
    listing = html(admin_client.get(ACCOUNTS))
    assert "Paying" in listing and "90" in listing
    page = html(admin_client.get(f"{ACCOUNTS}inspect/{account.pk}/"))
    assert "Opening balance" in page and f"{ACCOUNTS}credit/{account.pk}/" in page

    url = f"{ACCOUNTS}credit/{account.pk}/"
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, {"kind": "grant", "minutes": "60", "memo": "Pack"})
    assert response.status_code == 302
    response = admin_client.post(url, {"kind": "adjustment", "minutes": "-15", "memo": "Fix"})
    assert response.status_code == 302
    response = admin_client.post(url, {"kind": "grant", "minutes": "-15", "memo": "No"})
    assert response.status_code == 200 and "minutes" in response.context["form"].errors
    account.refresh_from_db()
    assert account.balance == account.ledger_sum() == 135
    last = account.transactions.first()
    assert (last.kind, last.created_by, last.memo) == ("adjustment", superuser, "Fix")


def test_no_screen_deletes_accounts_or_ledger_rows(admin_client):
    account = credit_account(minutes=10)
    response = admin_client.post(f"{ACCOUNTS}delete/{account.pk}/")
    assert response.status_code == 302 and response.url == "/admin/"
    assert CreditAccount.objects.filter(pk=account.pk).exists()
    assert admin_client.get("/admin/snippets/wagtail_crm/credittransaction/").status_code == 404


def test_open_an_account_and_share_it(admin_client):
    from tests.factories import OrganizationFactory

    organisation = OrganizationFactory()
    response = admin_client.post(f"{ACCOUNTS}add/", {
        "contact": organisation.pk, "is_shared": "on"
    })
    assert response.status_code == 302
    account = CreditAccount.objects.get(contact=organisation)
    assert account.is_shared and account.balance == 0
    person = PersonFactory(primary_organization=organisation)
    assert credits.account_for(person) == account


def test_accounts_of_other_folders_are_out_of_reach(client, folders):
    mine, theirs = folders
    visible = credit_account(PersonFactory(folder=mine, given_name="Visible"), minutes=5)
    hidden = credit_account(PersonFactory(folder=theirs, given_name="Zebediah"), minutes=5)
    client.force_login(folder_user("viewer", (mine, "view")))
    listing = client.get(ACCOUNTS)
    assert [a.pk for a in listing.context["object_list"]] == [visible.pk]
    export = b"".join(client.get(ACCOUNTS, {"export": "csv"}).streaming_content)
    assert b"Zebediah" not in export
    for view in ("inspect", "edit", "credit", "history"):
        assert client.get(f"{ACCOUNTS}{view}/{hidden.pk}/").status_code == 404, view
    assert client.get(f"{ACCOUNTS}inspect/{visible.pk}/").status_code == 200
    # Viewing is not adding credit.
    response = client.post(f"{ACCOUNTS}credit/{visible.pk}/",
                           {"kind": "grant", "minutes": "60", "memo": "Mine"})
    assert response.status_code == 302 and response.url == "/admin/"
    assert credits.balance(visible) == 5

    client.force_login(folder_user("manager", (mine, "manage")))
    response = client.post(f"{ACCOUNTS}credit/{visible.pk}/",
                           {"kind": "grant", "minutes": "60", "memo": "Mine"})
    assert response.status_code == 302
    assert credits.balance(visible) == 65
    assert client.post(f"{ACCOUNTS}credit/{hidden.pk}/",
                       {"kind": "grant", "minutes": "60", "memo": "x"}).status_code == 404
    assert credits.balance(hidden) == 5


def test_edit_page_queries_do_not_grow_with_messages(admin_client,
                                                     django_assert_max_num_queries):
    ticket = TicketFactory(assignee=UserFactory())
    TicketMessage.objects.create(ticket=ticket, body="One")
    TimeEntryFactory(ticket=ticket)
    with django_assert_max_num_queries(60) as few:
        admin_client.get(f"{TICKETS}edit/{ticket.pk}/")
    for _n in range(10):
        TicketMessage.objects.create(ticket=ticket, body="More", author=UserFactory())
        TimeEntryFactory(ticket=ticket, user=UserFactory())
    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client.get(f"{TICKETS}edit/{ticket.pk}/")


def test_account_pages_queries_do_not_grow_with_rows(admin_client,
                                                     django_assert_max_num_queries):
    account = credit_account(minutes=1000)
    with django_assert_max_num_queries(40) as listing:
        admin_client.get(ACCOUNTS)
    with django_assert_max_num_queries(40) as page:
        admin_client.get(f"{ACCOUNTS}inspect/{account.pk}/")
    for _n in range(10):
        credit_account(minutes=5)
        credits.grant(account, 5, user=UserFactory(), memo="More")
        close_ticket(TimeEntryFactory(ticket=TicketFactory(requester=account.contact)).ticket,
                     user=None)
    with django_assert_max_num_queries(len(listing.captured_queries)):
        admin_client.get(ACCOUNTS)
    with django_assert_max_num_queries(len(page.captured_queries)):
        admin_client.get(f"{ACCOUNTS}inspect/{account.pk}/")


# The contact page ----------------------------------------------------------------------------


def test_the_contact_page_lists_its_tickets_and_logs_an_interaction(
    client, folders, django_assert_max_num_queries
):
    mine, theirs = folders
    client.force_login(folder_user("contributor", (mine, "contribute")))
    requester = PersonFactory(folder=mine)
    TicketFactory(requester=requester, subject="Visible printer problem")
    TicketFactory(requester=requester, folder=theirs, subject="Zebra secret")
    url = f"/admin/crm/people/inspect/{requester.pk}/"
    page = html(client.get(url))
    assert 'id="crm-panel-tickets-section"' in page
    assert "Visible printer problem" in page and "Zebra" not in page
    assert f"{TICKETS}add/?requester={requester.pk}" in page
    with django_assert_max_num_queries(40) as few:
        client.get(url)
    for _n in range(5):
        TicketFactory(requester=requester, assignee=UserFactory())
    with django_assert_max_num_queries(len(few.captured_queries)):
        client.get(url)

    client.force_login(folder_user("viewer", (mine, "view")))
    page = html(client.get(url))
    assert "Visible printer problem" in page and f"{TICKETS}add/" not in page


# Bulk actions --------------------------------------------------------------------------------


def bulk_url(action, *tickets, model="ticket"):
    ids = "&".join(f"id={ticket.pk}" for ticket in tickets)
    return f"/admin/bulk/wagtail_crm/{model}/{action}/?next={TICKETS}&{ids}"


def test_bulk_close_charges_each_and_reports_refusals(admin_client, settings):
    settings.WAGTAIL_CRM_CREDIT_OVERDRAFT_LIMIT = None
    rich, poor = credit_account(minutes=100), credit_account(minutes=1)
    paid = TicketFactory(requester=rich.contact)
    TimeEntryFactory(ticket=paid, minutes=20)
    unpaid = TicketFactory(requester=poor.contact)
    TimeEntryFactory(ticket=unpaid, minutes=20)
    url = bulk_url("crm_close", paid, unpaid)
    assert admin_client.get(url).status_code == 200
    response = admin_client.post(url, follow=True)
    page = html(response)
    assert "Closed 1 tickets." in page and unpaid.reference in page
    paid.refresh_from_db()
    unpaid.refresh_from_db()
    assert (paid.status, unpaid.status) == ("closed", "open")
    assert credits.balance(rich) == 80 and credits.balance(poor) == 1


def test_bulk_assign(admin_client):
    agent = UserFactory(username="agent", is_superuser=True)
    tickets = [TicketFactory(), TicketFactory()]
    url = bulk_url("crm_assign", *tickets)
    response = admin_client.post(url, {"assignee": agent.pk})
    assert response.status_code == 302
    assert set(Ticket.objects.values_list("assignee", flat=True)) == {agent.pk}
    admin_client.post(url, {"assignee": ""})
    assert set(Ticket.objects.values_list("assignee", flat=True)) == {None}
    from wagtail.models import ModelLogEntry

    assert ModelLogEntry.objects.filter(action="wagtail.edit").count() == 4


def test_bulk_actions_leave_hidden_tickets_alone(client, folders):
    mine, theirs = folders
    client.force_login(folder_user("manager", (mine, "manage")))
    visible = TicketFactory(requester=PersonFactory(folder=mine))
    hidden = TicketFactory(requester=PersonFactory(folder=theirs), subject="Zebra secret")
    TimeEntryFactory(ticket=hidden, minutes=5)
    assert client.get(bulk_url("crm_close", hidden)).status_code == 404
    assert client.post(bulk_url("crm_close", hidden)).status_code == 404
    response = client.get(bulk_url("crm_close", visible, hidden))
    assert "Zebra" not in html(response)
    client.post(bulk_url("crm_close", visible, hidden))
    hidden.refresh_from_db()
    assert hidden.status == "open"

    assert client.get(bulk_url("delete", hidden)).status_code == 404
    response = client.get(bulk_url("delete", visible, hidden))
    assert "Zebra" not in html(response) and visible.reference in html(response)
    client.post(bulk_url("delete", visible, hidden))
    assert list(Ticket.objects.values_list("pk", flat=True)) == [hidden.pk]


def test_bulk_delete_keeps_charged_tickets(admin_client):
    account = credit_account(minutes=100)
    charged = TicketFactory(requester=account.contact)
    TimeEntryFactory(ticket=charged, minutes=5)
    close_ticket(charged, user=None)
    response = admin_client.post(bulk_url("delete", charged), follow=True)
    assert "kept with the credit ledger" in html(response)
    assert Ticket.objects.filter(pk=charged.pk).exists()


def test_credit_accounts_have_no_bulk_delete(admin_client):
    account = credit_account(minutes=5)
    url = bulk_url("delete", account, model="creditaccount")
    assert admin_client.get(url).status_code == 404
    assert admin_client.post(url).status_code == 404
    assert CreditAccount.objects.filter(pk=account.pk).exists()
