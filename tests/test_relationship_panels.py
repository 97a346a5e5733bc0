"""The contact page's relationship panels: the list of relationships, the tree and the chain."""

import datetime

import pytest

from tests.factories import (
    FolderFactory,
    OrganizationFactory,
    PersonFactory,
    folder_user,
    relate,
    relationship_type,
)
from wagtail_crm import panels
from wagtail_crm.panels import nest, relationship_add_url

pytestmark = pytest.mark.django_db


def page(client, contact):
    section = "people" if contact.kind == "person" else "organisations"
    response = client.get(f"/admin/crm/{section}/inspect/{contact.pk}/")
    assert response.status_code == 200
    return response.content.decode()


def panel_html(html, name):
    start = html.index(f'id="crm-panel-{name}-section"')
    return html[start:html.index("</section>", start)]


def url(contact):
    section = "people" if contact.kind == "person" else "organisations"
    return f"/admin/crm/{section}/inspect/{contact.pk}/"


@pytest.fixture
def folder():
    return FolderFactory(name="Shared")


@pytest.fixture
def family(folder):
    ada = PersonFactory(given_name="Ada", family_name="Lovelace", folder=folder)
    william = PersonFactory(given_name="William", family_name="King", folder=folder)
    byron = PersonFactory(given_name="George", family_name="Byron", folder=folder)
    acme = OrganizationFactory(organization_name="Acme", folder=folder)
    relate("spouse-of", spouse=[ada, william], fields={"start_date": datetime.date(1835, 7, 8)})
    relate("parent-of", parent=byron, child=ada)
    relate("employee-of", employee=ada, employer=acme,
           fields={"start_date": datetime.date(1840, 1, 1), "end_date": datetime.date(1850, 1, 1)})
    return ada, william, byron, acme


def test_relationships_grouped_by_type_with_roles(admin_client, family):
    ada, william, byron, acme = family
    html = panel_html(page(admin_client, ada), "relationships")
    spouse, parent, employee = (html.index(name) for name in ("Spouse of", "Parent of",
                                                               "Employee of"))
    assert employee < spouse < parent  # seeded type order
    assert f'<a href="{url(william)}">{william}</a>' in html
    assert f'<a href="{url(byron)}">{byron}</a>' in html
    assert "(Parent)" in html
    assert "(Employer)" in html
    assert str(ada) not in html.replace(f"{ada}'s", "")  # the contact is not an "other"


def test_past_relationships_are_marked_and_listed_after_active_ones(admin_client, family):
    ada, _william, _byron, acme = family
    relate("employee-of", employee=ada, employer=OrganizationFactory(organization_name="Zeta"))
    html = panel_html(page(admin_client, ada), "relationships")
    assert html.count("crm-relationship--past") == 1
    assert html.index("Zeta") < html.index("Acme")
    past = html[html.index("crm-relationship--past"):]
    assert "Acme" in past and "Past" in past


def test_upcoming_relationships_are_marked(admin_client, family):
    ada, _william, _byron, _acme = family
    relate("employee-of", employee=ada, employer=OrganizationFactory(organization_name="Later"),
           fields={"start_date": datetime.date.today() + datetime.timedelta(days=7)})

    html = panel_html(page(admin_client, ada), "relationships")

    row = html[html.index("Later"):]
    assert "Upcoming" in row[:row.index("</li>")]


def test_each_type_lists_its_first_relationships_and_links_to_the_rest(
    admin_client, family, monkeypatch
):
    ada, william, _byron, acme = family
    monkeypatch.setattr(panels.RelationshipsPanel, "per_type", 2)
    for year in (1841, 1842, 1843):
        employer = OrganizationFactory(organization_name=f"Co{year}")
        relate("employee-of", employee=ada, employer=employer,
               fields={"start_date": datetime.date(year, 1, 1)})

    html = panel_html(page(admin_client, ada), "relationships")

    # Employee of: four relationships, the two latest listed (the past one last).
    assert "Co1843" in html and "Co1842" in html
    assert "Co1841" not in html and "Acme" not in html
    assert "Showing 2 of 4." in html
    employee_of = relationship_type("employee-of")
    assert f"/admin/crm/relationships/?contact={ada.pk}&amp;type={employee_of.pk}" in html
    # Spouse of has one: no link.
    assert str(william) in html and html.count("Showing") == 1


def test_no_relationships(admin_client):
    html = panel_html(page(admin_client, PersonFactory()), "relationships")
    assert "No relationships yet." in html


def test_hidden_participants_are_never_named(client, family):
    ada, william, byron, acme = family
    secret = FolderFactory(name="Secret")
    byron.folder = secret
    byron.save()
    client.force_login(folder_user("viewer", (ada.folder, "view")))
    html = page(client, ada)
    relationships = panel_html(html, "relationships")
    assert "Hidden contact" in relationships
    assert "Byron" not in html
    assert url(byron) not in html
    assert str(william) in relationships


