from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection
from django.db.models import TextField
from django.db.models.functions import Cast
from modelsearch.conf import get_app_config
from wagtail.search.backends import get_search_backend

from tests.factories import (
    ContactMethodFactory,
    ContactMethodTypeFactory,
    CustomFieldFactory,
    PersonFactory,
)
from wagtail_crm.models import (
    Address,
    Contact,
    ContactMethod,
    ContactTag,
    CRMSettings,
    Folder,
    MethodScheme,
    Organization,
    Person,
)
from wagtail_crm.services import demo, search_index
from wagtail_crm.services.demo import FOLDERS, create_demo_contacts, index_contacts

pytestmark = pytest.mark.django_db


def demo_data(*args):
    out = StringIO()
    call_command("crm_demo_data", *args, stdout=out)
    return out.getvalue()


def snapshot():
    """Everything generated, in creation order, without database ids."""
    contacts = Contact.all_objects.order_by("pk").prefetch_related("methods", "addresses", "tags")
    return [
        (
            c.kind, c.display_name, c.sort_name, c.job_title, c.uid, c.birthday, c.folder.name,
            c.primary_organization.uid if c.primary_organization else None,
            c.primary_email, c.primary_phone, c.city, c.country.code,
            [(m.type.name, m.value, m.normalized, m.label, m.is_primary) for m in c.methods.all()],
            [(a.street, a.locality, a.postal_code, a.country.code) for a in c.addresses.all()],
            sorted(t.name for t in c.tags.all()),
        )
        for c in contacts.select_related("folder", "primary_organization")
    ]


def test_creates_people_and_organisations_and_says_so():
    output = demo_data("--contacts", "45", "--seed", "3")
    assert Contact.objects.count() == 45
    assert Organization.objects.count() == 5
    assert Person.objects.count() == 40
    assert "Created 45 contacts (40 people, 5 organisations)" in output
    assert "Indexed 45 contacts" in output


def test_people_work_for_organisations_in_their_folders():
    demo_data("--contacts", "90", "--seed", "4")
    employed = Person.objects.filter(primary_organization__isnull=False)
    assert employed.count() > 50
    for person in employed.select_related("primary_organization"):
        assert person.primary_organization.kind == "organization"
        assert person.job_title
        assert person.folder_id == person.primary_organization.folder_id
    assert set(Folder.objects.values_list("name", flat=True)) >= set(FOLDERS)
    assert Contact.objects.values("folder").distinct().count() > 1


def test_methods_are_valid_and_normalised_as_contact_method_normalize_does():
    demo_data("--contacts", "60", "--seed", "5")
    for contact in Contact.objects.prefetch_related("methods__type"):
        methods = list(contact.methods.all())
        emails = [m for m in methods if m.scheme == MethodScheme.EMAIL]
        phones = [m for m in methods if m.scheme == MethodScheme.PHONE]
        if contact.is_person:
            assert 1 <= len(emails) <= 2 and 1 <= len(phones) <= 2
        for method in methods:
            fresh = ContactMethod(type=method.type, value=method.value)
            fresh.normalize()
            assert fresh.normalized == method.normalized
            assert fresh.value == method.value
        assert [m.normalized for m in phones if m.is_primary] == [phones[0].normalized]


def test_phone_values_follow_the_default_phone_region():
    settings = CRMSettings.load()
    settings.default_phone_region = "FR"
    settings.save()
    create_demo_contacts(150, seed=6, index=False)
    phones = ContactMethod.objects.filter(type__scheme=MethodScheme.PHONE)
    assert phones.filter(normalized__startswith="+33").exclude(value__startswith="+").exists()
    for method in phones.select_related("type"):
        fresh = ContactMethod(type=method.type, value=method.value)
        fresh.normalize()
        assert fresh.normalized == method.normalized


def test_denormalised_fields_match_what_saving_would_compute():
    demo_data("--contacts", "50", "--seed", "7")
    for contact in Contact.objects.all():
        stored = (contact.display_name, contact.sort_name, contact.primary_email,
                  contact.primary_phone, contact.city, contact.country.code)
        contact.compute_names()
        contact.refresh_primaries()
        assert stored == (contact.display_name, contact.sort_name, contact.primary_email,
                          contact.primary_phone, contact.city, contact.country.code)
        assert contact.display_name and contact.primary_email and contact.primary_phone
        assert contact.addresses.count() == 1


def test_names_include_non_ascii_letters():
    demo_data("--contacts", "300", "--seed", "8")
    names = " ".join(Person.objects.values_list("display_name", flat=True))
    assert any(ord(char) > 127 for char in names)
    assert all(name.isascii() for name in Contact.objects.values_list("sort_name", flat=True))


def test_same_seed_gives_the_same_contacts_whatever_the_batch_size():
    demo_data("--contacts", "40", "--seed", "9")
    first = snapshot()
    Contact.all_objects.all().delete()
    demo_data("--contacts", "40", "--seed", "9", "--batch-size", "7")
    assert snapshot() == first
    Contact.all_objects.all().delete()
    demo_data("--contacts", "40", "--seed", "10")
    assert snapshot() != first


