"""The support portal: requesters' tickets, replies, time spent and credit, and isolation."""

import pytest
from django.core import mail
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import (
    OrganizationFactory,
    PersonFactory,
    TicketFactory,
    TimeEntryFactory,
    UserFactory,
    credit_account,
    portal_user,
    staff_user_without_permissions,
)
from wagtail_crm.models import CreditAccount, Ticket, TicketMessage
from wagtail_crm.services import credits
from wagtail_crm.services.tickets import add_message, close_ticket

pytestmark = pytest.mark.django_db

LOGIN = reverse("wagtail_crm:portal_login")


def url(name, ticket=None):
    if ticket is None:
        return reverse(f"wagtail_crm:{name}")
    return reverse(f"wagtail_crm:{name}", kwargs={"pk": ticket.pk})


@pytest.fixture
def ann(client):
    return portal_user("ann")


@pytest.fixture
def ann_client(client, ann):
    client.force_login(ann)
    return client


def assignee(username="agent"):
    return UserFactory(username=username, email=f"{username}@example.com")


# Access ----------------------------------------------------------------------------------------


def every_url(ticket):
    return [
        url("portal_tickets"),
        url("portal_ticket_add"),
        url("portal_ticket", ticket),
        url("portal_credit"),
    ]


def test_anonymous_users_are_sent_to_log_in(client):
    ticket = TicketFactory()
    for address in every_url(ticket):
        for method in (client.get, client.post):
            response = method(address)
            assert response.status_code == 302, address
            assert response["Location"] == f"{LOGIN}?next={address}"
    assert not TicketMessage.objects.exists()


def test_a_login_without_a_contact_gets_a_clear_403_page(client):
    ticket = TicketFactory()
    client.force_login(staff_user_without_permissions())
    for address in every_url(ticket):
        response = client.get(address)
        assert response.status_code == 403, address
        assert b"not linked to a contact" in response.content
        response = client.post(address, {"subject": "x", "description": "y", "body": "z"})
        assert response.status_code == 403, address
    assert Ticket.objects.count() == 1
    assert not TicketMessage.objects.exists()


def test_a_superuser_without_a_contact_sees_no_tickets(client, superuser):
    ticket = TicketFactory()
    client.force_login(superuser)
    assert client.get(url("portal_ticket", ticket)).status_code == 403


def test_a_contact_in_the_trash_no_longer_opens_the_portal(ann_client, ann):
    ann.crm_contact.move_to_trash()
    response = ann_client.get(url("portal_tickets"))
    assert response.status_code == 403
    assert b"not linked to a contact" in response.content


def test_another_persons_ticket_is_not_found_at_every_url(ann_client, ann):
    theirs = TicketFactory(subject="Their secret", assignee=assignee())
    TimeEntryFactory(ticket=theirs, minutes=45)
    mine = TicketFactory(requester=ann.crm_contact)
    assert ann_client.get(url("portal_ticket", theirs)).status_code == 404
    response = ann_client.post(url("portal_ticket", theirs), {"body": "Let me in"})
    assert response.status_code == 404
    assert not theirs.messages.exists()
    assert len(mail.outbox) == 0
    # Neither listed nor counted anywhere.
    listing = ann_client.get(url("portal_tickets")).content.decode()
    assert mine.reference in listing
    assert theirs.reference not in listing and "Their secret" not in listing
    assert ann_client.get(url("portal_ticket", mine)).status_code == 200


def test_tickets_of_the_same_organisation_stay_private(client):
    org = OrganizationFactory()
    ann = portal_user("ann", primary_organization=org)
    bob = portal_user("bob", primary_organization=org)
    bobs = TicketFactory(requester=bob.crm_contact)
    client.force_login(ann)
    assert client.get(url("portal_ticket", bobs)).status_code == 404
    assert bobs.reference not in client.get(url("portal_tickets")).content.decode()


# My tickets ------------------------------------------------------------------------------------


def test_my_tickets_lists_status_and_time_spent(ann_client, ann):
    ticket = TicketFactory(requester=ann.crm_contact, subject="Printer on fire", status="pending")
    TimeEntryFactory(ticket=ticket, minutes=20)
    TimeEntryFactory(ticket=ticket, minutes=25, billable=False)
    TicketFactory(requester=ann.crm_contact, subject="Quiet one")
    response = ann_client.get(url("portal_tickets"))
    assert response.status_code == 200
    rows = {t.subject: t for t in response.context["tickets"]}
    assert rows["Printer on fire"].minutes == 45
    assert rows["Quiet one"].minutes is None
    html = response.content.decode()
    assert "Printer on fire" in html and "Pending" in html and "<td>45</td>" in html
    assert '<th scope="col">' in html


