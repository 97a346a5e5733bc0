"""The import service: formats, matching, duplicates, failures, access, index, photos, speed.

Every fixture is written here for the test.
"""

import base64
import datetime
import io

import pytest
from django.db import connection
from PIL import Image as PILImage
from wagtail.images import get_image_model

from tests.factories import (
    AddressFactory,
    ContactMethodFactory,
    CustomFieldFactory,
    FolderFactory,
    OrganizationFactory,
    PersonFactory,
    SuperuserFactory,
    folder_user,
    method_type,
)
from wagtail_crm.interop.records import ContactRecord, Method, RowError, UnreadableFile
from wagtail_crm.interop.vcard import write_vcards
from wagtail_crm.models import Contact, ContactMethod
from wagtail_crm.search import search_contacts
from wagtail_crm.services.exporting import contact_records
from wagtail_crm.services.importing import (
    ImportNotAllowed,
    ImportOptions,
    detect_format,
    import_file,
    import_records,
)

pytestmark = pytest.mark.django_db


def card(*lines, version="3.0"):
    return "\r\n".join(["BEGIN:VCARD", f"VERSION:{version}", *lines, "END:VCARD", ""])


ANN = card(
    "UID:ann-1", "N:Smith;Ann;;;", "FN:Ann Smith", "EMAIL;TYPE=work:Ann.Smith@Example.org",
    "TEL;TYPE=cell:+1 202 555 0123", "TEL;TYPE=work:0113 496 0123",
    "ADR;TYPE=home:;;1 High Street;Leeds;;LS1 1AA;United Kingdom",
    "CATEGORIES:vip,customer", "BDAY:1980-02-03", "NOTE:Met at the fair",
    "ORG:Northwind Ltd", "TITLE:Buyer",
)


@pytest.fixture
def folder():
    return FolderFactory(name="Imported")


def run(data, folder, fmt="auto", filename="", **options):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return import_file(data, fmt=fmt, filename=filename,
                       mapping=options.pop("mapping", None), preset=options.pop("preset", None),
                       options=ImportOptions(folder=folder, **options))


def adds_up(report):
    assert report.rows == (report.created + report.updated + report.unchanged + report.skipped
                           + report.errors)
    assert len(report.outcomes) == report.rows


# Formats ------------------------------------------------------------------------------------


def test_vcard_3_fills_the_contact_and_its_denormalised_fields(folder):
    report = run(ANN, folder)
    assert report.summary_line() == "rows=1 created=1 updated=0 skipped=0 errors=0"
    ann = Contact.objects.get(uid="ann-1")
    assert (ann.display_name, ann.sort_name) == ("Ann Smith", "smith ann")
    assert ann.folder == folder and ann.kind == "person"
    assert ann.primary_email == "ann.smith@example.org"
    assert ann.primary_phone == "+12025550123"
    assert (ann.city, ann.country.code) == ("Leeds", "GB")
    assert ann.birthday == datetime.date(1980, 2, 3)
    assert ann.notes == "Met at the fair" and ann.job_title == "Buyer"
    assert sorted(ann.tags.names()) == ["customer", "vip"]
    methods = {(m.type.name, m.value, m.normalized, m.label) for m in ann.methods.all()}
    assert methods == {
        ("Email", "Ann.Smith@Example.org", "ann.smith@example.org", "work"),
        ("Mobile", "+1 202 555 0123", "+12025550123", ""),
        ("Phone", "0113 496 0123", "+441134960123", "work"),
    }
    (address,) = ann.addresses.all()
    assert (address.street, address.postal_code, address.label) == ("1 High Street", "LS1 1AA",
                                                                     "home")


