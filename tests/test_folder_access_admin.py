"""Folder access is edited on the Wagtail group page (and on the folder's own page)."""

import re

import pytest
from django.contrib.auth.models import Group

from tests.factories import FolderFactory, UserFactory
from wagtail_crm.models import FolderAccess

pytestmark = pytest.mark.django_db


def form_fields(html):
    """The name/value pairs a browser would submit from the page's inputs and selected options."""
    data = {}
    for tag in re.findall(r"<input[^>]*>", html):
        name = re.search(r'name="([^"]+)"', tag)
        if (
            not name
            or re.search(r'type="(checkbox|radio|submit|button)"', tag)
            and "checked" not in tag
        ):
            continue
        value = re.search(r'value="([^"]*)"', tag)
        data.setdefault(name.group(1), value.group(1) if value else "")
    for select in re.findall(r"<select[^>]*name=\"([^\"]+)\"[^>]*>(.*?)</select>", html, re.S):
        chosen = re.search(r'<option value="([^"]*)"[^>]*selected', select[1])
        if chosen:
            data[select[0]] = chosen.group(1)
    return data


def group_page_data(admin_client, group):
    html = admin_client.get(f"/admin/groups/edit/{group.pk}/").content.decode()
    assert "CRM folders" in html
    data = form_fields(html)
    data["name"] = group.name
    return data


def test_group_page_grants_and_changes_folder_access(admin_client):
    sales, tech = FolderFactory(name="Sales"), FolderFactory(name="Tech")
    group = Group.objects.create(name="Sales team")
    data = group_page_data(admin_client, group)
    data.update(
        {
            "crm_folder_access-TOTAL_FORMS": "2",
            "crm_folder_access-0-folder": str(sales.pk),
            "crm_folder_access-0-level": "contribute",
            "crm_folder_access-1-folder": str(tech.pk),
            "crm_folder_access-1-level": "view",
        }
    )
    response = admin_client.post(f"/admin/groups/edit/{group.pk}/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    assert {(a.folder.name, a.level) for a in group.crm_folder_access.all()} == {
        ("Sales", "contribute"),
        ("Tech", "view"),
    }

    data = group_page_data(admin_client, group)
    assert data["crm_folder_access-INITIAL_FORMS"] == "2"
    rows = {data[f"crm_folder_access-{i}-folder"]: i for i in range(2)}
    data[f"crm_folder_access-{rows[str(sales.pk)]}-level"] = "manage"
    data[f"crm_folder_access-{rows[str(tech.pk)]}-DELETE"] = "1"
    response = admin_client.post(f"/admin/groups/edit/{group.pk}/", data)
    assert response.status_code == 302
    assert [(a.folder.name, a.level) for a in group.crm_folder_access.all()] == [
        ("Sales", "manage")
    ]


def test_the_same_folder_twice_is_refused_and_nothing_changes(admin_client):
    sales = FolderFactory(name="Sales")
    group = Group.objects.create(name="Sales team")
    FolderAccess.objects.create(folder=sales, group=group, level="view")
    data = group_page_data(admin_client, group)
    data.update(
        {
            "crm_folder_access-TOTAL_FORMS": "2",
            "crm_folder_access-1-folder": str(sales.pk),
            "crm_folder_access-1-level": "manage",
        }
    )
    response = admin_client.post(f"/admin/groups/edit/{group.pk}/", data)
    assert response.status_code == 200
    assert "Each folder can appear once; Sales appear" in response.content.decode()
    assert [a.level for a in group.crm_folder_access.all()] == ["view"]


def test_personal_folders_are_not_offered(admin_client):
    FolderFactory(name="Shared")
    FolderFactory(name="Private of someone", owner=UserFactory(username="someone"))
    group = Group.objects.create(name="Anyone")
    html = admin_client.get(f"/admin/groups/edit/{group.pk}/").content.decode()
    assert "Shared" in html
    assert "Private of someone" not in html


def folder_form(folder, **extra):
    data = {
        "name": folder.name,
        "description": "",
        "owner": "",
        "access-TOTAL_FORMS": "0",
        "access-INITIAL_FORMS": "0",
        "access-MIN_NUM_FORMS": "0",
        "access-MAX_NUM_FORMS": "1000",
    }
    data.update(extra)
    return data


def test_folder_page_grants_group_access(admin_client):
    folder = FolderFactory(name="Sales")
    group = Group.objects.create(name="Sales team")
    response = admin_client.post(
        f"/admin/crm/folders/edit/{folder.pk}/",
        folder_form(
            folder,
            **{
                "access-TOTAL_FORMS": "1",
                "access-0-group": str(group.pk),
                "access-0-level": "manage",
                "access-0-id": "",
                "access-0-ORDER": "1",
            },
        ),
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    assert [(a.group.name, a.level) for a in folder.access.all()] == [("Sales team", "manage")]
    html = admin_client.get(f"/admin/crm/folders/edit/{folder.pk}/").content.decode()
    assert "Group access" in html


def test_a_personal_folder_cannot_be_shared_with_groups(admin_client):
    folder = FolderFactory(name="Mine")
    owner = UserFactory(username="owner")
    group = Group.objects.create(name="Everyone")
    response = admin_client.post(
        f"/admin/crm/folders/edit/{folder.pk}/",
        folder_form(
            folder,
            owner=str(owner.pk),
            **{
                "access-TOTAL_FORMS": "1",
                "access-0-group": str(group.pk),
                "access-0-level": "view",
                "access-0-id": "",
                "access-0-ORDER": "1",
            },
        ),
    )
    assert response.status_code == 200
    assert "A personal folder belongs to its owner alone" in response.content.decode()
    folder.refresh_from_db()
    assert folder.owner is None
    assert not folder.access.exists()
