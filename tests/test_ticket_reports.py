"""The "Time spent" report: sums per dimension, folder access, export, queries."""

import csv
import datetime
import io

import pytest
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from tests.factories import (
    FolderFactory,
    OrganizationFactory,
    PersonFactory,
    TicketFactory,
    TimeEntryFactory,
    UserFactory,
    admin_user,
    credit_account,
    folder_user,
)
from wagtail_crm.services.tickets import close_ticket
from wagtail_crm.snippets.reports import time_spent_menu_item

pytestmark = pytest.mark.django_db

URL = reverse("wagtail_crm_time_spent_report")


def day(month, number):
    return datetime.date(2025, month, number)


@pytest.fixture
def data():
    """Folder A: Ann (of Acme) and Bob; folder B: Carl. Agents Uma and Vic log time."""
    a, b = FolderFactory(name="A"), FolderFactory(name="B")
    acme = OrganizationFactory(organization_name="Acme", folder=a)
    ann = PersonFactory(given_name="Ann", family_name="Able", folder=a, primary_organization=acme)
    bob = PersonFactory(given_name="Bob", family_name="Best", folder=a)
    carl = PersonFactory(given_name="Carl", family_name="Cole", folder=b)
    uma = UserFactory(username="uma", first_name="Uma", last_name="Ung")
    vic = UserFactory(username="vic")
    anns = TicketFactory(requester=ann)
    TimeEntryFactory(ticket=anns, user=uma, minutes=30, spent_on=day(1, 10))
    TimeEntryFactory(ticket=anns, user=vic, minutes=20, billable=False, spent_on=day(1, 20))
    bobs = TicketFactory(requester=bob)
    TimeEntryFactory(ticket=bobs, user=uma, minutes=15, spent_on=day(2, 5))
    credit_account(bob, minutes=100)
    close_ticket(bobs, user=None)
    carls = TicketFactory(requester=carl)
    TimeEntryFactory(ticket=carls, user=uma, minutes=100, spent_on=day(2, 6))
    return {"a": a, "b": b, "ann": ann, "bob": bob, "carl": carl, "carls": carls}


def rows(client, **params):
    response = client.get(URL, params)
    assert response.status_code == 200
    return {
        row.label: (row.total, row.billable, row.charged)
        for row in response.context["object_list"]
    }


def test_minutes_per_contact(admin_client, data):
    assert rows(admin_client) == {
        "Ann Able": (50, 30, 0),
        "Bob Best": (15, 15, 15),
        "Carl Cole": (100, 100, 0),
    }
    # Default order: most time first.
    response = admin_client.get(URL)
    assert [row.label for row in response.context["object_list"]][0] == "Carl Cole"
    html = response.content.decode()
    assert "Ann Able" in html and "Charged minutes" in html


def test_minutes_per_organisation_assignee_and_month(admin_client, data):
    assert rows(admin_client, group_by="organisation") == {
        "Acme": (50, 30, 0), "No organisation": (115, 115, 15),
    }
    assert rows(admin_client, group_by="assignee") == {
        "Uma Ung": (145, 145, 15), "vic": (20, 0, 0),
    }
    response = admin_client.get(URL, {"group_by": "month"})
    months = [(row.key, row.total) for row in response.context["object_list"]]
    assert months == [(day(1, 1), 50), (day(2, 1), 115)]
    assert [row.label for row in response.context["object_list"]] == [
        "January 2025", "February 2025",
    ]


def test_time_without_a_user_is_nobodys(admin_client, data):
    TimeEntryFactory(ticket=TicketFactory(requester=data["bob"]), user=None, minutes=7)
    assert rows(admin_client, group_by="assignee")["Nobody"] == (7, 7, 0)


def test_the_date_range_limits_the_time_counted(admin_client, data):
    params = {"spent_on_from": "2025-02-01", "spent_on_to": "2025-02-05"}
    assert rows(admin_client, **params) == {"Bob Best": (15, 15, 15)}
    assert rows(admin_client, group_by="month", spent_on_to="2025-01-31") == {
        "January 2025": (50, 30, 0),
    }