def test_vcard_2_1_and_4_0(folder):
    data = card("N:Jones;Bob", "FN:Bob Jones", "EMAIL;INTERNET;PREF:bob@example.com",
                "TEL;FAX:+44 113 496 0999", version="2.1") + card(
        "KIND:org", "FN:Acme Trading", "ORG:Acme Trading", "EMAIL:info@acme.example",
        "URL:www.acme.example", "IMPP:skype:acme.sales", "X-CRM-MEMBER-NO:42",
        "ADR;TYPE=work:;;2 Rue de la Paix;Paris;;75002;FR", version="4.0")
    report = run(data, folder)
    assert (report.created, report.errors) == (2, 0), report.failures
    bob = Contact.objects.get(family_name="Jones")
    assert bob.methods.get(type__name="Fax").normalized == "+441134960999"
    acme = Contact.objects.get(organization_name="Acme Trading")
    assert acme.kind == "organization" and acme.country.code == "FR"
    assert acme.custom == {"member_no": "42"}
    assert {m.type.name: m.value for m in acme.methods.all()} == {
        "Email": "info@acme.example", "Website": "https://www.acme.example",
        "Skype": "acme.sales"}


def test_csv_google_and_generic_presets(folder):
    google = ("Name,Given Name,Family Name,Group Membership,E-mail 1 - Type,E-mail 1 - Value,"
              "Phone 1 - Type,Phone 1 - Value\r\n"
              "Cara Diaz,Cara,Diaz,* myContacts ::: Friends,* Home,cara@example.net,"
              "Mobile,+1 202 555 0188\r\n")
    report = run(google, folder, filename="contacts.csv", preset="google")
    assert report.created == 1, report.failures
    cara = Contact.objects.get(given_name="Cara")
    assert cara.primary_email == "cara@example.net"
    assert cara.methods.get(type__name="Mobile").normalized == "+12025550188"
    generic = "UID,Kind,First Name,Last Name,E-mail 1\r\nu-7,person,Dan,Eve,dan@example.com\r\n"
    report = run(generic, folder, filename="x.csv", preset="generic")
    assert report.created == 1, report.failures
    dan = Contact.objects.get(uid="u-7")
    assert (dan.display_name, dan.primary_email) == ("Dan Eve", "dan@example.com")


def test_ldif_people_organisations_and_non_contacts(folder):
    ldif = (
        "version: 1\n\n"
        "dn: o=Acme,dc=example,dc=org\nobjectClass: organization\no: Acme\n\n"
        "dn: uid=jdoe,ou=people,dc=example,dc=org\nobjectClass: inetOrgPerson\nuid: jdoe\n"
        "cn: John Doe\nsn: Doe\ngivenName: John\nmail: JDoe@Example.org\n"
        "telephoneNumber: +44 113 496 0500\n\n"
        "dn: cn=staff,dc=example,dc=org\nobjectClass: groupOfNames\ncn: staff\n"
        "member: uid=jdoe,ou=people,dc=example,dc=org\n\n"
    )
    report = run(ldif, folder)
    assert (report.rows, report.created, report.skipped, report.errors) == (3, 2, 1, 0)
    john = Contact.objects.get(family_name="Doe")
    assert john.primary_email == "jdoe@example.org" and john.uid == "jdoe"
    assert not any(key.startswith("ldap_") for key in john.custom)
    assert Contact.objects.get(organization_name="Acme").kind == "organization"


def test_sql_dump(folder):
    sql = pytest.importorskip("wagtail_crm.interop.sql")
    record = ContactRecord(uid="s-1", given_name="Sol", family_name="Ray",
                           emails=[Method("sol@example.com")], tags=["sql"])
    data = "".join(sql.write_sql_dump([record])).encode()
    report = run(data, folder, filename="dump.sql")
    assert report.created == 1, report.failures
    sol = Contact.objects.get(uid="s-1")
    assert (sol.primary_email, list(sol.tags.names())) == ("sol@example.com", ["sql"])


