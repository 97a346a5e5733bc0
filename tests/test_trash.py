import pytest
from django.contrib.contenttypes.models import ContentType
from wagtail.models import ModelLogEntry, Revision
from wagtail.search.backends import get_search_backend

from tests.factories import (
    ContactMethodFactory,
    FolderFactory,
    OrganizationFactory,
    PersonFactory,
    TicketFactory,
    admin_user,
    credit_account,
    ensure_trash_log_actions,
    folder_user,
    relate,
)
from wagtail_crm.models import Contact, Organization, Person, Relationship

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def trash_log_actions():
    ensure_trash_log_actions()


def log_actions(contact, model):
    return list(
        ModelLogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(model, for_concrete_model=False),
            object_id=str(contact.pk),
        ).order_by("pk").values_list("action", flat=True)
    )


def search_ids(query):
    return [c.pk for c in get_search_backend().search(query, Contact.objects.all())]


def test_delete_asks_to_move_to_trash(admin_client):
    person = PersonFactory(given_name="Ada", family_name="Lovelace")
    response = admin_client.get(f"/admin/crm/people/delete/{person.pk}/")
    assert response.status_code == 200
    assert "Move Ada Lovelace to the trash?" in response.content.decode()
    assert "Yes, move to trash" in response.content.decode()
    assert Contact.objects.filter(pk=person.pk).exists()


def test_delete_moves_to_trash_logs_and_redirects(admin_client, superuser):
    person = PersonFactory(given_name="Ada", family_name="Lovelace")
    ContactMethodFactory(contact=person, value="ada@example.org")
    response = admin_client.post(f"/admin/crm/people/delete/{person.pk}/", follow=True)
    assert response.redirect_chain[-1][0] == "/admin/crm/people/"
    assert "Person &#x27;Ada Lovelace&#x27; moved to the trash." in response.content.decode()

    trashed = Contact.all_objects.get(pk=person.pk)
    assert trashed.deleted_at is not None
    assert trashed.methods.count() == 1  # nothing deleted
    assert not Contact.objects.filter(pk=person.pk).exists()
    assert log_actions(person, Person) == ["wagtail_crm.trash"]
    assert ModelLogEntry.objects.get(action="wagtail_crm.trash").user == superuser


def test_trashed_contacts_answer_404_on_contact_urls(admin_client):
    person = PersonFactory()
    org = OrganizationFactory()
    person.move_to_trash()
    org.move_to_trash()
    for url in [
        f"/admin/crm/people/inspect/{person.pk}/",
        f"/admin/crm/people/edit/{person.pk}/",
        f"/admin/crm/people/delete/{person.pk}/",
        f"/admin/crm/people/history/{person.pk}/",
        f"/admin/crm/organisations/inspect/{org.pk}/",
        f"/admin/crm/organisations/edit/{org.pk}/",
    ]:
        assert admin_client.get(url).status_code == 404, url


