"""The relationship tree block: public contacts only, nested, to a depth, on a served page."""

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from django.test import RequestFactory, override_settings
from wagtail import blocks

from tests.factories import FolderFactory, OrganizationFactory, PersonFactory, relate
from wagtail_crm.blocks import RelationshipTreeBlock
from wagtail_crm.blocks.relationships import hierarchical_type_choices
from wagtail_crm.models import RelationshipType

pytestmark = pytest.mark.django_db

tree_block = RelationshipTreeBlock()
stream_block = blocks.StreamBlock([("tree", tree_block)])


def render(value, preview=None):
    request = RequestFactory().get("/")
    if preview is not None:
        request.is_preview = preview
    stream = stream_block.to_python([{"type": "tree", "value": value}])
    return "".join(child.render(context={"request": request}) for child in stream)


@pytest.fixture
def acme():
    public = FolderFactory(name="Press", is_public=True)
    private = FolderFactory(name="Customers")
    acme = OrganizationFactory(organization_name="Acme", folder=public)
    sales = OrganizationFactory(organization_name="Acme Sales", folder=public)
    north = OrganizationFactory(organization_name="Acme North", folder=public)
    secret = OrganizationFactory(organization_name="Secret Lab", folder=private)
    ada = PersonFactory(given_name="Ada", family_name="Lovelace", job_title="Programmer",
                        primary_email="ada@acme.example", folder=public)
    bob = PersonFactory(given_name="Bob", family_name="Hidden", folder=private)
    eve = PersonFactory(given_name="Eve", family_name="Insider", folder=public)
    relate("department-of", department=sales, parent=acme)
    relate("department-of", department=north, parent=sales)
    relate("department-of", department=secret, parent=acme)
    relate("employee-of", employee=ada, employer=sales)
    relate("employee-of", employee=bob, employer=acme)
    relate("employee-of", employee=eve, employer=secret)
    return acme


def value(root, depth=3, types=(), heading=""):
    return {"heading": heading, "root": root.pk, "types": [str(t) for t in types],
            "depth": depth}


@override_settings(WAGTAIL_CRM_PUBLIC_FIELDS=["display_name", "job_title"])
def test_only_public_contacts_are_named_and_nested(acme):
    html = render(value(acme))
    assert 'aria-label="Organisation tree of Acme"' in html
    assert "Acme Sales" in html and "Ada Lovelace" in html and "Programmer" in html
    assert "(Employee)" in html and "(Department)" in html
    # Not public: left out with everything below it.
    assert "Bob" not in html and "Secret Lab" not in html and "Eve" not in html
    assert "ada@acme.example" not in html
    # Acme > Acme Sales > (Acme North, Ada): lists nest inside their parent's item.
    sales = html.index("Acme Sales")
    assert html.index("<ul>", sales) < html.index("Acme North") < html.index("Ada Lovelace")
    assert html.count("<ul") == html.count("</ul>") == 3
    assert html.count("<li") == html.count("</li>") == 4


@override_settings(WAGTAIL_CRM_PUBLIC_FIELDS=["display_name"])
def test_only_public_fields_are_shown(acme):
    html = render(value(acme))
    assert "Ada Lovelace" in html and "Programmer" not in html


@override_settings(WAGTAIL_CRM_PUBLIC_FIELDS=["display_name"])
def test_depth_and_types(acme):
    html = render(value(acme, depth=1))
    assert "Acme Sales" in html and "Acme North" not in html and "Ada" not in html
    department = RelationshipType.objects.get(slug="department-of")
    html = render(value(acme, types=[department.pk], heading="Our departments"))
    assert 'aria-label="Our departments"' in html and "<h2" in html
    assert "Acme North" in html and "Ada" not in html
    assert (str(department.pk), "Department of") in hierarchical_type_choices()
    assert "spouse-of" not in [name for _pk, name in hierarchical_type_choices()]


@override_settings(WAGTAIL_CRM_PUBLIC_FIELDS=["display_name"])
def test_a_root_that_is_not_public_renders_nothing(acme):
    secret = OrganizationFactory(organization_name="Hidden Co", folder=FolderFactory())
    assert render(value(secret)).strip() == ""
    assert "crm-preview-note" in render(value(secret), preview=True)
    acme.move_to_trash()
    assert "Acme" not in render(value(acme))


@override_settings(WAGTAIL_CRM_PUBLIC_FIELDS=["display_name"])
def test_queries_do_not_grow_with_the_tree(acme, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as few:
        render(value(acme))
    sales = OrganizationFactory(organization_name="More", folder=acme.folder)
    relate("department-of", department=sales, parent=acme)
    for _n in range(10):
        relate("employee-of", employee=PersonFactory(folder=acme.folder), employer=sales)
    with django_assert_max_num_queries(len(few)):
        render(value(acme))


def test_api_representation(acme):
    with override_settings(WAGTAIL_CRM_PUBLIC_FIELDS=["display_name"]):
        stream = stream_block.to_python([{"type": "tree", "value": value(acme)}])
        data = tree_block.get_api_representation(stream[0].value)
    assert data["root"]["display_name"] == "Acme"
    names = [item["card"]["display_name"] for item in data["children"]]
    assert names == ["Acme Sales"]


def test_block_is_named_by_its_package_path():
    assert tree_block.deconstruct()[0] == "wagtail_crm.blocks.RelationshipTreeBlock"


# End to end: a ContentPage of the example site with the block, served to a visitor ---------

EXAMPLE_SITE = Path(__file__).resolve().parent.parent / "example_site"

SERVE_A_PAGE = textwrap.dedent(
    """
    import json

    import django

    django.setup()
    from django.test import Client
    from home.models import ContentPage
    from wagtail_crm.models import Contact, Folder
    from wagtail_crm.models import Relationship, RelationshipParticipant, RelationshipRole

    public = Folder.objects.create(name="Press", is_public=True)
    private = Folder.objects.create(name="Customers")
    acme = Contact.objects.create(kind="organization", organization_name="Acme", folder=public)
    ada = Contact.objects.create(kind="person", given_name="Ada", family_name="Lovelace",
                                 folder=public)
    bob = Contact.objects.create(kind="person", given_name="Bob", family_name="Hidden",
                                 folder=private)
    for person in (ada, bob):
        relationship = Relationship.objects.create(type_id=RelationshipRole.objects.get(
            type__slug="employee-of", slug="employee").type_id)
        for contact, slug in ((person, "employee"), (acme, "employer")):
            RelationshipParticipant.objects.create(
                relationship=relationship, contact=contact,
                role=RelationshipRole.objects.get(type__slug="employee-of", slug=slug))
    page = ContentPage.objects.get(slug="about")
    page.content = json.dumps([
        {"type": "organization_tree",
         "value": {"heading": "Our people", "root": acme.pk, "types": [], "depth": 2}},
    ])
    page.save_revision().publish()
    response = Client().get("/about/", HTTP_HOST="localhost")
    print(json.dumps({"status": response.status_code, "page": response.content.decode()}))
    """
)


@pytest.mark.slow
def test_example_content_page_shows_the_public_tree(tmp_path):
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
    assert 'aria-label="Our people"' in html
    assert "Acme" in html and "Ada Lovelace" in html
    assert "Bob" not in html
