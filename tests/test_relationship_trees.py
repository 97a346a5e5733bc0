"""Tree queries over relationships: subtree, ancestors, walk."""

import datetime
from functools import partial

import pytest

from tests.factories import FolderFactory, OrganizationFactory, PersonFactory, relate
from wagtail_crm.models import Contact
from wagtail_crm.services.relationships import ancestors, load_contacts, subtree, walk

pytestmark = pytest.mark.django_db

YESTERDAY = datetime.date.today() - datetime.timedelta(days=1)


def org_in(name, **fields):
    return OrganizationFactory(organization_name=name, **fields)


def person_in(given, family, **fields):
    return PersonFactory(given_name=given, family_name=family, **fields)


@pytest.fixture
def acme():
    """Acme > Sales > (Europe, Americas); people in each; Bob and Cy report to Ann."""
    folder = FolderFactory(name="Acme folder")
    org, person = partial(org_in, folder=folder), partial(person_in, folder=folder)
    c = {
        "acme": org("Acme"), "sales": org("Sales"), "europe": org("Europe"),
        "americas": org("Americas"), "ann": person("Ann", "Zeta"),
        "bob": person("Bob", "Young"), "cy": person("Cy", "Xu"), "dee": person("Dee", "Able"),
    }
    relate("department-of", department=c["sales"], parent=c["acme"])
    relate("department-of", department=c["europe"], parent=c["sales"])
    relate("department-of", department=c["americas"], parent=c["sales"])
    relate("employee-of", employee=c["ann"], employer=c["sales"])
    relate("employee-of", employee=c["bob"], employer=c["europe"])
    relate("employee-of", employee=c["cy"], employer=c["europe"])
    relate("employee-of", employee=c["dee"], employer=c["acme"])
    relate("reports-to", report=c["bob"], manager=c["ann"])
    relate("reports-to", report=c["cy"], manager=c["ann"])
    return c


def names(nodes):
    return [(node.display_name, node.depth) for node in nodes]


def test_subtree_in_display_order(acme, django_assert_num_queries):
    with django_assert_num_queries(1):
        nodes = subtree(acme["acme"])

    # Organisations before people at each level, then by type and role order and name; Bob
    # and Cy appear under Europe and again under Ann, who manages them.
    assert names(nodes) == [
        ("Acme", 0),
        ("Sales", 1), ("Americas", 2), ("Europe", 2), ("Cy Xu", 3), ("Bob Young", 3),
        ("Ann Zeta", 2), ("Cy Xu", 3), ("Bob Young", 3),
        ("Dee Able", 1),
    ]
    by_name = {(n.display_name, n.parent_id): n for n in nodes}
    sales = by_name["Sales", acme["acme"].pk]
    assert (sales.role_name, sales.path) == ("Department", (acme["acme"].pk, acme["sales"].pk))
    assert by_name["Ann Zeta", acme["sales"].pk].role_name == "Employee"
    assert by_name["Bob Young", acme["ann"].pk].role_name == "Direct report"
    assert nodes[0].from_id is None and nodes[0].relationship_id is None


def test_subtree_depth_limit_and_types(acme):
    assert names(subtree(acme["acme"], depth=1)) == [("Acme", 0), ("Sales", 1), ("Dee Able", 1)]
    departments = subtree(acme["acme"].pk, types=["department-of"])
    assert names(departments) == [("Acme", 0), ("Sales", 1), ("Americas", 2), ("Europe", 2)]


def test_subtree_leaves_out_past_relationships_and_trashed_contacts(acme):
    relate("employee-of", employee=person_in("Old", "Timer"), employer=acme["americas"],
           fields={"end_date": YESTERDAY})
    acme["europe"].move_to_trash()

    current = [n.display_name for n in subtree(acme["sales"])]
    everything = [n.display_name for n in subtree(acme["sales"], include_past=True)]

    assert current == ["Sales", "Americas", "Ann Zeta", "Cy Xu", "Bob Young"]
    assert "Old Timer" in everything and "Europe" not in everything


