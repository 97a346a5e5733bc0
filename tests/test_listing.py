import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

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
from wagtail_crm.models import Contact, Folder

pytestmark = pytest.mark.django_db

PEOPLE = "/admin/crm/people/"
ORGANISATIONS = "/admin/crm/organisations/"


def listed_names(response):
    """Names in the listing's rows, in order."""
    return re.findall(r'<span id="snippet_\d+_title">([^<]*)</span>', response.content.decode())


def column_headings(response):
    html = response.content.decode()
    table = html[html.index('<table class="listing') :]
    head = table[: table.index("</thead>")]
    return [
        re.sub(r"\s+", " ", re.sub(r"<[^>]+>", "", th)).strip()
        for th in re.findall(r"<th[^>]*>(.*?)</th>", head, re.S)
    ][1:]


def person(given, family="Zebra", **kwargs):
    return PersonFactory(given_name=given, family_name=family, **kwargs)


def test_people_listing_shows_the_chosen_columns(admin_client):
    CustomFieldFactory(
        key="level", label="Level", field_type="choice", choices="Gold\nSilver", in_listing=True
    )
    CustomFieldFactory(key="secret", label="Secret", in_listing=False)
    set_listing_columns(
        person=[
            "primary_email",
            "primary_phone",
            "primary_organization",
            "job_title",
            "city",
            "country",
            "folder",
            "tags",
            "custom:level",
            "custom:secret",
            "bogus",
            "organization_type",
        ]
    )
    acme = OrganizationFactory(organization_name="Acme Ltd")
    ada = person(
        "Ada",
        primary_organization=acme,
        job_title="Engineer",
        folder=FolderFactory(name="Customers"),
        custom={"level": "Gold"},
    )
    ContactMethodFactory(contact=ada, value="ada@example.org")
    ContactMethodFactory(contact=ada, type=method_type("Phone"), value="+44 20 7946 0000")
    AddressFactory(contact=ada, locality="Leeds", country="GB")
    ada.tags.add("vip")
    ada.save()

    response = admin_client.get(PEOPLE)

    assert response.status_code == 200
    assert column_headings(response) == [
        "Name",
        "Email",
        "Phone",
        "Organisation",
        "Job title",
        "City",
        "Country",
        "Folder",
        "Tags",
        "Level",
    ]
    html = response.content.decode()
    assert f'href="/admin/crm/people/inspect/{ada.pk}/"' in html
    assert '<a href="mailto:ada@example.org">ada@example.org</a>' in html
    assert '<a href="tel:+442079460000">+44 20 7946 0000</a>' in html
    for text in (
        "Acme Ltd",
        "Engineer",
        "Leeds",
        "United Kingdom",
        "Customers",
        "<li>vip</li>",
        "Gold",
    ):
        assert text in html
    assert listed_names(response) == ["Ada Zebra"]


def test_phone_follows_the_display_format_and_click_to_call_setting(admin_client):
    set_listing_columns(
        person=["primary_phone"],
        phone_display_format="national",
        click_to_call_template="https://pbx.example.com/dial/{digits}",
    )
    ada = person("Ada")
    ContactMethodFactory(contact=ada, type=method_type("Phone"), value="+44 20 7946 0000")

    html = admin_client.get(PEOPLE).content.decode()

    assert '<a href="https://pbx.example.com/dial/442079460000">020 7946 0000</a>' in html


def test_organisations_listing_has_its_own_columns(admin_client):
    set_listing_columns(organization=["organization_type", "primary_organization", "city"])
    OrganizationFactory(organization_name="Acme Ltd", organization_type="school")
    person("Ada")

    response = admin_client.get(ORGANISATIONS)

    assert column_headings(response) == ["Name", "Type", "City"]
    assert listed_names(response) == ["Acme Ltd"]
    assert "School" in response.content.decode()


def test_name_is_always_the_first_column(admin_client):
    set_listing_columns(person=["city", "display_name"])
    person("Ada")

    assert column_headings(admin_client.get(PEOPLE)) == ["Name", "City"]


def test_contacts_in_the_trash_are_not_listed(admin_client):
    person("Ada")
    person("Bob").move_to_trash()

    assert listed_names(admin_client.get(PEOPLE)) == ["Ada Zebra"]


