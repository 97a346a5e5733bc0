"""Real CSV and LDIF files from other software, read from ../shared/interop-corpus when present.

The files stay in that folder (other licences); see its SOURCES.md. Each file is read with
auto-detection, and the test checks what a person would see after an import.
"""

import datetime
from pathlib import Path

import pytest

from wagtail_crm.interop.csv import guess_preset, read_csv
from wagtail_crm.interop.ldif import read_ldif
from wagtail_crm.interop.records import ContactRecord, RowError

CORPUS = Path(__file__).resolve().parent.parent.parent / "shared" / "interop-corpus"
if not CORPUS.is_dir():
    pytest.skip(f"the interop corpus is not at {CORPUS}", allow_module_level=True)


def read(kind, name):
    data = (CORPUS / kind / name).read_bytes()
    if kind == "csv":
        result = read_csv(data)
        assert result.preset == guess_preset(result.headers)
        return result.preset, list(result.rows())
    return None, list(read_ldif(data))


def contacts(items):
    errors = [e for e in items if isinstance(e, RowError)]
    assert all(e.reason.startswith("not a contact entry") for e in errors), errors
    return [r for r in items if isinstance(r, ContactRecord)]


def emails(record):
    return [m.value for m in record.emails]


def phones(record):
    return [m.value for m in record.phones]


def test_every_file_reads_without_errors():
    for kind in ("csv", "ldif"):
        for path in sorted((CORPUS / kind).iterdir()):
            _preset, items = read(kind, path.name)
            assert contacts(items), path.name


def test_google_legacy_export():
    preset, items = read("csv", "google_contacts_legacy_export_roundcube.csv")
    (person,) = contacts(items)
    assert preset == "google"
    assert (person.prefix, person.given_name, person.additional_names, person.family_name,
            person.suffix, person.nickname) == (
        "Prefix", "Firstname", "Middle", "Lastname", "Suffix", "nick")
    assert person.birthday == datetime.date(1975, 12, 12)
    assert person.notes == 'note"note' and person.tags == ["Test"]
    assert emails(person) == ["home@aaa.pl", "work@email.pl", "unknown@email.com",
                              "other@email.com"]
    assert person.emails[0].is_primary and person.emails[0].types == ["home"]
    assert phones(person) == ["pager", "mainphone", "homephone", "homefax", "mobile",
                              "workphone", "workfax"]
    assert person.phones[3].types == ["home", "fax"]
    assert (person.organization_name, person.job_title) == ("company", "jobtitle")
    assert [a.locality for a in person.addresses] == ["home_city", "work_city"]
    assert [u.value for u in person.urls] == ["test.com", "home.page.com"]


def test_outlook_desktop_export():
    preset, items = read("csv", "outlook_desktop_export_multiline_notes_horde.csv")
    (john,) = contacts(items)
    assert preset == "outlook"
    assert (john.given_name, john.family_name, john.organization_name) == (
        "John", "Smith", "International Inc")
    assert emails(john) == ["john@example.com"]
    assert phones(john) == ["(123) 555-1111", "(123) 555-2222", "(123) 555-3333"]
    assert john.notes == "PHP\nPerl\nPython\n" and john.tags == ["Programming"]
    assert john.birthday is None and john.warnings == []


def test_thunderbird_export():
    preset, items = read("csv", "thunderbird_export_crlf_embedded_cr_lf_tab.csv")
    one, two = contacts(items)
    assert preset == "thunderbird"
    assert [(r.line, r.formatted_name, r.given_name, r.family_name) for r in (one, two)] == [
        (2, "contact number one", "contact", "one"), (3, "contact number two", "contact", "two")]
    assert emails(one) == ["contact1@invalid"] and emails(two) == ["contact2@invalid"]
    assert two.job_title == '"worker"' and two.notes == "here's some unicode text\u2026"
    assert two.custom == {"custom1": "custom, 1", "custom2": "custom\t2",
                          "custom3": "custom\r3", "custom4": "custom\n4"}


def test_thunderbird_import_quoted_empty_fields():
    preset, items = read("csv", "thunderbird_import_quoted_empty_fields.csv")
    (acer,) = contacts(items)
    assert preset == "thunderbird"
    assert (acer.kind, acer.organization_name, acer.formatted_name) == (
        "organization", "Acer America", "Acer America")
    assert phones(acer) == ["(800) 000-0000"] and emails(acer) == []


def test_openldap_test_directory():
    _preset, items = read("ldif", "openldap_test_comments_org_ou_groups.ldif")
    records = contacts(items)
    assert len(items) == 19 and len(records) == 16
    people = {r.formatted_name: r for r in records if r.kind == "person"}
    assert len(people) == 11
    barbara = people["Barbara Jensen"]
    assert (barbara.given_name, barbara.family_name, barbara.uid) == (
        "Barbara", "Jensen", "bjensen")
    assert emails(barbara) == ["bjensen@mailgw.example.com"]
    assert phones(barbara) == ["+1 313 555 9022", "+1 313 555 2333", "+1 313 555 2274",
                               "+1 313 555 3233"]
    assert barbara.addresses[0].street.splitlines()[1] == "535 W. William St. Room 4212"
    assert emails(people["Jane Doe"]) == ["jdoe@woof.net"]
    orgs = {(r.organization_name, r.department) for r in records if r.kind == "organization"}
    assert orgs == {("Example, Inc.", ""), ("People", "People"), ("Groups", "Groups"),
                    ("Alumni Association", "Alumni Association"),
                    ("Information Technology Division", "Information Technology Division")}
    assert all("password" not in repr(r).lower() for r in records)


def test_openldap_ldapsearch_output():
    _preset, items = read("ldif", "openldap_ldapsearch_output_provider.ldif")
    records = contacts(items)
    assert len(items) == 20 and len(records) == 12
    first = records[0]
    assert (first.formatted_name, first.family_name, emails(first)) == (
        "Barbara Jensen", "Jensen", ["bjensen@mailgw.example.com"])
    assert records[-1].formatted_name == "Ursula Hampster"  # from the DN: no cn was asked for


def test_test_openldap_fry():
    _preset, items = read("ldif", "testopenldap_fry_inetorgperson_jpegphoto.ldif")
    (fry,) = contacts(items)
    assert (fry.formatted_name, fry.given_name, fry.family_name, fry.uid) == (
        "Philip J. Fry", "Philip", "Fry", "fry")
    assert emails(fry) == ["fry@planetexpress.com"] and fry.department == "Delivering Crew"
    assert fry.photo.data[:2] == b"\xff\xd8" and len(fry.photo.data) > 20000
    assert "password" not in repr(fry).lower()


def test_thunderbird_ldif_export():
    _preset, items = read("ldif", "thunderbird_export_groupofnames_b64_crlf.ldif")
    one, two = contacts(items)
    assert len(items) == 3
    assert (one.formatted_name, emails(one)) == ("contact number one", ["contact1@invalid"])
    assert two.notes == "here's some unicode text\u2026" and two.job_title == '"worker"'
    assert two.custom["custom3"] == "custom\r3" and two.custom["custom4"] == "custom\n4"
