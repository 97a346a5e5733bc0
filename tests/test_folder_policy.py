"""The folder access policy itself: levels, ownership, personal folders, querysets."""

import pytest
from django.contrib.auth.models import Group

from tests.factories import FolderFactory, PersonFactory, SuperuserFactory, UserFactory
from wagtail_crm.models import Contact, FolderAccess
from wagtail_crm.permissions import contact_policy, folder_levels, folders_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    sales, tech = FolderFactory(name="Sales"), FolderFactory(name="Tech")
    groups = {name: Group.objects.create(name=name) for name in ("viewers", "seniors", "admins")}
    FolderAccess.objects.create(folder=sales, group=groups["viewers"], level="view")
    FolderAccess.objects.create(folder=sales, group=groups["seniors"], level="contribute")
    FolderAccess.objects.create(folder=sales, group=groups["admins"], level="manage")
    users = {}
    for name in ("viewer", "senior", "admin", "nobody"):
        users[name] = UserFactory(username=name)
    users["viewer"].groups.add(groups["viewers"])
    users["senior"].groups.add(groups["seniors"], groups["viewers"])
    users["admin"].groups.add(groups["admins"])
    mine = FolderFactory(name="My contacts (senior)", owner=users["senior"])
    contacts = {
        "senior_own": PersonFactory(folder=sales, owner=users["senior"]),
        "sales_other": PersonFactory(folder=sales, owner=users["admin"]),
        "tech": PersonFactory(folder=tech),
        "personal": PersonFactory(folder=mine, owner=users["senior"]),
    }
    return users, contacts, sales, tech, mine


def visible(user, action="view"):
    return set(contact_policy.instances_user_has_permission_for(user, action))


def test_view_level_sees_folder_only(world):
    users, contacts, *_ = world
    assert visible(users["viewer"]) == {contacts["senior_own"], contacts["sales_other"]}
    assert visible(users["viewer"], "change") == set()
    assert not contact_policy.user_has_permission(users["viewer"], "add")


def test_contribute_edits_own_only_and_sees_personal_folder(world):
    users, contacts, *_ = world
    senior = users["senior"]
    assert visible(senior) == {
        contacts["senior_own"],
        contacts["sales_other"],
        contacts["personal"],
    }
    assert visible(senior, "change") == {contacts["senior_own"], contacts["personal"]}
    assert contact_policy.user_has_permission_for_instance(senior, "delete", contacts["senior_own"])
    assert not contact_policy.user_has_permission_for_instance(
        senior, "change", contacts["sales_other"]
    )
    assert not contact_policy.user_has_permission_for_instance(
        senior, "restore", contacts["senior_own"]
    )


def test_manage_edits_all_in_folder_but_not_personal_folders(world):
    users, contacts, *_ = world
    admin = users["admin"]
    assert visible(admin, "change") == {contacts["senior_own"], contacts["sales_other"]}
    assert contact_policy.user_has_permission_for_instance(admin, "purge", contacts["sales_other"])
    assert contacts["personal"] not in visible(admin)


def test_access_on_a_personal_folder_is_ignored(world):
    users, contacts, _sales, _tech, mine = world
    FolderAccess.objects.create(folder=mine, group=Group.objects.get(name="admins"), level="manage")
    assert contacts["personal"] not in visible(UserFactory(username="admin"))


def test_no_access_no_contacts(world):
    users, *_ = world
    assert visible(users["nobody"]) == set()
    assert not contact_policy.user_has_any_permission(users["nobody"], ["view", "add"])


def test_superuser_sees_everything(world):
    _users, contacts, *_ = world
    assert visible(SuperuserFactory(username="root")) == set(contacts.values())


def test_inactive_user_sees_nothing(world):
    users, *_ = world
    users["admin"].is_active = False
    assert visible(users["admin"]) == set()


def test_levels_are_cached_per_user_object(world, django_assert_num_queries):
    users, *_ = world
    user = users["senior"]
    folder_levels(user)
    with django_assert_num_queries(1):
        list(contact_policy.instances_user_has_permission_for(user, "view"))


def test_folders_for_adding_and_moving(world):
    users, _contacts, sales, _tech, mine = world
    assert set(folders_for(users["senior"], "add")) == {sales, mine}
    assert set(folders_for(users["senior"], "reassign")) == {mine}
    assert set(folders_for(users["viewer"], "add")) == set()


def test_users_with_permission_for_instance(world):
    users, contacts, *_ = world
    editors = set(
        contact_policy.users_with_permission_for_instance("change", contacts["senior_own"])
    )
    assert editors == {users["admin"], users["senior"]}
    assert set(contact_policy.users_with_permission_for_instance("view", contacts["personal"])) == {
        users["senior"]
    }


def test_trashed_contacts_are_filtered_the_same_way(world):
    users, contacts, *_ = world
    contacts["sales_other"].move_to_trash()
    trashed = contact_policy.filter_queryset(
        Contact.all_objects.trashed(), users["admin"], "restore"
    )
    assert list(trashed) == [Contact.all_objects.get(pk=contacts["sales_other"].pk)]
    assert not contact_policy.filter_queryset(
        Contact.all_objects.trashed(), users["senior"], "restore"
    ).exists()
