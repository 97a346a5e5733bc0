import re

import pytest
from wagtail.models import ModelLogEntry

from tests.factories import CustomFieldFactory, ensure_trash_log_actions
from tests.test_contact_form import edit_data, email, person_data
from wagtail_crm.models import Contact

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def trash_log_actions():
    ensure_trash_log_actions()


@pytest.fixture
def edited_person(admin_client):
    """A person created and then renamed through the admin."""
    admin_client.post("/admin/crm/people/add/", person_data(methods=[email("ada@example.org")]))
    person = Contact.objects.get()
    response = admin_client.post(
        f"/admin/crm/people/edit/{person.pk}/", edit_data(person, family_name="King")
    )
    assert response.status_code == 302
    person.refresh_from_db()
    return person


def test_creating_and_editing_make_revisions_and_log_entries(edited_person, superuser):
    revisions = list(edited_person.revisions.order_by("created_at", "pk"))
    assert [r.object_str for r in revisions] == ["Ada Lovelace", "Ada King"]
    assert all(r.user == superuser for r in revisions)
    assert edited_person.latest_revision == revisions[-1]
    entries = ModelLogEntry.objects.filter(object_id=str(edited_person.pk)).order_by("pk")
    assert [(e.action, e.user) for e in entries] == [
        ("wagtail.create", superuser), ("wagtail.edit", superuser),
    ]
    # The revision holds the contact's methods too.
    assert revisions[0].content["methods"][0]["value"] == "ada@example.org"


def test_history_view_shows_who_and_when(admin_client, superuser, edited_person):
    superuser.first_name, superuser.last_name = "Mary", "Somerville"
    superuser.save()
    response = admin_client.get(f"/admin/crm/people/history/{edited_person.pk}/")
    assert response.status_code == 200
    html = response.content.decode()
    start = html.index('class="listing"')
    table = html[start:html.index("</table>", start)]
    created, edited = ModelLogEntry.objects.filter(object_id=str(edited_person.pk)).order_by("pk")
    # Newest first, each with its user and time.
    assert table.index("Edited") < table.index("Created")
    assert table.count("Mary Somerville") == 2
    assert f'datetime="{created.timestamp.isoformat()}"' in table
    assert f'datetime="{edited.timestamp.isoformat()}"' in table


def test_revision_compare_shows_the_name_change(admin_client, edited_person):
    first, second = edited_person.revisions.order_by("created_at", "pk")
    url = (
        f"/admin/crm/people/history/{edited_person.pk}/revisions/compare/"
        f"{first.pk}...{second.pk}/"
    )
    response = admin_client.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Family name" in html
    assert re.search(r'<span class="deletion">\s*Lovelace\s*</span>', html)
    assert re.search(r'<span class="addition">\s*King\s*</span>', html)
    # Unchanged fields are not listed.
    assert "Given name" not in html


def test_history_links_to_the_comparison(admin_client, edited_person):
    html = admin_client.get(f"/admin/crm/people/history/{edited_person.pk}/").content.decode()
    assert f"/admin/crm/people/history/{edited_person.pk}/revisions/compare/" in html


def test_revision_compare_shows_method_and_custom_changes(admin_client):
    CustomFieldFactory(key="member_no", label="Member number", field_type="integer")
    admin_client.post("/admin/crm/people/add/", person_data(methods=[email("ada@example.org")]))
    person = Contact.objects.get()
    data = edit_data(person)
    data["methods-0-value"] = "ada@analytical.example"
    data["custom__member_no"] = "42"
    admin_client.post(f"/admin/crm/people/edit/{person.pk}/", data)

    first, second = person.revisions.order_by("created_at", "pk")
    html = admin_client.get(
        f"/admin/crm/people/history/{person.pk}/revisions/compare/{first.pk}...{second.pk}/"
    ).content.decode()
    assert "Email, phone and web" in html
    assert '<span class="addition">analytical.</span>' in html
    assert "Custom fields" in html
    assert '<span class="addition">Member number: 42</span>' in html


def test_reverting_to_an_earlier_revision_restores_the_name(admin_client, edited_person):
    first = edited_person.revisions.order_by("created_at", "pk").first()
    url = f"/admin/crm/people/history/{edited_person.pk}/revisions/{first.pk}/revert/"
    response = admin_client.get(url)
    assert response.status_code == 200
    assert 'value="Lovelace"' in response.content.decode()
    response = admin_client.post(url, edit_data(edited_person, family_name="Lovelace"))
    assert response.status_code == 302
    edited_person.refresh_from_db()
    assert edited_person.family_name == "Lovelace"
    assert ModelLogEntry.objects.filter(
        object_id=str(edited_person.pk), action="wagtail.revert"
    ).exists()


def test_trash_and_restore_appear_in_the_history(admin_client, edited_person):
    admin_client.post(f"/admin/crm/people/delete/{edited_person.pk}/")
    admin_client.post(f"/admin/crm/trash/restore/{edited_person.pk}/")
    html = admin_client.get(f"/admin/crm/people/history/{edited_person.pk}/").content.decode()
    assert "Moved to the trash" in html
    assert "Restored from the trash" in html
