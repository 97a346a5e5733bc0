"""crm_export: each format, --folder, --tag, --output file or standard output, errors."""

import csv
import io

import pytest
from django.core.management import CommandError, call_command

from tests.factories import FolderFactory, OrganizationFactory, PersonFactory, relate
from wagtail_crm.interop.ldif import read_ldif
from wagtail_crm.interop.sql import read_sql_dump
from wagtail_crm.interop.vcard import read_vcards

pytestmark = pytest.mark.django_db


@pytest.fixture
def contacts():
    blue, red = FolderFactory(name="Blue"), FolderFactory(name="Red")
    ann = PersonFactory(given_name="Ann", family_name="Blue", folder=blue)
    bob = PersonFactory(given_name="Bob", family_name="Red", folder=red)
    acme = OrganizationFactory(organization_name="Acme", folder=red)
    ann.tags.add("vip")
    ann.save()
    relate("employee-of", employee=ann, employer=acme)
    return ann, bob, acme


def names(data, reader):
    found = (getattr(r, "formatted_name", "") or getattr(r, "organization_name", "")
             for r in reader(data))
    return sorted(name for name in found if name and name != "people")


@pytest.mark.parametrize("fmt, reader", [
    ("vcard3", read_vcards), ("vcard4", read_vcards), ("ldif", read_ldif),
    ("sql", read_sql_dump),
])
def test_each_format_to_a_file(contacts, tmp_path, fmt, reader):
    path = tmp_path / f"out.{fmt}"
    call_command("crm_export", "--format", fmt, "--output", str(path))
    assert names(path.read_bytes(), reader) == ["Acme", "Ann Blue", "Bob Red"]


def test_csv_writes_the_relationships_file_beside_it(contacts, tmp_path):
    path = tmp_path / "people.csv"
    call_command("crm_export", "--format", "csv", "--output", str(path), "--folder", "Blue")
    rows = list(csv.DictReader(io.StringIO(path.read_text("utf-8-sig"))))
    assert [row["Display Name"] for row in rows] == ["Ann Blue"]
    beside = list(csv.DictReader(io.StringIO(
        (tmp_path / "people-relationships.csv").read_text("utf-8-sig")
    )))
    assert [row["Participants"] for row in beside] == ["Ann Blue (Employee), Acme (Employer)"]


def test_xlsx_to_a_file(contacts, tmp_path):
    from openpyxl import load_workbook

    path = tmp_path / "people.xlsx"
    call_command("crm_export", "--format", "xlsx", "--output", str(path), "--tag", "vip")
    rows = list(load_workbook(path).active.iter_rows(values_only=True))
    assert len(rows) == 2 and "Ann Blue" in rows[1]


def test_standard_output(contacts, capfdbinary):
    call_command("crm_export", "--format", "vcard4", "--folder", "Red")
    out = capfdbinary.readouterr().out
    assert names(out, read_vcards) == ["Acme", "Bob Red"]
    call_command("crm_export", "--format", "sql", "--output", "-", "--tag", "vip")
    assert names(capfdbinary.readouterr().out, read_sql_dump) == ["Ann Blue"]


def test_unknown_folder_tag_and_format(contacts, tmp_path):
    with pytest.raises(CommandError, match="No folder is named 'Green'"):
        call_command("crm_export", "--format", "csv", "--folder", "Green")
    with pytest.raises(CommandError, match="No contact has the tag 'gold'"):
        call_command("crm_export", "--format", "csv", "--tag", "gold")
    with pytest.raises(CommandError):
        call_command("crm_export", "--format", "pdf")
    with pytest.raises(CommandError, match="does not exist"):
        call_command("crm_export", "--format", "csv", "--output", str(tmp_path / "no" / "x.csv"))