def test_my_tickets_takes_the_same_queries_for_many_rows(ann_client, ann):
    def queries():
        with CaptureQueriesContext(connection) as captured:
            assert ann_client.get(url("portal_tickets")).status_code == 200
        return len(captured)

    ticket = TicketFactory(requester=ann.crm_contact)
    TimeEntryFactory(ticket=ticket)
    few = queries()
    for _ in range(15):
        TimeEntryFactory(ticket=TicketFactory(requester=ann.crm_contact), minutes=5)
    assert queries() == few
    # Session, user, contact, count, page.
    assert few <= 5


def test_my_tickets_is_paginated(ann_client, ann):
    for _ in range(25):
        TicketFactory(requester=ann.crm_contact)
    first = ann_client.get(url("portal_tickets"))
    assert len(first.context["tickets"]) == 20
    assert 'rel="next"' in first.content.decode()
    assert len(ann_client.get(url("portal_tickets") + "?page=2").context["tickets"]) == 5


# New ticket ------------------------------------------------------------------------------------


def test_a_new_ticket_comes_from_the_portal_in_the_requesters_folder(ann_client, ann):
    form = ann_client.get(url("portal_ticket_add"))
    html = form.content.decode()
    assert 'for="id_subject"' in html and "csrfmiddlewaretoken" in html
    response = ann_client.post(url("portal_ticket_add"), {
        "subject": "Cannot log in", "description": "Since Tuesday.", "priority": "4",
        # Not fields of the form: ignored.
        "requester": PersonFactory().pk, "status": "closed", "channel": "admin",
    })
    ticket = Ticket.objects.get()
    assert response.status_code == 302
    assert response["Location"] == url("portal_ticket", ticket)
    contact = ann.crm_contact
    assert (ticket.subject, ticket.description, ticket.priority) == (
        "Cannot log in", "Since Tuesday.", 4
    )
    assert ticket.requester == contact and ticket.folder == contact.folder
    assert ticket.channel == "portal" and ticket.status == "new"
    assert ticket.created_by == ann
    assert ticket.reference in ann_client.get(response["Location"]).content.decode()


def test_a_new_ticket_needs_a_subject_and_description(ann_client):
    response = ann_client.post(url("portal_ticket_add"), {"subject": "", "priority": "3"})
    assert response.status_code == 200
    assert set(response.context["form"].errors) == {"subject", "description"}
    assert not Ticket.objects.exists()


def test_the_portal_checks_csrf(ann):
    client = Client(enforce_csrf_checks=True)
    client.force_login(ann)
    response = client.post(url("portal_ticket_add"), {"subject": "x", "description": "y"})
    assert response.status_code == 403
    assert not Ticket.objects.exists()


# The ticket page -------------------------------------------------------------------------------


def test_the_ticket_page_shows_public_replies_and_time_but_never_internal_notes(ann_client, ann):
    agent = assignee()
    ticket = TicketFactory(requester=ann.crm_contact, assignee=agent)
    add_message(ticket, author=agent, body="We are looking into it.")
    add_message(ticket, author=agent, body="SECRET: customer is difficult", is_internal=True)
    TimeEntryFactory(ticket=ticket, minutes=30, note="SECRET time note")
    TimeEntryFactory(ticket=ticket, minutes=15, billable=False)
    html = ann_client.get(url("portal_ticket", ticket)).content.decode()
    assert "We are looking into it." in html
    assert "SECRET" not in html
    assert "45 minutes" in html
    assert "<td>30</td>" in html and "<td>15</td>" in html


def test_a_reply_is_a_public_message_emailed_to_the_assignee(
    ann_client, ann, django_capture_on_commit_callbacks
):
    agent = assignee()
    contact = ann.crm_contact
    contact.primary_email = "ann@example.org"
    contact.save(update_fields=["primary_email"])
    ticket = TicketFactory(requester=contact, assignee=agent)
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = ann_client.post(url("portal_ticket", ticket), {"body": "Any news?"})
    assert response.status_code == 302
    message = ticket.messages.get()
    assert (message.body, message.author, message.is_internal) == ("Any news?", ann, False)
    # The assignee is emailed; the requester is not emailed their own reply.
    assert [m.to for m in mail.outbox] == [["agent@example.com"]]
    assert "Any news?" in mail.outbox[0].body
    page = ann_client.get(response["Location"]).content.decode()
    assert "Any news?" in page and "Your reply has been sent." in page


