"""The export service: every format reads back, formulas escaped, hidden contacts never named."""

import csv
import datetime
import io

import pytest
import vobject
from openpyxl import load_workbook

from tests.factories import (
    AddressFactory,
    ContactMethodFactory,
    CustomFieldFactory,
    FolderFactory,
    OrganizationFactory,
    PersonFactory,
    folder_user,
    relate,
)
from wagtail_crm.interop.csv import read_csv
from wagtail_crm.interop.ldif import read_ldif
from wagtail_crm.interop.records import ContactRecord
from wagtail_crm.interop.sql import open_sql_dump, read_sql_dump
from wagtail_crm.interop.vcard import read_vcards
from wagtail_crm.models import Contact, Relationship
from wagtail_crm.services.exporting import (
    FORMATS,
    export_contacts,
    export_relationships_csv,
    relationships_among,
    uid_uri,
)

pytestmark = pytest.mark.django_db


def exported(fmt, queryset=None, **kwargs):
    chunks, content_type, extension = export_contacts(
        Contact.objects.all() if queryset is None else queryset, fmt, **kwargs
    )
    return b"".join(chunks)


@pytest.fixture
def people():
    CustomFieldFactory(key="member_no", label="Member number")
    shared, secret = FolderFactory(name="Shared"), FolderFactory(name="Secret")
    acme = OrganizationFactory(organization_name="Acme", folder=secret)
    ada = PersonFactory(given_name="Ada", family_name="Lovelace", folder=shared,
                        job_title="=1+1", birthday=datetime.date(1815, 12, 10),
                        primary_organization=acme, custom={"member_no": "42"})
    william = PersonFactory(given_name="William", family_name="King", folder=shared)
    byron = PersonFactory(given_name="George", family_name="Byron", folder=secret)
    ContactMethodFactory(contact=ada, value="ada@example.org", is_primary=True)
    AddressFactory(contact=ada, street="1 High St", locality="Leeds", country="GB")
    ada.tags.add("vip")
    ada.save()
    relate("spouse-of", spouse=[ada, william])
    relate("parent-of", parent=byron, child=ada)
    relate("employee-of", employee=ada, employer=acme, fields={"is_primary": True})
    return {"ada": ada, "william": william, "byron": byron, "acme": acme,
            "shared": shared, "secret": secret}


def by_name(records):
    return {record.formatted_name: record for record in records
            if isinstance(record, ContactRecord)}


def test_formats_and_files():
    assert FORMATS == {"vcard3", "vcard4", "csv", "ldif", "sql", "xlsx"}
    _chunks, content_type, extension = export_contacts(Contact.objects.none(), "sql")
    assert (content_type, extension) == ("application/sql; charset=utf-8", "sql")
    with pytest.raises(ValueError):
        export_contacts(Contact.objects.none(), "pdf")


@pytest.mark.parametrize("fmt", ["vcard3", "vcard4"])
def test_vcards_read_back(people, fmt):
    data = exported(fmt)
    records = by_name(read_vcards(data))
    ada = records["Ada Lovelace"]
    assert ada.organization_name == "Acme" and ada.birthday == datetime.date(1815, 12, 10)
    assert [m.value for m in ada.emails] == ["ada@example.org"]
    assert ada.custom == {"member_no": "42"}
    if fmt == "vcard4":
        assert uid_uri(people["william"].uid) in {r.value for r in ada.related}
    else:
        assert ada.related == []
        cards = list(vobject.readComponents(data.decode()))
        assert len(cards) == 4
        assert "Ada Lovelace" in {card.fn.value for card in cards}


def test_csv_reads_back_with_a_bom_and_custom_columns(people):
    data = exported("csv")
    assert data.startswith(b"\xef\xbb\xbf")
    parsed = read_csv(data)
    assert "custom:member_no" in parsed.headers
    ada = by_name(parsed.rows())["Ada Lovelace"]
    assert ada.job_title == "=1+1"  # escaped in the file, unescaped on reading
    assert ada.custom.get("member_no") == "42" and ada.tags == ["vip"]
    assert "'=1+1" in data.decode("utf-8-sig")