def test_detect_format():
    assert detect_format(b"anything", "a.VCF") == "vcard"
    assert detect_format(ANN.encode()) == "vcard"
    assert detect_format(b"dn: cn=x\ncn: x\n") == "ldif"
    assert detect_format(b"Name,Email\nA,a@b.c\n") == "csv"
    assert detect_format(b"-- PostgreSQL database dump\nCREATE TABLE x (id int);\n") == "sql"
    with pytest.raises(UnreadableFile, match="binary"):
        detect_format(bytes(range(256)) * 8)
    with pytest.raises(UnreadableFile, match="empty"):
        detect_format(b"  \n")
    with pytest.raises(UnreadableFile, match="not a vCard"):
        detect_format(b"hello world\n")


def test_unreadable_files_raise_a_clear_error(folder, settings):
    with pytest.raises(UnreadableFile, match="empty"):
        run(b"", folder)
    with pytest.raises(UnreadableFile, match="binary"):
        run(b"\x00\x01\x02\xff" * 500, folder)
    settings.WAGTAIL_CRM_IMPORT_MAX_BYTES = 100
    with pytest.raises(UnreadableFile, match="larger than 100 bytes"):
        run(ANN, folder)
    assert not Contact.objects.exists()


# Matching and duplicates --------------------------------------------------------------------


def test_importing_twice_changes_nothing(folder):
    run(ANN, folder)
    before = list(Contact.objects.values_list("pk", "updated_at"))
    report = run(ANN, folder)
    assert report.summary_line() == "rows=1 created=0 updated=0 skipped=1 errors=0"
    assert report.unchanged == 1
    assert list(Contact.objects.values_list("pk", "updated_at")) == before
    assert ContactMethod.objects.count() == 3


def test_rows_without_uid_or_email_are_found_again(folder):
    data = "First Name,Last Name,Phone 1\r\nEd,Fox,+1 202 555 0177\r\nEd,Fox,\r\n"
    first = run(data, folder, filename="x.csv", preset="generic")
    assert first.created == 2, first.failures
    again = run(data, folder, filename="x.csv", preset="generic")
    assert again.summary_line() == "rows=2 created=0 updated=0 skipped=2 errors=0"
    assert Contact.objects.count() == 2


def test_index_entries_are_those_the_search_backend_writes(folder):
    from modelsearch.conf import get_app_config

    from wagtail_crm.services.search_index import index_contacts

    CustomFieldFactory(key="member_no", label="Member no", searchable=True)
    run(ANN.replace("END:VCARD", "X-CRM-MEMBER-NO:A-17\r\nURL:example.org/ann\r\nEND:VCARD")
        + card("KIND:org", "FN:Acme", "ORG:Acme", "TEL:+44 113 496 0999 ext. 12"), folder)
    entries = get_app_config().get_model("IndexEntry").objects.order_by("object_id")
    columns = ("object_id", "title", "autocomplete", "body")
    imported = list(entries.values_list(*columns))
    assert len(imported) == 2 and "17" in imported[0][3] + imported[1][3]
    index_contacts(Contact.objects.values_list("pk", flat=True))
    assert list(entries.values_list(*columns)) == imported


def test_match_by_uid_updates_and_adds_methods(folder):
    ann = PersonFactory(given_name="Ann", family_name="Smith", folder=folder)
    Contact.all_objects.filter(pk=ann.pk).update(uid="ann-1")
    ContactMethodFactory(contact=ann, type=method_type("Email"), value="old@example.org")
    ann.refresh_primaries()
    report = run(ANN, folder)
    assert (report.updated, report.created) == (1, 0)
    ann.refresh_from_db()
    assert ann.job_title == "Buyer" and ann.city == "Leeds"
    assert ann.methods.count() == 4
    assert ann.primary_email == "old@example.org"  # the stored primary stays first


def test_match_by_email_is_case_insensitive(folder):
    bob = PersonFactory(given_name="Bob", family_name="Stone", folder=folder)
    ContactMethodFactory(contact=bob, type=method_type("Email"), value="Bob@Example.COM")
    report = run(card("N:Stone;Bob", "EMAIL:BOB@example.com", "TITLE:Chef"), folder)
    assert report.updated == 1
    bob.refresh_from_db()
    assert bob.job_title == "Chef" and bob.methods.count() == 1


