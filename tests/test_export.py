import csv
import io

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from openpyxl import load_workbook

from tests.factories import (
    AddressFactory,
    ContactMethodFactory,
    CustomFieldFactory,
    FolderFactory,
    OrganizationFactory,
    PersonFactory,
    method_type,
    reindex,
    set_listing_columns,
)

pytestmark = pytest.mark.django_db

PEOPLE = "/admin/crm/people/"
ORGANISATIONS = "/admin/crm/organisations/"
FORMULAS = ["=1+1", "+44 sum", "-2+3", "@SUM(A1)", "\tcmd", "\rcmd"]


def export(client, url, fmt, **params):
    """The exported rows as lists of cell values, the headings first."""
    response = client.get(url, {"export": fmt, **params})
    assert response.status_code == 200
    assert response.streaming
    content = b"".join(response.streaming_content)
    if fmt == "csv":
        return list(csv.reader(io.StringIO(content.decode())))
    sheet = load_workbook(io.BytesIO(content), read_only=True).active
    rows = sheet.iter_rows(values_only=True)
    return [["" if cell is None else cell for cell in row] for row in rows]


def as_dicts(rows):
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


@pytest.fixture
def ada():
    CustomFieldFactory(
        key="level", label="Level", field_type="choice", choices="Gold\nSilver", in_listing=True
    )
    CustomFieldFactory(key="member_number", label="Member number", field_type="integer")
    CustomFieldFactory(target="organization", key="sector", label="Sector")
    set_listing_columns(
        person=["primary_email", "primary_organization", "folder", "tags", "custom:level"]
    )
    contact = PersonFactory(
        given_name="Ada",
        family_name="Lovelace",
        primary_organization=OrganizationFactory(organization_name="Acme"),
        folder=FolderFactory(name="Customers"),
        custom={"level": "Gold", "member_number": 42},
    )
    ContactMethodFactory(contact=contact, value="ada@example.org", is_primary=True)
    ContactMethodFactory(contact=contact, value="ada@home.example")
    ContactMethodFactory(contact=contact, type=method_type("Phone"), value="+44 20 7946 0000")
    ContactMethodFactory(contact=contact, type=method_type("Mobile"), value="+44 7911 123456")
    AddressFactory(
        contact=contact,
        label="work",
        street="1 High Street",
        locality="Leeds",
        postal_code="LS1 1AA",
        country="GB",
        is_primary=True,
    )
    AddressFactory(
        contact=contact,
        label="home",
        street="2 Low Road",
        locality="York",
        postal_code="YO1 1AA",
        country="GB",
    )
    contact.tags.add("vip", "donor")
    contact.save()
    return contact


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_has_the_shown_columns_then_every_method_address_and_custom_field(
    admin_client, ada, fmt
):
    rows = export(admin_client, PEOPLE, fmt)

    assert rows[0] == [
        "Name",
        "Email",
        "Organisation",
        "Folder",
        "Tags",
        "Level",
        "Emails",
        "Phones",
        "Addresses",
        "Member number",
    ]
    assert as_dicts(rows) == [
        {
            "Name": "Ada Lovelace",
            "Email": "ada@example.org",
            "Organisation": "Acme",
            "Folder": "Customers",
            "Tags": "donor, vip",
            "Level": "Gold",
            "Emails": "ada@example.org; ada@home.example",
            "Phones": "'+44 20 7946 0000; +44 7911 123456",
            "Addresses": "work: 1 High Street, LS1 1AA Leeds, United Kingdom | "
            "home: 2 Low Road, YO1 1AA York, United Kingdom",
            "Member number": 42 if fmt == "xlsx" else "42",
        }
    ]


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
@pytest.mark.parametrize("formula", FORMULAS)
def test_cells_that_a_spreadsheet_would_run_are_quoted(admin_client, fmt, formula):
    CustomFieldFactory(key="note", label=formula)
    set_listing_columns(person=["job_title", "city"])
    person = PersonFactory(
        given_name="Eve", family_name="Hacker", job_title=formula, custom={"note": formula}
    )
    AddressFactory(contact=person, label="", locality=formula, street=formula)
    person.tags.add(formula)
    person.save()

    rows = export(admin_client, PEOPLE, fmt)

    quoted = "'" + formula.replace("\r", "\n")  # XML (xlsx) reads a carriage return as a newline
    heading, job_title, city, addresses, note = (
        str(cell).replace("\r", "\n") for cell in (rows[0][-1], *rows[1][1:3], *rows[1][5:7])
    )
    assert heading == job_title == city == note == quoted
    assert addresses.startswith(quoted)


@pytest.mark.parametrize("fmt", ["csv", "xlsx"])
def test_export_honours_filters_search_and_ordering(admin_client, fmt):
    blue = FolderFactory(name="Blue")
    for given, family, folder in [
        ("Ann", "Zed", blue),
        ("Bo", "Zed", blue),
        ("Cat", "Zed", FolderFactory(name="Red")),
        ("Dan", "Young", blue),
    ]:
        reindex(PersonFactory(given_name=given, family_name=family, folder=folder))

    rows = export(admin_client, PEOPLE, fmt, folder=blue.pk, q="Zed", ordering="-sort_name")

    assert [row[0] for row in rows[1:]] == ["Bo Zed", "Ann Zed"]


def test_organisations_export_their_own_columns(admin_client):
    CustomFieldFactory(target="organization", key="sector", label="Sector")
    set_listing_columns(organization=["organization_type", "city"])
    OrganizationFactory(
        organization_name="Acme", organization_type="school", custom={"sector": "Retail"}
    )
    PersonFactory()

    rows = export(admin_client, ORGANISATIONS, "csv")

    assert rows == [
        ["Name", "Type", "City", "Emails", "Phones", "Addresses", "Sector"],
        ["Acme", "School", "", "", "", "", "Retail"],
    ]


def _detailed_people(count):
    folder, org = FolderFactory(name="Customers"), OrganizationFactory()
    for _ in range(count):
        contact = PersonFactory(folder=folder, primary_organization=org, family_name="Zed")
        ContactMethodFactory(contact=contact)
        ContactMethodFactory(contact=contact)
        ContactMethodFactory(contact=contact, type=method_type("Phone"), value="+44 20 7946 0000")
        AddressFactory(contact=contact)
        contact.tags.add("vip", "donor")
        contact.save()


def _export_queries(client, **params):
    with CaptureQueriesContext(connection) as queries:
        rows = export(client, PEOPLE, "csv", **params)
    return len(rows) - 1, len(queries)


@pytest.mark.parametrize("params", [{}, {"q": "Zed"}, {"tag": "vip", "q": "Zed"}])
def test_export_reads_in_chunks_with_a_fixed_number_of_queries_each(admin_client, settings, params):
    settings.WAGTAIL_CRM_EXPORT_CHUNK_SIZE = 3
    set_listing_columns(person=["primary_phone", "primary_organization", "folder", "tags"])
    _detailed_people(3)
    admin_client.get(PEOPLE)  # warm caches (content types, settings)
    rows_1, one_chunk = _export_queries(admin_client, **params)
    _detailed_people(3)
    rows_2, two_chunks = _export_queries(admin_client, **params)
    _detailed_people(6)
    rows_4, four_chunks = _export_queries(admin_client, **params)

    assert (rows_1, rows_2, rows_4) == (3, 6, 12)
    per_chunk = two_chunks - one_chunk
    assert per_chunk <= 4  # the rows (searches), tags, methods and addresses
    assert four_chunks == one_chunk + 3 * per_chunk
