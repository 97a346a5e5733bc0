import pytest
from django.contrib.contenttypes.models import ContentType
from wagtail.models import ModelLogEntry
from wagtail.search.backends import get_search_backend

from tests.factories import (
    FolderFactory,
    OrganizationFactory,
    PersonFactory,
    ensure_trash_log_actions,
    folder_user,
    reindex,
)
from wagtail_crm.models import Contact, ContactTag, Person

pytestmark = pytest.mark.django_db

PEOPLE = "/admin/crm/people/"


def action_url(action, contacts=(), model="person", **params):
    query = "&".join(
        [f"id={contact.pk}" for contact in contacts]
        + [f"{key}={value}" for key, value in params.items()]
    )
    return f"/admin/bulk/wagtail_crm/{model}/{action}/?{query}&next={PEOPLE}"


def tag_names(contact):
    return sorted(
        ContactTag.objects.filter(content_object_id=contact.pk).values_list("tag__name", flat=True)
    )


def log_entries(contact, action):
    return ModelLogEntry.objects.filter(object_id=str(contact.pk), action=action)


@pytest.fixture
def ada_and_bob():
    return PersonFactory(given_name="Ada", family_name="Zebra"), PersonFactory(
        given_name="Bob", family_name="Zebra"
    )


def test_each_action_is_offered_on_the_listing(admin_client, ada_and_bob):
    html = admin_client.get(PEOPLE).content.decode()

    for action in ("crm_tag", "crm_move", "delete"):
        assert f"/admin/bulk/wagtail_crm/person/{action}/" in html


@pytest.mark.parametrize(
    ("action", "question", "button"),
    [
        ("crm_tag", "Add these tags to 2 people", "Yes, add the tags"),
        ("crm_move", "Move 2 people to another folder", "Yes, move"),
        (
            "delete",
            "Move 2 people to the trash? They can be restored from the trash.",
            "Yes, move to the trash",
        ),
    ],
)
def test_confirmation_lists_the_contacts(admin_client, ada_and_bob, action, question, button):
    response = admin_client.get(action_url(action, ada_and_bob))

    html = response.content.decode()
    assert response.status_code == 200
    assert question in html
    assert button in html
    assert "Ada Zebra" in html and "Bob Zebra" in html


def test_confirmation_for_one_organisation(admin_client):
    acme = OrganizationFactory(organization_name="Acme")

    html = admin_client.get(action_url("crm_move", [acme], model="organization")).content.decode()

    assert "Move 1 organisation to another folder" in html
    assert 'name="folder"' in html


# Tag -------------------------------------------------------------------------


def test_tagging_adds_the_tags_once_and_logs_it(admin_client, ada_and_bob):
    ada, bob = ada_and_bob
    ada.tags.add("vip")
    ada.save()

    response = admin_client.post(
        action_url("crm_tag", ada_and_bob), {"tags": 'vip, "big donor"'}, follow=True
    )

    assert response.redirect_chain[-1][0] == PEOPLE
    assert "Tagged 2 people with &#x27;big donor&#x27;, &#x27;vip&#x27;." in (
        response.content.decode()
    )
    assert tag_names(ada) == tag_names(bob) == ["big donor", "vip"]
    entry = log_entries(bob, "wagtail.edit").get()
    assert entry.data == {"tags_added": ["big donor", "vip"]}
    assert entry.content_type == ContentType.objects.get_for_model(Person, False)
    assert log_entries(ada, "wagtail.edit").count() == 1


@pytest.mark.parametrize("tags", ["", " , ,"])
def test_tagging_without_tags_is_refused(admin_client, ada_and_bob, tags):
    response = admin_client.post(action_url("crm_tag", ada_and_bob), {"tags": tags})

    html = response.content.decode()
    assert response.status_code == 200
    assert "Enter at least one tag." in html
    assert "Nothing was changed" in html
    assert not ContactTag.objects.exists()


def test_organisations_can_be_tagged(admin_client):
    acme = OrganizationFactory(organization_name="Acme")

    response = admin_client.post(
        action_url("crm_tag", [acme], model="organization"), {"tags": "supplier"}, follow=True
    )

    assert "Tagged 1 organisation with &#x27;supplier&#x27;." in response.content.decode()
    assert tag_names(acme) == ["supplier"]


# Move to folder ------------------------------------------------------------------


def test_moving_to_a_folder_moves_and_logs(admin_client, ada_and_bob):
    ada, bob = ada_and_bob
    old_folder = ada.folder
    suppliers = FolderFactory(name="Suppliers")

    response = admin_client.post(
        action_url("crm_move", ada_and_bob), {"folder": suppliers.pk}, follow=True
    )

    assert "Moved 2 people to the folder &#x27;Suppliers&#x27;." in response.content.decode()
    assert set(Contact.objects.filter(folder=suppliers)) == {ada, bob}
    entry = log_entries(ada, "wagtail.move").get()
    assert entry.message == f"Moved from '{old_folder.name}' to 'Suppliers'"