def test_a_second_run_adds_contacts_with_new_uids():
    demo_data("--contacts", "20", "--seed", "11")
    demo_data("--contacts", "20", "--seed", "11")
    assert Contact.objects.count() == 40
    assert Contact.objects.values("uid").distinct().count() == 40


def test_if_empty_does_nothing_when_contacts_exist():
    assert "Created 10 contacts" in demo_data("--contacts", "10", "--if-empty", "--seed", "12")
    output = demo_data("--contacts", "10", "--if-empty")
    assert "10 contacts already exist: no demo data created." in output
    assert Contact.objects.count() == 10


def test_admin_search_finds_a_generated_contact():
    demo_data("--contacts", "30", "--seed", "13")
    person = Person.objects.filter(primary_organization__isnull=False).order_by("pk").first()
    backend = get_search_backend()
    found = list(backend.autocomplete(person.family_name, Person.objects.all()))
    assert person in found
    by_email = list(backend.autocomplete(person.primary_email.split("@")[0], Person.objects.all()))
    assert person in by_email


def test_no_index_leaves_contacts_out_of_search():
    output = demo_data("--contacts", "20", "--seed", "14", "--no-index")
    assert "--no-index" in output
    person = Person.objects.order_by("pk").first()
    assert list(get_search_backend().autocomplete(person.family_name, Person.objects.all())) == []


def index_rows(rank=None):
    """The search index entries, with vectors (PostgreSQL) cast to text for comparison.

    With ``rank`` (contact primary key: position), object ids are replaced by positions.
    """
    entries = index_model().objects.order_by("object_id")
    names = [f.attname for f in entries.model._meta.concrete_fields if f.name != "id"]
    casts = {f"{name}_text_": Cast(name, TextField()) for name in ("title", "autocomplete", "body")}
    rows = [dict(zip([*names, *casts], row, strict=True))
            for row in entries.annotate(**casts).values_list(*names, *casts)]
    if rank:
        for row in rows:
            row["object_id"] = rank[int(row["object_id"])]
    return sorted(rows, key=lambda row: int(row["object_id"]))


def fts_rows():
    """What SQLite's FTS5 table holds for each entry, by object id ([] on other databases)."""
    if connection.vendor != "sqlite":
        return []
    entries = index_model()._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT e.object_id, f.title, f.body, f.autocomplete FROM {entries}_fts f "
            f"JOIN {entries} e ON e.id = f.rowid ORDER BY CAST(e.object_id AS integer)"
        )
        return cursor.fetchall()


def index_model():
    """The search index's entry model (wagtail.search's IndexEntry)."""
    return get_app_config().get_model("IndexEntry")


def reindex_with_add_bulk():
    """Replace the index entries by what the backend's own add_bulk writes."""
    index_model().objects.all().delete()
    contacts = list(Contact.get_indexed_objects().order_by("pk"))
    get_search_backend().add_bulk(Contact, contacts)
    return contacts


def search_results():
    """Primary keys found by a few admin-like searches, in the order found."""
    backend = get_search_backend()
    person = Person.objects.filter(primary_organization__isnull=False).order_by("pk").first()
    organization = Organization.objects.order_by("pk").first()
    queries = [person.family_name, person.primary_email.split("@")[0],
               person.primary_organization.display_name, organization.display_name.split()[0],
               person.job_title.split()[0]]
    return [
        [
            [c.pk for c in backend.autocomplete(query, Contact.objects.all())],
            [c.pk for c in backend.search(query, Contact.objects.all())],
        ]
        for query in queries
    ]


def test_demo_index_entries_are_what_the_backend_add_bulk_writes():
    create_demo_contacts(80, seed=17, batch_size=30)
    written, fts, found = index_rows(), fts_rows(), search_results()
    assert len(written) == 80
    assert len(fts) == (80 if connection.vendor == "sqlite" else 0)
    assert all(completed or searched for completed, searched in found)
    reindex_with_add_bulk()
    assert index_rows() == written
    assert fts_rows() == fts
    assert search_results() == found


def test_index_contacts_writes_what_the_backend_add_bulk_writes():
    CustomFieldFactory(key="code", label="Code", searchable=True)
    create_demo_contacts(60, seed=15, index=False)
    people = list(Person.objects.order_by("pk")[:3])
    Contact.all_objects.filter(pk=people[0].pk).update(custom={"code": "Z-17"})
    ContactMethodFactory(contact=people[1], type=ContactMethodTypeFactory(), value="@Hopper")
    people[2].move_to_trash()
    contacts = reindex_with_add_bulk()
    expected = index_rows()
    assert len(expected) == 59
    # PostgreSQL keeps the plain text next to the vector.
    bodies = " ".join(row.get("body_text", row["body"]) for row in expected)
    assert "Z-17" in bodies and "hopper" in bodies
    index_model().objects.all().delete()
    pks = [contact.pk for contact in contacts] + [people[2].pk]
    assert index_contacts(pks, batch_size=25) == 59
    assert index_rows() == expected