def test_add_relationship_link(admin_client, family, monkeypatch):
    ada = family[0]
    expected = relationship_add_url(ada)
    html = panel_html(page(admin_client, ada), "relationships")
    if expected:
        assert expected.endswith(f"?contact={ada.pk}")
        assert f'href="{expected}"' in html.replace("&amp;", "&")
    else:
        assert "Add relationship" not in html
    monkeypatch.setattr(panels, "relationship_add_url", lambda contact, user: "/add/?contact=1")
    html = panel_html(page(admin_client, ada), "relationships")
    assert 'href="/add/?contact=1"' in html


def test_add_link_follows_the_users_permission(client, family):
    from wagtail_crm.models import Relationship

    ada = family[0]
    user = folder_user("viewer", (ada.folder, "view"))
    client.force_login(user)
    html = panel_html(page(client, ada), "relationships")
    policy = getattr(getattr(Relationship, "snippet_viewset", None), "permission_policy", None)
    if policy is not None and not policy.user_has_permission(user, "add"):
        assert relationship_add_url(ada, user) == ""
        assert "Add relationship" not in html


def test_add_url_is_empty_without_the_viewset(monkeypatch):
    from wagtail_crm.models import Relationship

    monkeypatch.delattr(Relationship, "snippet_viewset", raising=False)
    assert relationship_add_url(PersonFactory()) == ""


def test_query_count_does_not_grow_with_relationships(
    admin_client, family, django_assert_max_num_queries
):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    ada = family[0]
    with CaptureQueriesContext(connection) as few:
        page(admin_client, ada)
    for n in range(15):
        relate("parent-of", parent=ada, child=PersonFactory(given_name=f"Child{n}"))
        relate("employee-of", employee=ada, employer=OrganizationFactory(),
               fields={"end_date": datetime.date(2000, 1, 1)})
    with django_assert_max_num_queries(len(few)):
        html = page(admin_client, ada)
    assert "Child14" in html


@pytest.fixture
def company(folder):
    acme = OrganizationFactory(organization_name="Acme", folder=folder)
    sales = OrganizationFactory(organization_name="Acme Sales", folder=folder)
    north = OrganizationFactory(organization_name="Acme Sales North", folder=folder)
    deep = OrganizationFactory(organization_name="Acme Sales North Office", folder=folder)
    sub = OrganizationFactory(organization_name="Acme Ltd", folder=folder)
    ada = PersonFactory(given_name="Ada", family_name="Lovelace", folder=folder)
    bob = PersonFactory(given_name="Bob", family_name="Smith", folder=folder)
    relate("department-of", department=sales, parent=acme)
    relate("department-of", department=north, parent=sales)
    relate("department-of", department=deep, parent=north)
    relate("subsidiary-of", subsidiary=sub, parent=acme)
    relate("employee-of", employee=ada, employer=north)
    relate("employee-of", employee=bob, employer=acme)
    relate("reports-to", report=ada, manager=bob)
    return acme, sales, north, deep, sub, ada, bob


def test_organisation_tree_is_nested_with_a_depth_limit(admin_client, company, monkeypatch):
    acme, sales, north, deep, sub, ada, bob = company
    html = panel_html(page(admin_client, acme), "tree")
    assert "Acme Sales North Office" in html  # at depth 3
    monkeypatch.setattr(panels.OrganisationTreePanel, "depth", 2)
    html = panel_html(page(admin_client, acme), "tree")
    assert 'aria-label="Organisation tree of Acme"' in html
    # Departments and subsidiaries first, then people; each level is a nested list.
    assert html.index(">Acme Sales<") < html.index(">Acme Ltd<") < html.index(">Bob Smith<")
    sales_item = html[html.index(">Acme Sales<"):]
    assert sales_item.index("<ul>") < sales_item.index("Acme Sales North")
    assert "(Employee)" in html and "(Department)" in html
    assert "Acme Sales North Office" not in html  # depth 2 stops above it
    assert "Shows 2 levels." in html
    assert html.count(">Bob Smith<") == 1  # reports-to is not followed


def test_person_chain_up_to_the_top(admin_client, company):
    acme, sales, north, deep, sub, ada, bob = company
    html = panel_html(page(admin_client, ada), "tree")
    assert html.index(">Acme<") < html.index(">Acme Sales<") < html.index(">Acme Sales North<")
    assert f'href="{url(acme)}"' in html
    assert "<ol" in html


def test_tree_and_chain_hide_contacts_the_user_cannot_see(client, company):
    acme, sales, north, deep, sub, ada, bob = company
    secret = FolderFactory(name="Secret")
    sales.folder = secret
    sales.save()
    client.force_login(folder_user("viewer", (acme.folder, "view")))
    for contact in (acme, ada):
        html = page(client, contact)
        tree = panel_html(html, "tree")
        assert "Hidden contact" in tree
        assert ">Acme Sales<" not in html
        assert url(sales) not in html


def test_nest_builds_children_from_paths(company):
    from wagtail_crm.services.relationships import subtree

    acme = company[0]
    nodes = subtree(acme, panels.ORGANISATION_TREE_TYPES, 2)
    tree = nest(nodes, lambda kind, pk: f"/{pk}/")
    assert [item["name"] for item in tree] == ["Acme Sales", "Acme Ltd", "Bob Smith"]
    assert [item["name"] for item in tree[0]["children"]] == ["Acme Sales North"]
    assert tree[0]["children"][0]["children"] == []
