"""Downloads from the people and organisations listings in the export formats."""

import pytest

from tests.factories import FolderFactory, OrganizationFactory, PersonFactory, folder_user
from wagtail_crm.interop.ldif import read_ldif
from wagtail_crm.interop.sql import read_sql_dump
from wagtail_crm.interop.vcard import read_vcards

pytestmark = pytest.mark.django_db

PEOPLE = "/admin/crm/people/"
READERS = {"vcard4": read_vcards, "ldif": read_ldif, "sql": read_sql_dump}


@pytest.fixture
def folders():
    blue, red = FolderFactory(name="Blue"), FolderFactory(name="Red")
    PersonFactory(given_name="Ann", family_name="Blue", folder=blue)
    PersonFactory(given_name="Bo", family_name="Blue", folder=blue)
    PersonFactory(given_name="Cy", family_name="Red", folder=red)
    OrganizationFactory(organization_name="Acme", folder=blue)
    return blue, red


def download(client, fmt, **params):
    response = client.get(PEOPLE, {"export": fmt, **params})
    assert response.status_code == 200
    assert "attachment" in response["Content-Disposition"]
    data = b"".join(response.streaming_content)
    return sorted(r.formatted_name for r in READERS[fmt](data) if getattr(r, "given_name", ""))


def test_the_listing_offers_the_downloads(admin_client, folders):
    page = admin_client.get(PEOPLE).content.decode()
    for label in ("Download vCard", "Download LDIF", "Download SQL", "Download CSV"):
        assert label in page


@pytest.mark.parametrize("fmt", ["vcard4", "ldif", "sql"])
def test_downloads_apply_the_filters(admin_client, folders, fmt):
    blue, _red = folders
    assert download(admin_client, fmt) == ["Ann Blue", "Bo Blue", "Cy Red"]
    assert download(admin_client, fmt, folder=blue.pk) == ["Ann Blue", "Bo Blue"]


@pytest.mark.parametrize("fmt", ["vcard4", "ldif", "sql"])
def test_downloads_leave_out_other_users_contacts(client, folders, fmt):
    blue, red = folders
    client.force_login(folder_user("blue", (blue, "view")))
    assert download(client, fmt) == ["Ann Blue", "Bo Blue"]
    assert download(client, fmt, folder=red.pk) == ["Ann Blue", "Bo Blue"]  # not offered