def test_trash_lists_trashed_contacts_newest_first(admin_client):
    live = PersonFactory(given_name="Living", family_name="Person")
    first = PersonFactory(given_name="First", family_name="Trashed")
    second = OrganizationFactory(organization_name="Second Trashed Ltd")
    first.move_to_trash()
    second.move_to_trash()

    response = admin_client.get("/admin/crm/trash/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "Living Person" not in html
    assert html.index("Second Trashed Ltd") < html.index("First Trashed")
    assert "Organisation" in html and "Person" in html
    assert f"/admin/crm/trash/restore/{first.pk}/" in html
    assert f"/admin/crm/trash/purge/{second.pk}/" in html
    assert live.pk


def test_trash_search_finds_trashed_contacts(admin_client):
    PersonFactory(given_name="Grace", family_name="Hopper").move_to_trash()
    PersonFactory(given_name="Alan", family_name="Turing").move_to_trash()
    html = admin_client.get("/admin/crm/trash/?q=hopper").content.decode()
    assert "Grace Hopper" in html
    assert "Alan Turing" not in html


def test_restore_confirms_then_restores_reindexes_and_logs(admin_client):
    person = PersonFactory(given_name="Ada", family_name="Lovelace")
    person.move_to_trash()
    assert person.pk not in search_ids("Lovelace")

    response = admin_client.get(f"/admin/crm/trash/restore/{person.pk}/")
    assert response.status_code == 200
    assert "Restore Ada Lovelace from the trash?" in response.content.decode()
    assert Contact.all_objects.get(pk=person.pk).in_trash

    response = admin_client.post(f"/admin/crm/trash/restore/{person.pk}/", follow=True)
    assert response.redirect_chain[-1][0] == "/admin/crm/trash/"
    assert "restored." in response.content.decode()
    assert Contact.objects.filter(pk=person.pk).exists()
    assert person.pk in search_ids("Lovelace")
    assert log_actions(person, Person) == ["wagtail_crm.restore"]
    assert admin_client.get(f"/admin/crm/people/inspect/{person.pk}/").status_code == 200


def test_purge_confirms_then_deletes_for_good(admin_client):
    org = OrganizationFactory(organization_name="Gone Ltd")
    ContactMethodFactory(contact=org, value="info@gone.example")
    org_proxy = Organization.objects.get(pk=org.pk)
    org_proxy.save_revision()
    org.move_to_trash()

    response = admin_client.get(f"/admin/crm/trash/purge/{org.pk}/")
    assert response.status_code == 200
    assert "Delete Gone Ltd permanently? This cannot be undone." in response.content.decode()

    response = admin_client.post(f"/admin/crm/trash/purge/{org.pk}/", follow=True)
    assert response.redirect_chain[-1][0] == "/admin/crm/trash/"
    assert "deleted permanently" in response.content.decode()
    assert not Contact.all_objects.filter(pk=org.pk).exists()
    assert not Revision.objects.filter(object_id=str(org.pk)).exists()
    assert log_actions(org, Organization) == ["wagtail.delete"]


def test_purging_says_which_relationships_go_with_the_contact(admin_client):
    org = OrganizationFactory(organization_name="Gone Ltd")
    ann, bob = PersonFactory(), PersonFactory()
    relate("employee-of", employee=ann, employer=org)
    relate("employee-of", employee=bob, employer=org)
    org.move_to_trash()

    response = admin_client.get(f"/admin/crm/trash/purge/{org.pk}/")
    assert "2 relationships cannot stand without this contact" in response.content.decode()

    admin_client.post(f"/admin/crm/trash/purge/{org.pk}/")
    assert not Relationship.objects.exists()


def test_a_contact_that_tickets_need_stays_in_the_trash(admin_client):
    person = PersonFactory(given_name="Ann", family_name="Asker")
    TicketFactory(requester=person)
    credit_account(person, minutes=60)
    person.move_to_trash()

    page = admin_client.get(f"/admin/crm/trash/purge/{person.pk}/").content.decode()
    assert "Ann Asker cannot be deleted permanently" in page
    assert "other records still need it (1 credit account, 1 ticket)" in page
    assert "Yes, delete permanently" not in page

    response = admin_client.post(f"/admin/crm/trash/purge/{person.pk}/")
    assert response.status_code == 200
    assert Contact.all_objects.filter(pk=person.pk).exists()


def test_live_contacts_cannot_be_restored_or_purged(admin_client):
    person = PersonFactory()
    assert admin_client.get(f"/admin/crm/trash/restore/{person.pk}/").status_code == 404
    assert admin_client.post(f"/admin/crm/trash/purge/{person.pk}/").status_code == 404
    assert Contact.objects.filter(pk=person.pk).exists()


def assert_denied(response):
    """Wagtail answers a PermissionDenied in the admin with a redirect to the dashboard."""
    assert response.status_code == 302
    assert response.url == "/admin/"


def test_user_without_delete_permission_cannot_reach_the_trash(client):
    person = PersonFactory()
    person.move_to_trash()
    user = admin_user("editor", "wagtail_crm.view_person", "wagtail_crm.change_person")
    client.force_login(user)

    response = client.get("/admin/crm/trash/", follow=True)
    assert response.redirect_chain == [("/admin/", 302)]
    assert "Sorry, you do not have permission to access this area." in response.content.decode()
    assert_denied(client.get("/admin/crm/trash/results/"))
    # The trashed contact is not among those the user may restore or purge.
    assert client.get(f"/admin/crm/trash/restore/{person.pk}/").status_code == 404
    assert client.post(f"/admin/crm/trash/restore/{person.pk}/").status_code == 404
    assert client.post(f"/admin/crm/trash/purge/{person.pk}/").status_code == 404
    assert Contact.all_objects.get(pk=person.pk).in_trash
    assert "/admin/crm/trash/" not in client.get("/admin/").content.decode()


def test_contributor_cannot_trash_a_contact_they_do_not_own(client):
    person = PersonFactory()
    client.force_login(folder_user("contributor", (person.folder, "contribute")))
    assert_denied(client.post(f"/admin/crm/people/delete/{person.pk}/"))
    assert Contact.objects.filter(pk=person.pk).exists()


def test_contact_outside_the_users_folders_cannot_be_trashed_and_is_not_found(client):
    person = PersonFactory()
    client.force_login(folder_user("outsider", (FolderFactory(name="Elsewhere"), "manage")))
    assert client.post(f"/admin/crm/people/delete/{person.pk}/").status_code == 404
    assert Contact.objects.filter(pk=person.pk).exists()


def test_managers_see_and_handle_the_trash_of_their_folders_only(client):
    sales, tech = FolderFactory(name="Sales"), FolderFactory(name="Tech")
    person = PersonFactory(given_name="Trashed", family_name="Person", folder=sales)
    org = OrganizationFactory(organization_name="Trashed Org", folder=tech)
    person.move_to_trash()
    org.move_to_trash()
    client.force_login(folder_user("sales_manager", (sales, "manage"), (tech, "view")))

    html = client.get("/admin/crm/trash/").content.decode()
    assert "Trashed Person" in html
    assert "Trashed Org" not in html
    assert "/admin/crm/trash/" in client.get("/admin/").content.decode()
    assert client.post(f"/admin/crm/trash/purge/{org.pk}/").status_code == 404
    assert client.post(f"/admin/crm/trash/restore/{org.pk}/").status_code == 404
    assert client.post(f"/admin/crm/trash/restore/{person.pk}/").status_code == 302
    assert Contact.objects.filter(pk=person.pk).exists()


def test_contributors_cannot_restore_even_their_own_contacts(client):
    sales = FolderFactory(name="Sales")
    user = folder_user("contributor", (sales, "contribute"))
    person = PersonFactory(family_name="Mine", folder=sales, owner=user)
    person.move_to_trash()
    client.force_login(user)
    assert client.post(f"/admin/crm/trash/restore/{person.pk}/").status_code == 404
    assert not Contact.objects.filter(pk=person.pk).exists()
    assert "Mine" not in client.get("/admin/crm/trash/", follow=True).content.decode()


def test_trash_policy_follows_folder_management(superuser):
    from wagtail_crm.snippets.trash import trash_permission_policy as policy

    sales = FolderFactory(name="Sales")
    manager = folder_user("manager", (sales, "manage"))
    contributor = folder_user("contributor", (sales, "contribute"))
    for user in (superuser, manager):
        assert policy.user_has_permission(user, "delete")
    assert not policy.user_has_permission(contributor, "delete")
    assert not policy.user_has_permission(superuser, "change")
    assert set(policy.users_with_permission("delete")) == {superuser, manager}
