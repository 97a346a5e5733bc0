import re

import pytest

from tests.factories import CustomFieldFactory, PersonFactory, set_listing_columns
from wagtail_crm.models import CRMSettings

pytestmark = pytest.mark.django_db

SETTINGS = "/admin/settings/wagtail_crm/crmsettings/"


def settings_page(client):
    response = client.get(SETTINGS, follow=True)
    assert response.status_code == 200
    return response.redirect_chain[-1][0] if response.redirect_chain else SETTINGS, (
        response.content.decode()
    )


def checkboxes(html, name):
    """The values of the checkboxes named ``name``, and those that are checked."""
    boxes = re.findall(rf'<input type="checkbox" name="{name}"[^>]*>', html)
    values = [re.search(r'value="([^"]*)"', box).group(1) for box in boxes]
    checked = [value for value, box in zip(values, boxes, strict=True) if "checked" in box]
    return values, checked


def form_data(**changes):
    data = {
        "items_per_page": "50",
        "person_columns": ["display_name", "primary_email"],
        "organization_columns": ["display_name"],
        "default_phone_region": "GB",
        "phone_display_format": "international",
        "click_to_call_template": "",
        "countries_first": "",
    }
    data.update(changes)
    return data


@pytest.fixture
def custom_fields():
    CustomFieldFactory(key="level", label="Level", in_listing=True)
    CustomFieldFactory(key="secret", label="Secret", in_listing=False)
    CustomFieldFactory(target="organization", key="sector", label="Sector", in_listing=True)


def test_columns_are_checkbox_lists_of_the_available_columns(admin_client, custom_fields):
    _url, html = settings_page(admin_client)

    people, people_checked = checkboxes(html, "person_columns")
    organisations, organisations_checked = checkboxes(html, "organization_columns")
    assert people == [
        "display_name",
        "primary_email",
        "primary_phone",
        "primary_organization",
        "job_title",
        "city",
        "country",
        "folder",
        "tags",
        "created_at",
        "updated_at",
        "custom:level",
    ]
    assert organisations == [
        "display_name",
        "primary_email",
        "primary_phone",
        "organization_type",
        "city",
        "country",
        "folder",
        "tags",
        "created_at",
        "updated_at",
        "custom:sector",
    ]
    assert people_checked == [
        "display_name",
        "primary_email",
        "primary_phone",
        "primary_organization",
        "city",
        "country",
        "tags",
    ]
    assert "organization_type" in organisations_checked
    assert " Level</label>" in html


def test_saving_keeps_known_columns_in_order_and_always_the_name(admin_client, custom_fields):
    url, _html = settings_page(admin_client)

    response = admin_client.post(
        url,
        form_data(
            person_columns=["custom:level", "bogus", "custom:secret", "city", "primary_email"],
            organization_columns=["job_title", "custom:sector", "organization_type"],
        ),
    )

    assert response.status_code == 302
    settings = CRMSettings.load()
    assert settings.person_columns == ["display_name", "primary_email", "city", "custom:level"]
    assert settings.organization_columns == ["display_name", "organization_type", "custom:sector"]


def test_columns_of_deleted_custom_fields_are_dropped_on_the_next_save(admin_client):
    set_listing_columns(person=["display_name", "custom:gone", "city"])
    url, html = settings_page(admin_client)
    _values, checked = checkboxes(html, "person_columns")

    admin_client.post(url, form_data(person_columns=checked))

    assert checked == ["display_name", "city"]
    assert CRMSettings.load().person_columns == ["display_name", "city"]


def test_saved_columns_are_what_the_listing_shows(admin_client, custom_fields):
    url, _html = settings_page(admin_client)
    PersonFactory(given_name="Ada", family_name="Zebra", custom={"level": "Top"})

    admin_client.post(
        url, form_data(person_columns=["custom:level", "job_title"], items_per_page="25")
    )
    html = admin_client.get("/admin/crm/people/").content.decode()

    table = html[html.index('<table class="listing') :]
    head = table[: table.index("</thead>")]
    assert "Level" in head and "Job title" in head and "Email" not in head
    assert "Top" in html
    assert CRMSettings.load().items_per_page == 25


def test_invalid_settings_are_reported(admin_client):
    url, _html = settings_page(admin_client)

    response = admin_client.post(url, form_data(items_per_page="many"))

    assert response.status_code == 200
    assert "Enter a whole number." in response.content.decode()
    assert CRMSettings.load().items_per_page == 50