def test_match_by_name_and_organisation_is_opt_in(folder):
    PersonFactory(given_name="Cy", family_name="Twombly", organization_name="Acme",
                  folder=folder)
    data = card("N:Twombly;Cy", "ORG:ACME", "TITLE:Painter")
    assert run(data, folder, dry_run=True).created == 1
    report = run(data, folder, match_name_and_organization=True)
    assert (report.updated, report.created) == (1, 0)
    assert Contact.objects.get(family_name="Twombly").job_title == "Painter"


@pytest.mark.parametrize("policy, counts", [
    ("update", (0, 1, 0)), ("skip", (0, 0, 1)), ("create", (1, 0, 0)),
])
def test_on_duplicate(folder, policy, counts):
    run(ANN, folder)
    changed = ANN.replace("TITLE:Buyer", "TITLE:Head buyer")
    report = run(changed, folder, on_duplicate=policy)
    assert (report.created, report.updated, report.skipped) == counts
    titles = sorted(Contact.objects.values_list("job_title", flat=True))
    expected = {"update": ["Head buyer"], "skip": ["Buyer"], "create": ["Buyer", "Head buyer"]}
    assert titles == expected[policy]
    assert Contact.objects.filter(uid="ann-1").count() == 1  # a new UID for the copy


def test_rows_of_one_file_that_match_each_other(folder):
    data = card("N:Lee;Kim", "EMAIL:kim@example.com") + card(
        "N:Lee;Kim", "EMAIL:KIM@example.com", "TEL:+1 202 555 0142")
    report = run(data, folder)
    assert (report.created, report.updated) == (1, 1)
    kim = Contact.objects.get()
    assert kim.methods.count() == 2 and kim.primary_phone == "+12025550142"


# Failures -----------------------------------------------------------------------------------


def test_a_failed_row_is_reported_with_its_line_and_the_rest_go_in(folder):
    CustomFieldFactory(key="size", label="Size", field_type="integer")
    data = (card("N:One;A", "EMAIL:a@example.com")
            + card("NOTE:nobody")
            + card("N:Three;C", "X-CRM-SIZE:big")
            + card("N:Four;D", "TEL:not a phone"))
    report = run(data, folder)
    adds_up(report)
    assert (report.created, report.errors) == (2, 2)
    (line1, reason1), (line2, reason2) = report.failures
    assert line1 == 6 and reason1 == "line 6: no name, organisation or email"
    assert line2 == 10 and "Size" in reason2 and reason2.startswith("line 10:")
    assert Contact.objects.get(family_name="Four").methods.get().value == "not a phone"


def test_parser_row_errors_are_counted(folder):
    data = card("N:Ok;A") + "BEGIN:VCARD\r\nVERSION:3.0\r\nN:Broken;B\r\n"
    report = run(data, folder)
    adds_up(report)
    assert (report.created, report.errors) == (1, 1)


def test_a_database_error_rolls_back_the_batch_and_only_the_failing_row_is_lost(folder):
    table = Contact._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                "CREATE FUNCTION crm_test_refuse() RETURNS trigger AS $$ BEGIN "
                "IF NEW.family_name = 'Refused' THEN RAISE EXCEPTION 'refused by trigger'; "
                "END IF; RETURN NEW; END $$ LANGUAGE plpgsql")
            cursor.execute(f"CREATE TRIGGER crm_test_refuse BEFORE INSERT ON {table} "
                           f"FOR EACH ROW EXECUTE FUNCTION crm_test_refuse()")
        else:
            cursor.execute(f"CREATE TEMP TRIGGER crm_test_refuse BEFORE INSERT ON {table} "
                           f"WHEN NEW.family_name = 'Refused' "
                           f"BEGIN SELECT RAISE(ABORT, 'refused by trigger'); END")
    data = "".join(card(f"N:{name};X", f"EMAIL:{name}@example.com", "CATEGORIES:batch")
                   for name in ("Alpha", "Refused", "Gamma"))
    report = run(data, folder, batch_size=10)
    adds_up(report)
    assert (report.created, report.errors) == (2, 1)
    assert report.failures[0][0] == 7
    assert "refused by trigger" in report.failures[0][1]
    assert sorted(Contact.objects.values_list("family_name", flat=True)) == ["Alpha", "Gamma"]
    assert set(Contact.objects.values_list("tags__name", flat=True)) == {"batch"}