def test_visible_folders_mark_hidden_contacts(acme):
    secret = FolderFactory(name="Secret")
    Contact.all_objects.filter(pk=acme["europe"].pk).update(folder=secret)

    nodes = subtree(acme["sales"], types=["department-of"], visible={acme["acme"].folder_id})
    by_callable = subtree(acme["sales"], types=["department-of"],
                          visible=lambda node: node.display_name != "Americas")

    assert [(n.display_name, n.hidden) for n in nodes] == [
        ("Sales", False), ("Americas", False), ("Europe", True)]
    assert [n.hidden for n in by_callable] == [False, True, False]


def test_ancestors_chain_up_to_the_top(acme, django_assert_num_queries):
    with django_assert_num_queries(1):
        chain = ancestors(acme["bob"], types=["employee-of", "department-of"])

    assert names(chain) == [("Bob Young", 0), ("Europe", 1), ("Sales", 2), ("Acme", 3)]
    assert [n.role_name for n in chain] == ["", "Employer", "Parent organisation",
                                            "Parent organisation"]
    assert [n.from_id for n in chain[1:]] == [acme["bob"].pk, acme["europe"].pk,
                                              acme["sales"].pk]


def test_ancestors_follow_every_hierarchical_type_by_default(acme):
    chain = ancestors(acme["bob"])

    # Europe (employer) and Ann (manager) at depth 1; Ann's department joins Europe's.
    assert names(chain) == [("Bob Young", 0), ("Europe", 1), ("Ann Zeta", 1), ("Sales", 2),
                            ("Sales", 2), ("Acme", 3), ("Acme", 3)]
    assert names(ancestors(acme["bob"], depth=1)) == names(chain)[:3]


def test_walk_distances(acme, django_assert_num_queries):
    eve = person_in("Eve", "Young")
    relate("spouse-of", spouse=[acme["bob"], eve])

    with django_assert_num_queries(1):
        reached = walk(eve, depth=2)

    assert [(n.display_name, n.distance) for n in reached] == [
        ("Eve Young", 0), ("Bob Young", 1), ("Europe", 2), ("Ann Zeta", 2)]
    far = {n.display_name: n.distance for n in walk(eve, depth=4)}
    assert far["Cy Xu"] == 3 and far["Sales"] == 3 and far["Acme"] == 4
    assert "Dee Able" not in far  # five hops away
    assert [n.display_name for n in walk(eve, depth=4, types=["spouse-of"])] == [
        "Eve Young", "Bob Young"]


def test_walk_neither_lists_nor_crosses_contacts_in_the_trash(acme):
    eve = person_in("Eve", "Young")
    relate("spouse-of", spouse=[acme["bob"], eve])
    acme["bob"].move_to_trash()

    assert [n.display_name for n in walk(eve, depth=4)] == ["Eve Young"]
    # The starting contact is always listed and followed.
    assert [n.display_name for n in walk(acme["bob"], depth=1)] == [
        "Bob Young", "Europe", "Eve Young", "Ann Zeta"]


def test_walk_over_an_opportunity_links_every_participant(acme):
    customer, rep = org_in("Globex"), person_in("Rep", "Smith")
    relate("sales-opportunity", customer=customer, customer_contact=acme["dee"],
           sales_representative=rep)

    reached = {n.display_name: n.distance for n in walk(rep, depth=1)}

    assert reached == {"Rep Smith": 0, "Dee Able": 1, "Globex": 1}


def test_cycle_guard_with_a_hand_inserted_cycle():
    a, b, c = org_in("A"), org_in("B"), org_in("C")
    relate("department-of", validate=False, department=b, parent=a)
    relate("department-of", validate=False, department=c, parent=b)
    relate("department-of", validate=False, department=a, parent=c)

    below = subtree(a)
    above = ancestors(a)
    reached = walk(a, depth=10)

    assert names(below) == [("A", 0), ("B", 1), ("C", 2)]
    assert names(above) == [("A", 0), ("C", 1), ("B", 2)]
    assert [(n.display_name, n.distance) for n in reached] == [("A", 0), ("B", 1), ("C", 1)]


def test_load_contacts_in_one_query(acme, django_assert_num_queries):
    nodes = subtree(acme["sales"], types=["department-of"])

    with django_assert_num_queries(1):
        contacts = load_contacts(nodes, Contact.objects.exclude(pk=acme["europe"].pk))

    assert set(contacts) == {acme["sales"].pk, acme["americas"].pk}
    assert contacts[acme["sales"].pk].display_name == "Sales"