def test_index_contacts_updates_existing_entries():
    create_demo_contacts(20, seed=20, index=False)
    pks = list(Contact.objects.values_list("pk", flat=True))
    index_contacts(pks)
    Contact.all_objects.filter(pk=pks[0]).update(display_name="Grace Hopper")
    reindex_with_add_bulk()
    expected, fts = index_rows(), fts_rows()
    Contact.all_objects.filter(pk=pks[0]).update(display_name="Someone Else")
    index_contacts(pks)
    Contact.all_objects.filter(pk=pks[0]).update(display_name="Grace Hopper")
    index_contacts(pks)
    assert index_rows() == expected
    assert fts_rows() == fts


def test_search_fields_it_cannot_compute_go_through_add_bulk(monkeypatch):
    direct = create_demo_contacts(30, seed=19)
    expected = index_rows(dict(zip(direct.pks, range(30), strict=True)))
    Contact.all_objects.all().delete()
    index_model().objects.all().delete()

    def unsupported(self):
        raise search_index.UnsupportedSearchFields("organization__display_name")

    monkeypatch.setattr(search_index.ContactTexts, "__init__", unsupported)
    result = create_demo_contacts(30, seed=19)
    assert result.indexed == 30
    assert index_rows(dict(zip(result.pks, range(30), strict=True))) == expected


def raw_rows():
    """The demo tables' rows as the database holds them, in insertion order.

    Contact ids (and the columns pointing at contacts) are replaced by positions and the other
    tables' ids left out, so that two loads of the same seed compare equal; timestamps are
    checked to be set, then left out.
    """
    tables = {}
    with connection.cursor() as cursor:
        for model in (Contact, ContactMethod, Address, ContactTag):
            table = connection.ops.quote_name(model._meta.db_table)
            cursor.execute(f"SELECT * FROM {table} ORDER BY id")
            names = [column[0] for column in cursor.description]
            tables[model] = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
    rank = {row["id"]: position for position, row in enumerate(tables[Contact])}
    pointers = {"primary_organization_id", "contact_id", "content_object_id"}
    for model, rows in tables.items():
        for row in rows:
            if model is Contact:
                assert row.pop("created_at") and row.pop("updated_at")
                row["id"] = rank[row["id"]]
            else:
                del row["id"]
            for name in pointers & set(row):
                row[name] = None if row[name] is None else rank[row[name]]
    return {model.__name__: rows for model, rows in tables.items()}


def test_cursor_writer_writes_the_rows_the_models_would(monkeypatch):
    first = create_demo_contacts(80, seed=16, batch_size=30)
    direct = raw_rows()
    entries = index_rows(dict(zip(first.pks, range(80), strict=True)))
    assert len(direct["Contact"]) == 80
    assert any(row["birthday"] for row in direct["Contact"])
    Contact.all_objects.all().delete()
    index_model().objects.all().delete()
    # Other databases get the rows through the models' bulk_create.
    monkeypatch.setattr(demo, "DIRECT_VENDORS", ())
    second = create_demo_contacts(80, seed=16, batch_size=30)
    assert raw_rows() == direct
    assert index_rows(dict(zip(second.pks, range(80), strict=True))) == entries


def test_contacts_created_later_get_new_primary_keys():
    first = create_demo_contacts(10, seed=18, index=False).pks
    Contact.all_objects.all().delete()
    second = create_demo_contacts(10, seed=18, index=False).pks
    assert second == sorted(second)
    assert min(second) > max(first)
    assert PersonFactory().pk > max(second)


@pytest.mark.sqlite_only
def test_the_sqlite_cache_setting_is_restored():
    with connection.cursor() as cursor:
        cursor.execute("PRAGMA cache_size")
        before = cursor.fetchone()[0]
        create_demo_contacts(10, seed=21)
        cursor.execute("PRAGMA cache_size")
        assert cursor.fetchone()[0] == before


def test_a_failure_halfway_leaves_nothing_behind(monkeypatch):
    original, calls = demo._Generator.person, []

    def person(self, offices):
        calls.append(offices)
        if len(calls) == 50:
            raise RuntimeError("stop")
        return original(self, offices)

    monkeypatch.setattr(demo._Generator, "person", person)
    with pytest.raises(RuntimeError):
        create_demo_contacts(100, seed=22, batch_size=20)
    assert not Contact.all_objects.exists()
    assert not index_model().objects.exists()
    monkeypatch.undo()
    assert create_demo_contacts(10, seed=22).indexed == 10


@pytest.mark.postgres_only
def test_a_failing_index_statement_raises_and_leaves_nothing_behind(monkeypatch):
    original = search_index.PostgresEntries.__init__

    def failing(self, *args):
        original(self, *args)
        self.sql = self.sql.replace("jsonb_array_elements", "no_such_function")

    monkeypatch.setattr(search_index.PostgresEntries, "__init__", failing)
    with pytest.raises(DatabaseError):
        create_demo_contacts(50, seed=23, batch_size=20)
    assert not Contact.all_objects.exists()
    monkeypatch.undo()
    assert create_demo_contacts(10, seed=23).indexed == 10