def test_time_on_other_folders_tickets_is_never_counted(client, data):
    client.force_login(folder_user("restricted", (data["a"], "view")))
    assert rows(client) == {"Ann Able": (50, 30, 0), "Bob Best": (15, 15, 15)}
    assert rows(client, group_by="assignee") == {"Uma Ung": (45, 45, 15), "vic": (20, 0, 0)}
    assert rows(client, group_by="month") == {
        "January 2025": (50, 30, 0), "February 2025": (15, 15, 15),
    }
    export = client.get(URL, {"export": "csv", "group_by": "assignee"})
    assert b"145" not in b"".join(export.streaming_content)


def test_a_requester_in_a_hidden_folder_is_not_named(client, data):
    # Carl's ticket filed in folder A: its time counts, Carl's name does not show.
    TimeEntryFactory(ticket=TicketFactory(requester=data["carl"], folder=data["a"]), minutes=5)
    client.force_login(folder_user("restricted", (data["a"], "view")))
    result = rows(client)
    assert result["Hidden contact"] == (5, 5, 0)
    assert "Carl" not in client.get(URL).content.decode()


def test_users_without_ticket_access_are_refused(client, data):
    client.force_login(admin_user("nobody"))
    # Wagtail answers PermissionDenied in the admin with a redirect to the dashboard.
    response = client.get(URL)
    assert response.status_code == 302 and response["Location"] == reverse("wagtailadmin_home")
    assert client.get(URL, {"export": "csv"})["Location"] == reverse("wagtailadmin_home")
    request = RequestFactory().get("/admin/")
    request.user = admin_user("nobody2")
    assert not time_spent_menu_item().is_shown(request)
    request.user = folder_user("viewer", (data["a"], "view"))
    assert time_spent_menu_item().is_shown(request)
    client.logout()
    response = client.get(URL)
    assert response.status_code == 302 and "/admin/login/" in response["Location"]


def test_the_report_is_in_the_reports_menu(admin_client, data):
    assert URL in admin_client.get(reverse("wagtailadmin_home")).content.decode()


def test_csv_export(admin_client, data):
    response = admin_client.get(URL, {"export": "csv", "group_by": "organisation"})
    assert response["Content-Disposition"] == 'attachment; filename="time-spent.csv"'
    lines = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert lines[0] == ["Organisation", "Minutes", "Billable minutes", "Charged minutes"]
    assert sorted(lines[1:]) == [["Acme", "50", "30", "0"], ["No organisation", "115", "115", "15"]]


def test_xlsx_export_escapes_formulas(admin_client, data):
    from openpyxl import load_workbook

    data["ann"].given_name, data["ann"].family_name = "=HYPERLINK(1)", ""
    data["ann"].save()
    response = admin_client.get(URL, {"export": "xlsx"})
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    values = [[cell.value for cell in row] for row in sheet.iter_rows()]
    assert values[0] == ["Contact", "Minutes", "Billable minutes", "Charged minutes"]
    labels = {row[0]: row[1:] for row in values[1:]}
    ann = next(label for label in labels if "HYPERLINK" in label)
    assert ann.startswith("'=") and labels[ann] == [50, 30, 0]


@pytest.mark.parametrize("group_by", ["contact", "organisation", "assignee", "month"])
def test_one_aggregate_query_per_page(client, data, group_by, django_assert_max_num_queries):
    user = folder_user("restricted", (data["a"], "view"), (data["b"], "view"))

    def queries():
        client.force_login(user)
        with CaptureQueriesContext(connection) as captured:
            assert client.get(URL, {"group_by": group_by}).status_code == 200
        return [q["sql"] for q in captured if "wagtail_crm_timeentry" in q["sql"]]

    few = queries()
    for number in range(20):
        org = OrganizationFactory(folder=data["a"])
        person = PersonFactory(folder=data["a"], primary_organization=org)
        TimeEntryFactory(
            ticket=TicketFactory(requester=person), user=UserFactory(),
            spent_on=day(1 + number % 12, 1),
        )
    many = queries()
    # The paginator's count and the page: two statements on time entries, however many rows.
    assert len(few) == len(many) == 2
    client.force_login(user)
    with django_assert_max_num_queries(12):
        client.get(URL, {"group_by": group_by})


def test_the_results_fragment_follows_the_filters(admin_client, data):
    response = admin_client.get(
        reverse("wagtail_crm_time_spent_report_results"), {"group_by": "assignee"}
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Uma Ung" in html and "Assignee" in html and "Ann Able" not in html
