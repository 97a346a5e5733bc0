"""A contact's vCard 4.0 from its page: the details, and RELATED for its relationships."""

import datetime

import pytest

from tests.factories import (
    AddressFactory,
    ContactMethodFactory,
    FolderFactory,
    OrganizationFactory,
    PersonFactory,
    folder_user,
    method_type,
    relate,
)
from wagtail_crm.interop.records import ContactRecord
from wagtail_crm.interop.vcard import read_vcards
from wagtail_crm.services.exporting import contact_records, uid_uri

pytestmark = pytest.mark.django_db


def vcard_url(contact):
    section = "people" if contact.kind == "person" else "organisations"
    return f"/admin/crm/{section}/vcard/{contact.pk}/"


def read_one(response):
    assert response.status_code == 200
    assert response["Content-Type"] == "text/vcard; charset=utf-8"
    (record,) = list(read_vcards(response.content))
    assert isinstance(record, ContactRecord)
    return record


@pytest.fixture
def family():
    folder = FolderFactory(name="Family")
    ada = PersonFactory(given_name="Ada", family_name="Lovelace", folder=folder,
                        job_title="Analyst", birthday=datetime.date(1815, 12, 10))
    william = PersonFactory(given_name="William", family_name="King", folder=folder)
    byron = PersonFactory(given_name="George", family_name="Byron", folder=FolderFactory())
    acme = OrganizationFactory(organization_name="Acme", folder=folder)
    ContactMethodFactory(contact=ada, value="ada@example.org", label="work", is_primary=True)
    ContactMethodFactory(contact=ada, type=method_type("Mobile"), value="+44 20 7946 0000")
    AddressFactory(contact=ada, street="12 St James's Square", locality="London",
                   postal_code="SW1Y 4JH", country="GB")
    relate("spouse-of", spouse=[ada, william])
    relate("parent-of", parent=byron, child=ada)
    relate("employee-of", employee=ada, employer=acme, fields={"is_primary": True})
    relate("employee-of", employee=william, employer=acme,
           fields={"end_date": datetime.date(2001, 1, 1)})
    ada.refresh_from_db()
    return ada, william, byron, acme


def test_the_contact_page_offers_the_vcard(admin_client, family):
    ada = family[0]
    page = admin_client.get(f"/admin/crm/people/inspect/{ada.pk}/").content.decode()
    assert vcard_url(ada) in page and "Download vCard" in page


def test_the_vcard_carries_the_contact_and_its_relationships(admin_client, family):
    ada, william, byron, acme = family

    response = admin_client.get(vcard_url(ada))
    text = response.content.decode()
    record = read_one(response)

    assert text.startswith("BEGIN:VCARD\r\nVERSION:4.0\r\n")
    assert 'filename="ada-lovelace.vcf"' in response["Content-Disposition"]
    assert (record.given_name, record.family_name, record.job_title) == (
        "Ada", "Lovelace", "Analyst"
    )
    assert record.organization_name == "Acme" and record.birthday == datetime.date(1815, 12, 10)
    assert [m.value for m in record.emails] == ["ada@example.org"]
    assert "work" in record.emails[0].types
    assert [m.value for m in record.phones] == ["+44 20 7946 0000"]
    assert "cell" in record.phones[0].types
    assert record.addresses[0].locality == "London"
    assert record.uid.lower().endswith(str(ada.uid).lower())
    related = {(r.value, tuple(r.types)) for r in record.related}
    assert related == {
        (uid_uri(william.uid), ("spouse",)),
        (uid_uri(byron.uid), ("parent",)),
        (uid_uri(acme.uid), ("contact",)),
    }


def test_past_relationships_are_not_related(admin_client, family):
    _ada, william, _byron, acme = family
    record = read_one(admin_client.get(vcard_url(william)))
    assert uid_uri(acme.uid) not in {r.value for r in record.related}


def test_related_contacts_the_user_cannot_see_are_left_out(client, family):
    ada, william, byron, acme = family
    client.force_login(folder_user("family", (ada.folder, "view")))

    record = read_one(client.get(vcard_url(ada)))

    assert uid_uri(byron.uid) not in {r.value for r in record.related}
    assert uid_uri(william.uid) in {r.value for r in record.related}


def test_other_users_contacts_answer_404(client, family):
    _ada, _william, byron, _acme = family
    client.force_login(folder_user("family", (FolderFactory(), "manage")))
    assert client.get(vcard_url(byron)).status_code == 404
    client.logout()
    assert client.get(vcard_url(byron)).status_code == 302  # to the login page


def test_records_are_read_in_chunks_with_a_fixed_number_of_queries(
    family, django_assert_max_num_queries
):
    from wagtail_crm.models import Contact

    for _n in range(6):
        relate("spouse-of", spouse=[PersonFactory(), PersonFactory()])
    contacts = Contact.objects.all()
    with django_assert_max_num_queries(9):
        records = list(contact_records(contacts, chunk_size=100, photos=False))
    assert len(records) == contacts.count()
