"""Contacts on public pages: only contacts in public folders, and only their public fields."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.core.management import call_command
from django.core.management.base import SystemCheckError
from django.db import connection
from django.test import RequestFactory, override_settings
from django.test.utils import CaptureQueriesContext
from wagtail import blocks
from wagtail.blocks.definition_lookup import BlockDefinitionLookup
from wagtail.fields import StreamField

from tests.factories import (
    AddressFactory,
    ContactMethodFactory,
    FolderFactory,
    OrganizationFactory,
    PersonFactory,
    image,
    method_type,
)
from wagtail_crm.blocks import ContactCardBlock, ContactListBlock
from wagtail_crm.models import Contact
from wagtail_crm.services.public import (
    check_public_settings,
    public_card,
    public_contacts,
    public_fields,
)

pytestmark = pytest.mark.django_db

#: Every field key, for the tests that show everything.
ALL_FIELDS = [
    "display_name",
    "job_title",
    "organization",
    "organization_type",
    "photo",
    "city",
    "country",
    "website",
    "tags",
    "primary_email",
    "primary_phone",
    "addresses",
    "methods:email",
    "methods:phone",
    "methods:url",
    "methods:handle",
]

card_block = ContactCardBlock()
organization_card_block = ContactCardBlock("wagtail_crm.Organization")
list_block = ContactListBlock()
stream_block = blocks.StreamBlock(
    [("person", card_block), ("organization", organization_card_block), ("contacts", list_block)]
)


def visitor_request(preview=None):
    request = RequestFactory().get("/")
    if preview is not None:
        request.is_preview = preview
    return request


def render_stream(data, request=None):
    """Render raw StreamField JSON the way a page does: to_python, then each block."""
    value = stream_block.to_python(data)
    context = {"request": request or visitor_request()}
    return "".join(child.render(context=context) for child in value)


def list_value(**values):
    raw = {"heading": "", "kind": "person", "folder": "", "tag": "", "limit": 12}
    raw.update(values)
    return [{"type": "contacts", "value": raw}]


@pytest.fixture
def public():
    return FolderFactory(name="Press", is_public=True)


@pytest.fixture
def private():
    return FolderFactory(name="Customers", is_public=False)


@pytest.fixture
def ada(public):
    org = OrganizationFactory(organization_name="Analytical Engines", folder=public)
    ada = PersonFactory(
        given_name="Ada", family_name="Lovelace", job_title="Programmer",
        primary_organization=org, folder=public,
    )
    ContactMethodFactory(contact=ada, value="ada@engines.example")
    ContactMethodFactory(contact=ada, type=method_type("Phone"), value="+44 20 7946 0000")
    ContactMethodFactory(contact=ada, type=method_type("Website"), value="https://ada.example")
    AddressFactory(contact=ada, street="12 St James's Square", locality="London", country="GB")
    ada.tags.add("pioneers")
    ada.save()
    return Contact.objects.get(pk=ada.pk)


@pytest.fixture
def bob(private):
    bob = PersonFactory(given_name="Bob", family_name="Hidden", folder=private)
    ContactMethodFactory(contact=bob, value="bob@hidden.example")
    bob.tags.add("pioneers")
    bob.save()
    return bob


# The public service --------------------------------------------------------


def test_public_contacts_are_live_contacts_in_public_folders(ada, bob):
    trashed = PersonFactory(family_name="Binned", folder=ada.folder)
    trashed.move_to_trash()
    names = set(public_contacts(Contact.all_objects.all()).values_list("family_name", flat=True))
    assert names == {"Lovelace", ""}  # Ada and her organisation
    assert not public_contacts().filter(pk__in=[bob.pk, trashed.pk]).exists()


def test_card_dict_holds_only_the_public_fields(ada):
    card = public_card(ada)
    assert set(card) == {"kind", *public_fields()}
    assert card["display_name"] == "Ada Lovelace"
    assert card["organization"] == "Analytical Engines"
    assert card["city"] == "London"
    assert card["country"] == "United Kingdom"
    assert card["website"] == {"value": "https://ada.example", "link": "https://ada.example"}
    assert "primary_email" not in card and "addresses" not in card


def test_organisation_name_shows_only_when_the_organisation_is_public(ada, private):
    organization = ada.primary_organization
    organization.folder = private
    organization.save()
    assert public_card(Contact.objects.get(pk=ada.pk))["organization"] == ""


# The card block -------------------------------------------------------------


def test_card_shows_a_contact_in_a_public_folder_with_its_public_fields(ada):
    html = render_stream([{"type": "person", "value": ada.pk}])
    assert "h-card" in html
    assert '<h2 class="crm-card__name p-name">Ada Lovelace</h2>' in html
    assert '<p class="crm-card__job-title p-job-title">Programmer</p>' in html
    assert '<p class="crm-card__organization p-org">Analytical Engines</p>' in html
    assert 'href="https://ada.example"' in html
    assert "London" in html and "United Kingdom" in html
    # Not listed in WAGTAIL_CRM_PUBLIC_FIELDS by default.
    assert "ada@engines.example" not in html
    assert "7946" not in html
    assert "St James" not in html
    assert "pioneers" not in html


def test_card_of_a_contact_in_a_private_folder_renders_nothing(bob):
    html = render_stream([{"type": "person", "value": bob.pk}])
    assert html.strip() == ""


def test_card_chosen_earlier_renders_nothing_once_the_folder_is_no_longer_public(ada):
    data = [
        {"type": "person", "value": ada.pk},
        {"type": "organization", "value": ada.primary_organization_id},
    ]
    assert "Ada Lovelace" in render_stream(data)
    assert "Analytical Engines" in render_stream(data)
    ada.folder.is_public = False
    ada.folder.save()
    assert render_stream(data).strip() == ""


def test_card_of_a_trashed_contact_renders_nothing(ada):
    data = [{"type": "person", "value": ada.pk}]
    ada.move_to_trash()
    assert render_stream(data).strip() == ""
    # Even with the contact object already loaded before it was trashed.
    stale = Contact.all_objects.get(pk=ada.pk)
    assert card_block.render(stale, {"request": visitor_request()}).strip() == ""


def test_preview_shows_editors_a_note_but_never_the_contact(ada, bob):
    data = [{"type": "person", "value": bob.pk}]
    assert render_stream(data, visitor_request(preview=False)).strip() == ""
    html = render_stream(data, visitor_request(preview=True))
    assert 'class="crm-preview-note"' in html
    assert "Bob" not in html and "bob@hidden.example" not in html
    ada.folder.is_public = False
    ada.folder.save()
    empty_list = render_stream(list_value(), visitor_request(preview=True))
    assert 'class="crm-preview-note"' in empty_list
    assert "Ada" not in empty_list


def test_card_escapes_what_it_shows(public):
    person = PersonFactory(
        given_name="<script>alert(1)</script>", family_name="O'Hara",
        job_title='"><img src=x onerror=alert(2)>', folder=public,
    )
    html = render_stream([{"type": "person", "value": person.pk}])
    assert "<script>" not in html and "<img src=x" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html
    assert "&quot;&gt;&lt;img src=x onerror=alert(2)&gt;" in html


def test_card_api_representation_is_the_public_card(ada, bob):
    assert card_block.get_api_representation(bob) is None
    representation = card_block.get_api_representation(ada)
    assert representation["display_name"] == "Ada Lovelace"
    assert "primary_email" not in representation


# The public fields setting ------------------------------------------------


@override_settings(
    WAGTAIL_CRM_PUBLIC_FIELDS=[
        "display_name", "primary_email", "primary_phone", "addresses", "tags", "methods:url"
    ]
)
def test_public_fields_setting_changes_what_shows(ada, bob):
    html = render_stream([{"type": "person", "value": ada.pk}, {"type": "person", "value": bob.pk}])
    assert '<a class="u-email" href="mailto:ada@engines.example">ada@engines.example</a>' in html
    assert '<a class="p-tel" href="tel:+442079460000">+44 20 7946 0000</a>' in html
    assert "St James&#x27;s Square" in html and 'p-adr h-adr"' in html
    assert '<li class="p-category">pioneers</li>' in html
    assert 'class="u-url" href="https://ada.example"' in html
    # Now left out.
    assert "Programmer" not in html and "Analytical Engines" not in html
    # Bob's folder is still private, whatever fields are public.
    assert "Bob" not in html and "bob@hidden.example" not in html


def test_unknown_public_field_fails_at_first_use_with_a_clear_message(ada):
    with override_settings(WAGTAIL_CRM_PUBLIC_FIELDS=["display_name", "birthday", "notes"]):
        with pytest.raises(ImproperlyConfigured) as error:
            render_stream([{"type": "person", "value": ada.pk}])
    message = str(error.value)
    assert "WAGTAIL_CRM_PUBLIC_FIELDS has unknown keys: 'birthday', 'notes'." in message
    assert "methods:email" in message


def test_system_check_reports_a_bad_public_fields_setting():
    assert check_public_settings() == []
    with override_settings(WAGTAIL_CRM_PUBLIC_FIELDS=["display_name", "methods:fax"]):
        errors = check_public_settings()
        assert [error.id for error in errors] == ["wagtail_crm.E101"]
        assert "unknown keys: 'methods:fax'" in errors[0].msg
        with pytest.raises(SystemCheckError, match="unknown keys: 'methods:fax'"):
            call_command("check")
    with override_settings(WAGTAIL_CRM_PUBLIC_FIELDS="display_name"):
        assert "must be a list of field keys" in check_public_settings()[0].msg
    with override_settings(WAGTAIL_CRM_PUBLIC_PHOTO_FILTER="squash-10"):
        errors = check_public_settings()
        assert [error.id for error in errors] == ["wagtail_crm.E102"]
        assert "'squash-10' is not a Wagtail image filter" in errors[0].msg


# The list block -------------------------------------------------------------


def test_list_shows_public_people_by_name_and_never_private_or_trashed_ones(ada, bob, public):
    PersonFactory(given_name="Zoe", family_name="Adams", folder=public)
    PersonFactory(given_name="Tom", family_name="Binned", folder=public).move_to_trash()
    html = render_stream(list_value(heading="Our <team>"))
    assert '<h2 class="crm-contact-list__heading">Our &lt;team&gt;</h2>' in html
    assert '<h3 class="crm-card__name p-name">Zoe Adams</h3>' in html
    assert html.index("Zoe Adams") < html.index("Ada Lovelace")  # by family name
    assert "Analytical Engines</h3>" not in html  # people only
    assert "Hidden" not in html and "bob@hidden.example" not in html
    assert "Binned" not in html


def test_list_filters_by_kind_folder_tag_and_limit(ada, bob, public):
    other_public = FolderFactory(name="Partners", is_public=True)
    carl = PersonFactory(given_name="Carl", family_name="Partner", folder=other_public)
    carl.tags.add("Pioneers")
    carl.save()
    organisations = render_stream(list_value(kind="organization"))
    assert "Analytical Engines" in organisations and "Ada Lovelace" not in organisations
    in_folder = render_stream(list_value(folder=str(other_public.pk)))
    assert "Carl Partner" in in_folder and "Ada Lovelace" not in in_folder
    tagged = render_stream(list_value(tag="PIONEERS"))
    assert "Carl Partner" in tagged and "Ada Lovelace" in tagged and "Bob" not in tagged
    assert "Carl Partner" not in render_stream(list_value(tag="pioneers", limit=1))
    # A folder that is not public lists nobody, even when chosen before it was made private.
    assert render_stream(list_value(folder=str(bob.folder.pk))).strip() == ""


def test_list_offers_only_public_folders(public, private):
    choices = list(list_block.child_blocks["folder"].field.choices)
    assert choices[0][0] == ""
    assert (str(public.pk), "Press") in choices
    assert all(value != str(private.pk) for value, _label in choices)


def test_list_api_representation_lists_public_cards(ada, bob):
    value = list_block.to_python({"kind": "person", "folder": "", "tag": "", "limit": 5})
    representation = list_block.get_api_representation(value)
    assert [card["display_name"] for card in representation["contacts"]] == ["Ada Lovelace"]


def make_people(count, folder):
    for number in range(count):
        person = PersonFactory(
            given_name="Person", family_name=f"Number {number:02d}", job_title="Member",
            folder=folder, photo=image(f"Photo {number}"),
            primary_organization=OrganizationFactory(folder=folder),
        )
        ContactMethodFactory(contact=person)
        ContactMethodFactory(contact=person, type=method_type("Mobile"), value="+44 7911 123456")
        ContactMethodFactory(contact=person, type=method_type("Website"), value="https://example.org")
        ContactMethodFactory(contact=person, type=method_type("Mastodon"), value="@person")
        AddressFactory(contact=person)
        person.tags.add("members", "team")
        person.save()


@override_settings(WAGTAIL_CRM_PUBLIC_FIELDS=ALL_FIELDS)
def test_list_runs_the_same_number_of_queries_for_5_and_30_contacts(
    public, django_assert_max_num_queries
):
    make_people(30, public)
    request = visitor_request()
    render_stream(list_value(limit=30), request)  # creates the photo renditions once
    counts = {}
    for limit in (5, 30):
        with CaptureQueriesContext(connection) as queries:
            html = render_stream(list_value(limit=limit), request)
        counts[limit] = len(queries)
        assert html.count('class="crm-card crm-card--person h-card"') == limit
        assert html.count("crm-card__photo u-photo") == limit
        assert html.count('<li class="p-category">team</li>') == limit
        assert html.count('<span class="crm-card__value">@person</span>') == limit
        assert html.count("p-adr h-adr") == limit
    assert counts[5] == counts[30], counts
    with django_assert_max_num_queries(8):
        render_stream(list_value(limit=30), request)


@override_settings(WAGTAIL_CRM_PUBLIC_FIELDS=ALL_FIELDS)
def test_cards_in_one_stream_are_loaded_together(public, django_assert_max_num_queries):
    make_people(12, public)
    people = list(Contact.objects.filter(folder=public, kind="person"))
    request = visitor_request()
    data = [{"type": "person", "value": person.pk} for person in people]
    render_stream(data, request)
    with django_assert_max_num_queries(8):
        html = render_stream(data, request)
    assert html.count("h-card") == 12


# Migrations -----------------------------------------------------------------


def test_blocks_deconstruct_to_the_package_path():
    assert ContactCardBlock().deconstruct() == ("wagtail_crm.blocks.ContactCardBlock", (), {})
    assert ContactCardBlock("wagtail_crm.Organization").deconstruct()[1] == (
        "wagtail_crm.Organization",
    )
    assert ContactListBlock().deconstruct() == ("wagtail_crm.blocks.ContactListBlock", (), {})
    field = StreamField([("card", ContactCardBlock()), ("contacts", ContactListBlock())])
    field.set_attributes_from_name("content")
    _name, _path, args, kwargs = field.deconstruct()
    paths = {definition[0] for definition in kwargs["block_lookup"].values()}
    assert paths == {"wagtail_crm.blocks.ContactCardBlock", "wagtail_crm.blocks.ContactListBlock"}
    lookup = BlockDefinitionLookup(kwargs["block_lookup"])
    rebuilt = [lookup.get_block(index) for _name, index in args[0]]
    assert isinstance(rebuilt[0], ContactCardBlock) and isinstance(rebuilt[1], ContactListBlock)
    assert list(rebuilt[1].child_blocks) == ["heading", "kind", "folder", "tag", "limit"]


def test_card_block_checks_that_it_chooses_contacts():
    errors = ContactCardBlock("wagtail_crm.Folder").check()
    assert [error.id for error in errors] == ["wagtail_crm.E103"]


# End to end: a real ContentPage of the example site, served to an anonymous visitor ---------

EXAMPLE_SITE = Path(__file__).resolve().parent.parent / "example_site"

SERVE_A_PAGE = textwrap.dedent(
    """
    import json

    import django

    django.setup()
    from django.test import Client
    from home.models import ContentPage
    from wagtail_crm.models import Contact, ContactMethod, ContactMethodType, Folder

    public = Folder.objects.create(name="Press", is_public=True)
    private = Folder.objects.create(name="Customers")
    email = ContactMethodType.objects.get(name="Email")
    ada = Contact.objects.create(
        kind="person", given_name="Ada", family_name="Lovelace", job_title="Programmer",
        folder=public,
    )
    ContactMethod.objects.create(contact=ada, type=email, value="ada@engines.example")
    bob = Contact.objects.create(kind="person", given_name="Bob", family_name="Hidden",
                                 folder=private)
    ContactMethod.objects.create(contact=bob, type=email, value="bob@hidden.example")
    gone = Contact.objects.create(kind="person", given_name="Gus", family_name="Binned",
                                  folder=public)
    page = ContentPage.objects.get(slug="about")
    page.content = json.dumps([
        {"type": "paragraph", "value": "<p>Meet the team.</p>"},
        {"type": "person", "value": ada.pk},
        {"type": "person", "value": bob.pk},
        {"type": "person", "value": gone.pk},
        {"type": "contacts", "value": {"heading": "Everyone", "kind": "person", "folder": "",
                                       "tag": "", "limit": 10}},
    ])
    page.save_revision().publish()
    gone.move_to_trash()
    response = Client().get("/about/", HTTP_HOST="localhost")
    preview = ContentPage.objects.get(pk=page.pk).make_preview_request()
    print(json.dumps({
        "status": response.status_code,
        "page": response.content.decode(),
        "preview": preview.content.decode(),
    }))
    """
)


@pytest.mark.slow
def test_example_content_page_shows_only_public_contacts_to_a_visitor(tmp_path):
    env = {k: v for k, v in os.environ.items() if k != "DJANGO_SETTINGS_MODULE"}
    env.update(
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        DJANGO_SETTINGS_MODULE="config.settings",
        PYTHONPATH=str(EXAMPLE_SITE),
    )
    for args in (["manage.py", "migrate", "--noinput"], ["-c", SERVE_A_PAGE]):
        result = subprocess.run(
            [sys.executable, *args], cwd=EXAMPLE_SITE, env=env, capture_output=True, text=True,
            timeout=300,
        )
        assert result.returncode == 0, result.stdout + result.stderr
    served = json.loads(result.stdout.strip().splitlines()[-1])
    assert served["status"] == 200
    html = served["page"]
    assert "Meet the team." in html
    assert '<h2 class="crm-card__name p-name">Ada Lovelace</h2>' in html
    assert '<h3 class="crm-card__name p-name">Ada Lovelace</h3>' in html
    assert "Programmer" in html
    assert "ada@engines.example" not in html
    assert "Bob" not in html and "bob@hidden.example" not in html
    assert "Binned" not in html
    assert "crm-preview-note" not in html
    assert "crm-preview-note" in served["preview"] and "Bob" not in served["preview"]