@pytest.fixture
def three_people():
    """Ada, Bob and Cy, whose stored values sort in a different order for each column."""
    CustomFieldFactory(key="level", label="Level", in_listing=True)
    orgs = [OrganizationFactory(organization_name=name) for name in ("Beta", "Alpha", "Gamma")]
    folders = [FolderFactory(name=name) for name in ("F2", "F3", "F1")]
    rows = [
        ("Ada", "Zebra", "c@example.org", "+442079460002", "Leeds", "GB", "b", "Nurse"),
        ("Bob", "Young", "a@example.org", "+442079460003", "Bath", "FR", "c", "Actor"),
        ("Cy", "Xeno", "b@example.org", "+442079460001", "York", "DE", "a", "Baker"),
    ]
    for (given, family, email, phone, city, country, level, job), org, folder in zip(
        rows, orgs, folders, strict=True
    ):
        contact = person(
            given,
            family,
            primary_organization=org,
            folder=folder,
            custom={"level": level},
            job_title=job,
        )
        ContactMethodFactory(contact=contact, value=email)
        ContactMethodFactory(contact=contact, type=method_type("Phone"), value=phone)
        AddressFactory(contact=contact, locality=city, country=country)
    set_listing_columns(
        person=[
            "primary_email",
            "primary_phone",
            "primary_organization",
            "job_title",
            "city",
            "country",
            "folder",
            "tags",
            "custom:level",
            "created_at",
            "updated_at",
        ]
    )


@pytest.mark.parametrize(
    ("ordering", "expected"),
    [
        ("sort_name", ["Cy Xeno", "Bob Young", "Ada Zebra"]),
        ("-sort_name", ["Ada Zebra", "Bob Young", "Cy Xeno"]),
        ("primary_email", ["Bob Young", "Cy Xeno", "Ada Zebra"]),
        ("primary_phone", ["Cy Xeno", "Ada Zebra", "Bob Young"]),
        ("primary_organization__sort_name", ["Bob Young", "Ada Zebra", "Cy Xeno"]),
        ("job_title", ["Bob Young", "Cy Xeno", "Ada Zebra"]),
        ("city", ["Bob Young", "Ada Zebra", "Cy Xeno"]),
        ("-country", ["Ada Zebra", "Bob Young", "Cy Xeno"]),
        ("folder__name", ["Cy Xeno", "Ada Zebra", "Bob Young"]),
        ("custom__level", ["Cy Xeno", "Ada Zebra", "Bob Young"]),
        ("created_at", ["Ada Zebra", "Bob Young", "Cy Xeno"]),
        ("-updated_at", ["Cy Xeno", "Bob Young", "Ada Zebra"]),
    ],
)
def test_every_stored_column_sorts(admin_client, three_people, ordering, expected):
    response = admin_client.get(PEOPLE, {"ordering": ordering})

    assert listed_names(response) == expected


def test_headings_link_to_sorting_except_tags(admin_client, three_people):
    html = admin_client.get(PEOPLE).content.decode()

    for key in ("sort_name", "primary_email", "folder__name", "custom__level", "updated_at"):
        assert f"ordering={key}" in html
    assert "ordering=tags" not in html


# Filters, alone and with a search --------------------------------------------


@pytest.fixture
def filter_people():
    """Ada and Cy match every filter value used below; Bob matches none. Cy is not a Zebra."""
    CustomFieldFactory(
        key="level", label="Level", field_type="choice", choices="Gold\nSilver", in_listing=True
    )
    CustomFieldFactory(
        key="interests",
        label="Interests",
        field_type="multichoice",
        choices="Golf\nChess\nÉtudes",
        in_listing=True,
    )
    acme, globex = (
        OrganizationFactory(organization_name="Acme"),
        OrganizationFactory(organization_name="Globex"),
    )
    blue, red = FolderFactory(name="Blue"), FolderFactory(name="Red")
    ada = person(
        "Ada",
        folder=blue,
        primary_organization=acme,
        custom={"level": "Gold", "interests": ["Golf", "Chess"]},
    )
    bob = person(
        "Bob",
        folder=red,
        primary_organization=globex,
        custom={"level": "Silver", "interests": ["Chess"]},
    )
    cy = person(
        "Cy",
        "Other",
        folder=blue,
        primary_organization=acme,
        custom={"level": "Gold", "interests": ["Études", "Golf"]},
    )
    for contact in (ada, cy):
        ContactMethodFactory(contact=contact)
        AddressFactory(contact=contact, country="GB")
        contact.tags.add("vip")
        contact.save()
    AddressFactory(contact=bob, country="FR")
    bob.tags.add("other")
    bob.save()
    return {"blue": blue, "acme": acme}


FILTERS = [
    ({"folder": "blue"}, ["Cy Other", "Ada Zebra"]),
    ({"tag": "vip"}, ["Cy Other", "Ada Zebra"]),
    ({"tag": "vip, other"}, ["Cy Other", "Ada Zebra", "Bob Zebra"]),
    ({"country": "GB"}, ["Cy Other", "Ada Zebra"]),
    ({"has_email": "true"}, ["Cy Other", "Ada Zebra"]),
    ({"has_email": "false"}, ["Bob Zebra"]),
    ({"organisation": "acme"}, ["Cy Other", "Ada Zebra"]),
    ({"custom_level": "Gold"}, ["Cy Other", "Ada Zebra"]),
    ({"custom_interests": "Golf"}, ["Cy Other", "Ada Zebra"]),
    ({"custom_interests": ["Études", "Chess"]}, ["Cy Other", "Ada Zebra", "Bob Zebra"]),
]