def test_too_long_values_fail_the_row(folder):
    report = run(card("N:" + "x" * 200 + ";A") + card("N:Fine;B"), folder)
    assert (report.created, report.errors) == (1, 1)
    assert "family name is longer than 150" in report.failures[0][1]


def test_dry_run_writes_nothing_but_counts(folder):
    run(ANN, folder)
    data = ANN.replace("TITLE:Buyer", "TITLE:Boss") + card("N:New;Person")
    report = run(data, folder, dry_run=True)
    assert (report.created, report.updated) == (1, 1)
    assert Contact.objects.count() == 1
    assert Contact.objects.get().job_title == "Buyer"


def test_unknown_country_and_handle_service_are_warnings(folder):
    data = card("N:Ho;Li", "ADR:;;Via Roma 1;Roma;;00100;Narnia", "X-SOCIALPROFILE;TYPE=myspace:li",
                "TEL:12")
    report = run(data, folder)
    assert report.created == 1
    messages = [message for _line, message in report.warnings]
    assert any("Narnia" in message for message in messages)
    assert any("myspace" in message for message in messages)
    li = Contact.objects.get()
    assert li.addresses.get().locality == "Roma" and not li.country
    assert li.methods.get().value == "12"  # kept as written, not normalised


# Folder access ------------------------------------------------------------------------------


def test_a_user_without_add_access_is_refused(folder):
    viewer = folder_user("viewer", (folder, "view"))
    with pytest.raises(ImportNotAllowed, match="Imported"):
        run(ANN, folder, user=viewer)
    assert not Contact.objects.exists()


def test_matching_leaves_contacts_the_user_cannot_change_alone(folder):
    hidden = FolderFactory(name="Hidden")
    secret = PersonFactory(given_name="Ann", family_name="Smith", folder=hidden, job_title="Spy")
    Contact.all_objects.filter(pk=secret.pk).update(uid="ann-1")
    ContactMethodFactory(contact=secret, type=method_type("Email"),
                         value="ann.smith@example.org")
    user = folder_user("clerk", (folder, "contribute"))
    report = run(ANN, folder, user=user)
    assert (report.created, report.updated) == (1, 0)
    assert "UID is taken" in report.outcomes[0][2]
    secret.refresh_from_db()
    assert secret.job_title == "Spy" and secret.methods.count() == 1
    mine = Contact.objects.get(folder=folder)
    assert mine.uid != "ann-1" and mine.owner == user
    # The user's own contacts in a contribute folder are matched.
    assert run(ANN, folder, user=user).unchanged == 1


# Search index and photos --------------------------------------------------------------------


def test_imported_contacts_are_in_the_search_index(folder):
    run(ANN + card("N:Quixote;Zebulon", "EMAIL:zeb@example.com"), folder)
    found = search_contacts("Zebulon", Contact.objects.all())
    assert [c.family_name for c in found] == ["Quixote"]
    assert [c.family_name for c in search_contacts("ann.smith", Contact.objects.all())] == [
        "Smith"]
    # An update re-indexes the contact.
    run(card("N:Quixote;Zebulon", "EMAIL:zeb@example.com", "EMAIL:xylophone@example.com"),
        folder)
    found = search_contacts("xylophone", Contact.objects.all())
    assert [c.family_name for c in found] == ["Quixote"]


def png(size, mode="RGB"):
    buffer = io.BytesIO()
    PILImage.new(mode, size).save(buffer, "PNG")
    return base64.b64encode(buffer.getvalue()).decode()