def test_an_empty_reply_is_refused(ann_client, ann):
    ticket = TicketFactory(requester=ann.crm_contact)
    response = ann_client.post(url("portal_ticket", ticket), {"body": "   "})
    assert response.status_code == 400
    assert not ticket.messages.exists()


def test_a_closed_ticket_takes_no_reply(ann_client, ann):
    ticket = TicketFactory(requester=ann.crm_contact)
    close_ticket(ticket, user=None)
    page = ann_client.get(url("portal_ticket", ticket)).content.decode()
    assert "takes no more replies" in page and 'name="body"' not in page
    response = ann_client.post(url("portal_ticket", ticket), {"body": "Hello?"})
    assert response.status_code == 400
    assert "This ticket is closed" in response.content.decode()
    assert not ticket.messages.exists()


def test_a_resolved_ticket_takes_a_reply(ann_client, ann):
    ticket = TicketFactory(requester=ann.crm_contact, status="resolved")
    response = ann_client.post(url("portal_ticket", ticket), {"body": "Thanks!"})
    assert response.status_code == 302
    ticket.refresh_from_db()
    assert ticket.status == "resolved" and ticket.messages.count() == 1


# My credit -------------------------------------------------------------------------------------


def test_my_own_account_shows_its_balance_and_whole_ledger(ann_client, ann):
    account = credit_account(ann.crm_contact, minutes=120)
    ticket = TicketFactory(requester=ann.crm_contact)
    TimeEntryFactory(ticket=ticket, minutes=30)
    close_ticket(ticket, user=None)
    response = ann_client.get(url("portal_credit"))
    html = response.content.decode()
    assert response.context["account"] == account and not response.context["shared"]
    assert "Your balance is 90 minutes." in html
    assert "Opening balance" in html and "<td>-30</td>" in html
    assert [row.amount for row in response.context["ledger"]] == [-30, 120]
    assert url("portal_ticket", ticket) in html


def test_a_shared_organisation_account_shows_only_my_own_tickets(client):
    org = OrganizationFactory()
    account = credit_account(org, minutes=500, shared=True)
    ann = portal_user("ann", primary_organization=org)
    bob = portal_user("bob", primary_organization=org)
    for user, minutes in ((ann, 10), (bob, 40)):
        ticket = TicketFactory(requester=user.crm_contact, subject=f"{user} ticket")
        TimeEntryFactory(ticket=ticket, minutes=minutes)
        close_ticket(ticket, user=None)
    credits.adjust(account, -7, user=None, memo="Internal correction")
    client.force_login(ann)
    response = client.get(url("portal_credit"))
    html = response.content.decode()
    assert response.context["shared"]
    assert "443 minutes left" in html and str(org) in html
    assert [row.amount for row in response.context["ledger"]] == [-10]
    assert "Internal correction" not in html and "Opening balance" not in html
    assert bob.crm_contact.tickets.get().reference not in html


def test_no_account_yet_shows_zero_and_creates_nothing(ann_client):
    response = ann_client.get(url("portal_credit"))
    assert response.status_code == 200
    assert "balance is 0 minutes" in response.content.decode()
    assert not CreditAccount.objects.exists()


# Login -----------------------------------------------------------------------------------------


def test_the_login_page_logs_in_and_goes_to_my_tickets(client, ann):
    page = client.get(LOGIN)
    assert page.status_code == 200 and 'for="id_username"' in page.content.decode()
    response = client.post(LOGIN, {"username": "ann", "password": "password"})
    assert response.status_code == 302 and response["Location"] == url("portal_tickets")
    assert client.get(url("portal_tickets")).status_code == 200


def test_an_organisations_account_that_is_not_shared_is_not_mine(client):
    org = OrganizationFactory()
    credit_account(org, minutes=300)
    ann = portal_user("ann", primary_organization=org)
    own = credit_account(ann.crm_contact, minutes=30)
    client.force_login(ann)
    response = client.get(url("portal_credit"))
    assert response.context["account"] == own and not response.context["shared"]
    assert "Your balance is 30 minutes." in response.content.decode()