def _filter_params(params, objects):
    return {
        key: str(objects[value].pk) if isinstance(value, str) and value in objects else value
        for key, value in params.items()
    }


@pytest.mark.parametrize(("params", "expected"), FILTERS)
def test_filter(admin_client, filter_people, params, expected):
    response = admin_client.get(PEOPLE, _filter_params(params, filter_people))

    assert listed_names(response) == expected


@pytest.mark.parametrize(("params", "expected"), FILTERS)
def test_filter_with_a_search(admin_client, filter_people, params, expected):
    params = {**_filter_params(params, filter_people), "q": "Zeb"}

    response = admin_client.get(PEOPLE, params)

    assert response.status_code == 200
    assert listed_names(response) == [n for n in expected if "Zebra" in n]


@pytest.mark.parametrize(("params", "expected"), FILTERS)
def test_filter_with_a_search_in_name_order(admin_client, filter_people, params, expected):
    params = {**_filter_params(params, filter_people), "q": "Zeb", "ordering": "-sort_name"}

    response = admin_client.get(PEOPLE, params)

    assert listed_names(response) == sorted((n for n in expected if "Zebra" in n), reverse=True)


def test_filters_offered_for_people_and_organisations(admin_client, filter_people):
    CustomFieldFactory(
        target="organization",
        key="sector",
        label="Sector",
        field_type="choice",
        choices="Retail\nFarming",
        in_listing=True,
    )
    CustomFieldFactory(key="hidden", label="Hidden", field_type="choice", choices="A\nB")

    people = admin_client.get(PEOPLE).content.decode()
    organisations = admin_client.get(ORGANISATIONS).content.decode()

    for name in (
        "folder",
        "tag",
        "country",
        "has_email",
        "organisation",
        "custom_level",
        "custom_interests",
    ):
        assert f'name="{name}"' in people
    assert 'name="custom_hidden"' not in people
    assert "snippet-chooser" in people  # organisations are chosen, not listed in a select
    assert 'name="organisation"' not in organisations
    assert 'name="custom_sector"' in organisations
    assert 'name="custom_level"' not in organisations


# Search ----------------------------------------------------------------------


@pytest.fixture
def searchable_person():
    globex = OrganizationFactory(organization_name="Globex Corporation")
    hank = person("Hank", "Scorpio", primary_organization=globex)
    ContactMethodFactory(contact=hank, value="hank@globex.example")
    ContactMethodFactory(contact=hank, type=method_type("Phone"), value="020 7946 0123")
    person("Marge", "Bouvier")
    reindex(hank)
    return hank


@pytest.mark.parametrize(
    "query",
    [
        "Hank",
        "Scorp",
        "hank@globex.example",
        "HANK@Globex.Example",
        "Globex",
        "Glob",
        "020 7946",
        "02079460123",
        "+442079460123",
        "+4420794",
    ],
)
def test_search_finds_people_by_name_email_phone_and_organisation(
    admin_client, searchable_person, query
):
    assert listed_names(admin_client.get(PEOPLE, {"q": query})) == ["Hank Scorpio"]


@pytest.mark.parametrize("ordering", ["folder__name", "custom__level", "job_title", "bogus"])
def test_orderings_the_search_cannot_use_fall_back_to_names(
    admin_client, searchable_person, ordering
):
    response = admin_client.get(PEOPLE, {"q": "Scorp", "ordering": ordering})

    assert response.status_code == 200
    assert listed_names(response) == ["Hank Scorpio"]


def test_search_results_are_listed_by_name_in_the_listing_and_the_chooser(admin_client):
    """Matches by name, email and organisation alike are listed alphabetically, not by relevance,
    in the listing and in the chooser; the chooser finds names as they are typed."""
    smithson = OrganizationFactory(organization_name="Smithson Ltd")
    contacts = [
        person("Zoe", "Smith"),
        person("Adam", "Jones", primary_organization=smithson),
        person("Cleo", "Brown"),
        person("Ben", "Smithers"),
    ]
    ContactMethodFactory(contact=contacts[2], value="cleo@smith.example")
    reindex(*contacts)

    listed = listed_names(admin_client.get(PEOPLE, {"q": "smith"}))
    chooser = admin_client.get("/admin/snippets/choose/wagtail_crm/person/results/", {"q": "smi"})

    assert listed == ["Cleo Brown", "Adam Jones", "Zoe Smith", "Ben Smithers"]
    chosen = re.findall(r"/chosen/(\d+)/", chooser.content.decode())
    assert [int(pk) for pk in chosen] == [contacts[i].pk for i in (2, 1, 0, 3)]