def test_a_photo_becomes_a_wagtail_image_and_a_bomb_a_warning(folder):
    good = card("N:Pic;Ok", f"PHOTO;ENCODING=b;TYPE=PNG:{png((8, 8))}")
    bomb = card("N:Pic;Bomb", f"PHOTO;ENCODING=b;TYPE=PNG:{png((20000, 20000), '1')}")
    junk = card("N:Pic;Junk", f"PHOTO;ENCODING=b;TYPE=PNG:{base64.b64encode(b'no').decode()}")
    report = run(good + bomb + junk, folder)
    assert (report.created, report.errors) == (3, 0)
    ok = Contact.objects.get(given_name="Ok")
    assert (ok.photo.width, ok.photo.height) == (8, 8)
    assert Contact.objects.get(given_name="Bomb").photo is None
    assert get_image_model().objects.count() == 1
    messages = dict(report.warnings)
    assert "decompression bomb" in messages[report.outcomes[1][0]]
    assert "not an image" in messages[report.outcomes[2][0]]


# Round trip and query counts ----------------------------------------------------------------


def test_round_trip_through_vcard(folder):
    source = FolderFactory(name="Source")
    people = []
    for n in range(3):
        person = PersonFactory(folder=source, birthday=datetime.date(1970 + n, 1, 2 + n))
        person.tags.add("alpha", f"tag {n}")
        person.save()
        ContactMethodFactory(contact=person, type=method_type("Email"))
        ContactMethodFactory(contact=person, type=method_type("Mobile"),
                             value=f"+1 202 555 01{n:02d}", label="")
        AddressFactory(contact=person)
        people.append(person)
    OrganizationFactory(folder=source)
    records = contact_records(Contact.objects.filter(folder=source))
    data = "".join(write_vcards(records, "4.0")).encode()
    target = FolderFactory(name="Target")
    report = run(data, target, on_duplicate="create")
    assert (report.created, report.errors) == (4, 0), report.failures

    def snapshot(folder):
        rows = []
        for c in Contact.objects.filter(folder=folder).order_by("sort_name"):
            rows.append((
                c.kind, c.display_name, c.organization_name if c.is_organization else "",
                c.birthday, sorted(c.tags.names()), c.primary_email, c.primary_phone, c.city,
                c.country.code,
                sorted((m.type.name, m.value, m.normalized) for m in c.methods.all()),
                sorted((a.street, a.locality, a.postal_code, a.country.code, a.label)
                       for a in c.addresses.all()),
            ))
        return rows

    assert snapshot(target) == snapshot(source)


def test_queries_per_batch_do_not_grow_with_the_batch(folder, django_assert_max_num_queries):
    def records(count, start):
        return [ContactRecord(
            given_name=f"G{n}", family_name=f"F{n}", uid=f"u{n}", line=n, tags=["t1", "t2"],
            emails=[Method(f"p{n}@example.com"), Method(f"q{n}@example.org")],
            phones=[Method("+1 202 555 0100", types=["cell"]), Method("+44 113 496 0000")],
        ) for n in range(start, start + count)] + [RowError(line=0, reason="bad")]

    options = ImportOptions(folder=folder, batch_size=1000)
    import_records(records(2, 0), options)  # creates the tags and reads the settings once
    for count, start in ((10, 100), (100, 1000)):
        with django_assert_max_num_queries(40) as captured:
            import_records(records(count, start), options)
        queries = len(captured.captured_queries)
        if count == 10:
            small = queries
    assert queries == small
    for count, start in ((10, 100), (100, 1000)):  # again: all matched and unchanged
        with django_assert_max_num_queries(40) as captured:
            report = import_records(records(count, start), options)
        assert report.unchanged == count


def test_superuser_import_matches_everywhere(folder):
    other = FolderFactory(name="Other")
    run(ANN, other)
    report = run(ANN.replace("TITLE:Buyer", "TITLE:CEO"), folder, user=SuperuserFactory())
    assert report.updated == 1
    assert Contact.objects.get().folder == other