def test_xlsx_has_the_csv_columns_and_no_formulas(people):
    sheet = load_workbook(io.BytesIO(exported("xlsx"))).active
    rows = [[cell.value or "" for cell in row] for row in sheet.iter_rows()]
    csv_rows = list(csv.reader(io.StringIO(exported("csv").decode("utf-8-sig"))))
    assert rows == csv_rows
    title = csv_rows[0].index("Job Title")
    cell = next(row for row in sheet.iter_rows() if row[title].value == "'=1+1")[title]
    assert cell.data_type == "s"


def test_ldif_reads_back(people):
    data = exported("ldif", base_dn="dc=crm,dc=test")
    assert b"ou=people,dc=crm,dc=test" in data
    records = by_name(read_ldif(data))
    assert records["Ada Lovelace"].emails[0].value == "ada@example.org"


def test_the_default_base_dn_is_a_setting(people, settings):
    settings.WAGTAIL_CRM_LDIF_BASE_DN = "o=Example"
    assert b"ou=people,o=Example" in exported("ldif")


def test_sql_reads_back_with_relationships(people):
    data = exported("sql")
    records = by_name(read_sql_dump(data))
    ada = records["Ada Lovelace"]
    assert ada.job_title == "=1+1" and ada.tags == ["vip"]
    dump = open_sql_dump(data)
    relationships = {r.type_slug: r for r in dump.relationships()}
    dump.close()
    assert set(relationships) == {"spouse-of", "parent-of", "employee-of"}
    assert {uid for uid, _role in relationships["employee-of"].participants} == {
        str(people["ada"].uid), str(people["acme"].uid)
    }


def test_what_the_user_may_not_see_is_never_named(people):
    user = folder_user("shared", (people["shared"], "view"))
    hidden = [str(people[name].uid) for name in ("byron", "acme")]
    for fmt in FORMATS - {"xlsx"}:
        data = exported(fmt, user=user).decode("utf-8-sig")
        for uid in hidden:
            assert uid not in data and uid.replace("-", "") not in data, fmt
        assert "Acme" not in data and "Byron" not in data, fmt
        assert "Lovelace" in data, fmt
    records = by_name(read_sql_dump(exported("sql", user=user)))
    assert set(records) == {"Ada Lovelace", "William King"}
    assert records["Ada Lovelace"].organization_name == ""


def test_the_relationships_file(people):
    user = folder_user("shared", (people["shared"], "view"))
    ada_only = Contact.objects.filter(pk=people["ada"].pk)
    text = b"".join(export_relationships_csv(relationships_among(ada_only), user))
    rows = list(csv.DictReader(io.StringIO(text.decode("utf-8-sig"))))
    assert list(rows[0])[:8] == ["Type", "Participants", "Participant ids", "Start date",
                                 "End date", "Status", "Primary", "Description"]
    by_type = {row["Type"]: row for row in rows}
    assert by_type["Spouse of"]["Participants"].startswith("Ada Lovelace (")
    assert by_type["Employee of"]["Participants"] == (
        "Ada Lovelace (Employee), Hidden contact (Employer)"
    )
    assert f"={people['ada'].uid}" in by_type["Employee of"]["Participant ids"]
    assert "Acme" not in text.decode() and str(people["acme"].uid) not in text.decode()
    assert by_type["Employee of"]["Primary"] == "True"


def test_relationship_cells_are_escaped(people):
    Relationship.objects.update(description="=HYPERLINK(\"http://evil\")")
    text = b"".join(export_relationships_csv(Relationship.objects.all())).decode("utf-8-sig")
    assert "'=HYPERLINK" in text


def test_constant_queries_per_chunk(people, settings, django_assert_max_num_queries):
    settings.WAGTAIL_CRM_EXPORT_CHUNK_SIZE = 2
    for _n in range(8):
        PersonFactory(folder=people["shared"])
    for fmt, per_chunk in (("csv", 4), ("sql", 5), ("vcard4", 5)):
        chunks_count = -(-Contact.objects.count() // 2)
        with django_assert_max_num_queries(4 + per_chunk * chunks_count + 4):
            exported(fmt)
