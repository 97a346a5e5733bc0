from io import StringIO

import pytest
from django.core.management import call_command
from django.db.models import TextField
from django.db.models.functions import Cast
from modelsearch.conf import get_app_config
from wagtail.search.backends import get_search_backend

from wagtail_crm.models import (
    Contact,
    ContactMethod,
    CRMSettings,
    Folder,
    MethodScheme,
    Organization,
    Person,
)
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


def index_rows():
    """The search index entries, with vectors (PostgreSQL) cast to text for comparison."""
    entries = get_app_config().get_model("IndexEntry").objects.order_by("object_id")
    names = [f.attname for f in entries.model._meta.concrete_fields if f.name != "id"]
    casts = {f"{name}_text_": Cast(name, TextField()) for name in ("title", "autocomplete", "body")}
    return list(entries.annotate(**casts).values_list(*names, *casts))


def test_index_contacts_writes_what_the_backend_add_bulk_writes():
    create_demo_contacts(60, seed=15, index=False)
    contacts = list(Contact.get_indexed_objects().order_by("pk"))
    get_search_backend().add_bulk(Contact, contacts)
    expected = index_rows()
    assert len(expected) == 60
    get_app_config().get_model("IndexEntry").objects.all().delete()
    assert index_contacts([contact.pk for contact in contacts], batch_size=25) == 60
    assert index_rows() == expected