@pytest.mark.parametrize("ordering", ["sort_name", "-primary_email", "city", "-updated_at"])
def test_search_orders_by_stored_columns(admin_client, ordering):
    set_listing_columns(person=["primary_email", "city", "updated_at"])
    for given in ("Ann", "Abe", "Al"):
        person(given, "Zed")

    response = admin_client.get(PEOPLE, {"q": "Zed", "ordering": ordering})

    assert response.status_code == 200
    assert len(listed_names(response)) == 3


# Pagination and queries ----------------------------------------------------------


def test_pages_follow_the_items_per_page_setting_and_show_the_total(admin_client):
    set_listing_columns(items_per_page=2)
    for given in ("A", "B", "C", "D", "E"):
        person(given)

    first = admin_client.get(PEOPLE)
    last = admin_client.get(PEOPLE, {"p": 3})

    assert listed_names(first) == ["A Zebra", "B Zebra"]
    assert "Page 1 of 3" in first.content.decode()
    assert "5 people" in first.content.decode()
    assert listed_names(last) == ["E Zebra"]


@pytest.mark.parametrize("ordering", ["", "-sort_name", "primary_organization", "-city"])
def test_later_pages_hold_the_rows_of_the_whole_ordered_list(admin_client, ordering):
    """Past the first page, ids are found first and rows fetched by id: same rows, same order."""
    set_listing_columns(
        person=["primary_organization", "city"], items_per_page=3
    )
    organisations = [OrganizationFactory(organization_name=n) for n in ("Beta", "Alpha", "Gamma")]
    for index, given in enumerate(["Ann", "Bob", "Cy", "Di", "Ed", "Flo", "Gus", "Hal"]):
        AddressFactory(
            contact=person(given, primary_organization=organisations[index % 3]),
            locality=f"Town {index % 4}",
        )
    params = {"ordering": ordering} if ordering else {}
    set_listing_columns(items_per_page=8)
    everyone = listed_names(admin_client.get(PEOPLE, params))
    set_listing_columns(items_per_page=3)

    paged = [name for p in (1, 2, 3) for name in listed_names(
        admin_client.get(PEOPLE, {**params, "p": p}))]

    assert len(everyone) == 8
    assert paged == everyone


def test_total_is_shown_with_thousands_separators(admin_client):
    folder = Folder.get_default()
    Contact.objects.bulk_create(
        Contact(
            kind="person",
            given_name=f"P{i}",
            display_name=f"P{i}",
            sort_name=f"p{i:05}",
            folder=folder,
            uid=f"uid-{i}",
        )
        for i in range(1001)
    )

    assert "1,001 people" in admin_client.get(PEOPLE).content.decode()


def _detailed_contacts(factory, count, **kwargs):
    folder = FolderFactory(name="Customers")
    for _ in range(count):
        contact = factory(folder=folder, **kwargs)
        ContactMethodFactory(contact=contact)
        ContactMethodFactory(contact=contact, type=method_type("Phone"), value="+44 20 7946 0000")
        AddressFactory(contact=contact)
        contact.tags.add("vip", "donor")
        contact.save()


def _listing_queries(client, url):
    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


@pytest.mark.parametrize(
    ("url", "factory"), [(PEOPLE, PersonFactory), (ORGANISATIONS, OrganizationFactory)]
)
def test_queries_do_not_grow_with_the_page_size(
    admin_client, url, factory, django_assert_max_num_queries
):
    CustomFieldFactory(target="person", key="level", label="Level", in_listing=True)
    CustomFieldFactory(target="organization", key="level", label="Level", in_listing=True)
    columns = [
        "primary_email",
        "primary_phone",
        "primary_organization",
        "organization_type",
        "country",
        "folder",
        "tags",
        "custom:level",
        "updated_at",
    ]
    set_listing_columns(person=columns, organization=columns, items_per_page=10)
    kwargs = {"primary_organization": OrganizationFactory()} if url == PEOPLE else {}
    _detailed_contacts(factory, 10, **kwargs)
    admin_client.get(url)  # warm caches (content types, settings)
    ten = _listing_queries(admin_client, url)

    _detailed_contacts(factory, 40, **kwargs)
    set_listing_columns(items_per_page=50)
    with django_assert_max_num_queries(ten):
        response = admin_client.get(url)

    assert len(listed_names(response)) == 50
    assert ten <= 25