@pytest.mark.parametrize(
    ("folder", "error"),
    [
        ("", "Choose the folder to move them to."),
        ("999999", "That folder does not exist (any more): choose another."),
    ],
)
def test_moving_needs_an_existing_folder(admin_client, ada_and_bob, folder, error):
    folders = {contact.pk: contact.folder_id for contact in ada_and_bob}

    response = admin_client.post(action_url("crm_move", ada_and_bob), {"folder": folder})

    assert response.status_code == 200
    assert error in response.content.decode()
    assert dict(Contact.objects.values_list("pk", "folder_id")) == folders
    assert not ModelLogEntry.objects.filter(action="wagtail.move").exists()


# Move to trash ---------------------------------------------------------------


def test_trashing_hides_contacts_from_listing_and_search(admin_client, ada_and_bob):
    ensure_trash_log_actions()
    ada, bob = ada_and_bob
    keep = PersonFactory(given_name="Cy", family_name="Zebra")
    reindex(ada, bob, keep)

    response = admin_client.post(action_url("delete", ada_and_bob), follow=True)

    html = response.content.decode()
    assert "Moved 2 people to the trash." in html
    assert "Ada Zebra" not in html and "Cy Zebra" in html
    assert set(Contact.all_objects.trashed()) == {ada, bob}
    found = get_search_backend().autocomplete("Zebra", Contact.all_objects.all())
    assert list(found) == [keep]
    assert log_entries(ada, "wagtail_crm.trash").count() == 1


def test_contacts_already_in_the_trash_are_not_found(admin_client, ada_and_bob):
    ada, _bob = ada_and_bob
    ada.move_to_trash()

    response = admin_client.get(action_url("delete", [ada]))

    assert response.status_code == 404


# Everything in the listing -------------------------------------------------------


def test_select_all_follows_the_listing_filters_and_search(admin_client):
    blue = FolderFactory(name="Blue")
    ann = PersonFactory(given_name="Ann", family_name="Zed", folder=blue)
    other_folder = PersonFactory(given_name="Bo", family_name="Zed")
    not_found = PersonFactory(given_name="Cy", family_name="Young", folder=blue)
    reindex(ann, other_folder, not_found)
    url = action_url("crm_tag", id="all", folder=blue.pk, q="Zed")

    assert "Ann Zed" in admin_client.get(url).content.decode()
    admin_client.post(url, {"tags": "blue-zed"})

    assert tag_names(ann) == ["blue-zed"]
    assert tag_names(other_folder) == tag_names(not_found) == []


# Permissions -----------------------------------------------------------------------


def grants(contacts, level):
    return [(contact.folder, level) for contact in contacts]


def test_contacts_the_user_may_not_change_are_left_alone(client, ada_and_bob):
    suppliers = FolderFactory(name="Suppliers")
    client.force_login(folder_user("viewer", *grants(ada_and_bob, "view"), (suppliers, "manage")))

    confirmation = client.get(action_url("crm_move", ada_and_bob))
    client.post(action_url("crm_move", ada_and_bob), {"folder": suppliers.pk})

    assert "You don't have permission to change these people" in confirmation.content.decode()
    assert not Contact.objects.filter(folder=suppliers).exists()


def test_moving_needs_managing_the_destination(client, ada_and_bob):
    elsewhere = FolderFactory(name="Elsewhere")
    client.force_login(folder_user("manager", *grants(ada_and_bob, "manage")))
    response = client.post(action_url("crm_move", ada_and_bob), {"folder": elsewhere.pk})
    assert response.status_code == 200
    assert not Contact.objects.filter(folder=elsewhere).exists()


def test_trashing_needs_the_delete_permission(client, ada_and_bob):
    ensure_trash_log_actions()
    client.force_login(folder_user("contributor", *grants(ada_and_bob, "contribute")))

    confirmation = client.get(action_url("delete", ada_and_bob))
    client.post(action_url("delete", ada_and_bob))

    html = confirmation.content.decode()
    assert "You don't have permission to move these people to the trash" in html
    assert not Contact.all_objects.trashed().exists()


def test_contacts_outside_the_users_folders_are_never_named(client, ada_and_bob):
    ada, bob = ada_and_bob
    client.force_login(folder_user("half", (ada.folder, "manage")))
    html = client.get(action_url("crm_tag", ada_and_bob)).content.decode()
    assert "Ada Zebra" in html
    assert "Bob Zebra" not in html
    client.post(action_url("crm_tag", ada_and_bob), {"tags": "seen"})
    assert tag_names(ada) == ["seen"]
    assert tag_names(bob) == []


def test_the_bulk_delete_of_contacts_moves_them_to_the_trash(admin_client, ada_and_bob):
    ensure_trash_log_actions()
    ada, bob = ada_and_bob
    admin_client.post(action_url("delete", ada_and_bob))
    assert set(Contact.all_objects.trashed()) == {ada, bob}
    assert not Contact.objects.filter(pk__in=[ada.pk, bob.pk]).exists()
