from urllib.parse import urlsplit

import pytest
from django.core.exceptions import ValidationError
from wagtail.search.backends import get_search_backend

from tests.factories import (
    AddressFactory,
    ContactMethodFactory,
    CustomFieldFactory,
    OrganizationFactory,
    PersonFactory,
    method_type,
)
from wagtail_crm.models import Contact, CRMSettings, Organization, Person

pytestmark = pytest.mark.django_db


def test_person_names_give_display_and_sort_names():
    person = PersonFactory(prefix="Dr", given_name="Zoë", additional_names="Anne",
                           family_name="Ångström", suffix="PhD")
    assert person.display_name == "Dr Zoë Anne Ångström, PhD"
    assert person.sort_name == "angstrom zoe anne"


def test_organization_display_name_is_its_name():
    org = OrganizationFactory(organization_name="Acme Ltd")
    assert org.display_name == "Acme Ltd"
    assert org.sort_name == "acme ltd"


def test_proxies_split_people_and_organizations():
    person = PersonFactory()
    org = OrganizationFactory()
    assert list(Person.objects.all()) == [person]
    assert list(Organization.objects.all()) == [org]


def test_email_is_lower_cased_and_primary_copied_to_contact():
    person = PersonFactory()
    ContactMethodFactory(contact=person, value="Ada.Lovelace@Example.ORG")
    person.refresh_from_db()
    assert person.primary_email == "ada.lovelace@example.org"
    assert person.methods.get().normalized == "ada.lovelace@example.org"


def test_phone_is_normalised_with_the_default_region():
    settings = CRMSettings.load()
    settings.default_phone_region = "GB"
    settings.save()
    person = PersonFactory()
    ContactMethodFactory(contact=person, type=method_type("Mobile"), value="020 7946 0123")
    person.refresh_from_db()
    assert person.primary_phone == "+442079460123"


def test_invalid_phone_is_rejected_on_the_value_field():
    method = ContactMethodFactory.build(
        contact=PersonFactory(), type=method_type("Phone"), value="12"
    )
    with pytest.raises(ValidationError) as error:
        method.full_clean()
    assert "value" in error.value.message_dict


def test_invalid_email_is_rejected_on_the_value_field():
    method = ContactMethodFactory.build(contact=PersonFactory(), value="not an email")
    with pytest.raises(ValidationError) as error:
        method.full_clean()
    assert "not a valid email address" in error.value.message_dict["value"][0]


def test_primary_address_sets_city_and_country():
    person = PersonFactory()
    AddressFactory(contact=person, locality="Leeds", country="GB", is_primary=True)
    person.refresh_from_db()
    assert person.city == "Leeds"
    assert person.country.code == "GB"


def test_method_links_follow_type_templates():
    person = PersonFactory()
    email = ContactMethodFactory(contact=person, value="a@example.org")
    phone = ContactMethodFactory(
        contact=person, type=method_type("Phone"), value="+44 20 7946 0000"
    )
    assert email.link() == "mailto:a@example.org"
    assert phone.link() == "tel:+442079460000"
    pbx = "https://pbx.example.com/dial/{digits}"
    assert phone.link(pbx) == "https://pbx.example.com/dial/442079460000"
    assert phone.display_value("national") == "020 7946 0000"


def test_custom_field_of_wrong_type_is_reported():
    CustomFieldFactory(key="member_number", label="Member number", field_type="integer")
    person = PersonFactory.build(folder=PersonFactory().folder, custom={"member_number": "abc"})
    with pytest.raises(ValidationError) as error:
        person.full_clean()
    assert "Member number" in error.value.message_dict["custom"][0]


def test_missing_required_custom_field_is_reported():
    CustomFieldFactory(key="region", label="Sales region", required=True)
    person = PersonFactory.build(folder=PersonFactory().folder, custom={})
    with pytest.raises(ValidationError) as error:
        person.full_clean()
    assert "Sales region" in error.value.message_dict["custom"][0]


def test_trash_hides_and_restore_brings_back():
    person = PersonFactory()
    person.move_to_trash()
    assert not Contact.objects.filter(pk=person.pk).exists()
    assert Contact.all_objects.trashed().filter(pk=person.pk).exists()
    person.restore()
    assert Contact.objects.filter(pk=person.pk).exists()


def test_search_finds_people_by_name_email_and_organisation():
    org = OrganizationFactory(organization_name="Globex Corporation")
    person = PersonFactory(given_name="Hank", family_name="Scorpio", primary_organization=org)
    ContactMethodFactory(contact=person, value="hank@globex.example")
    # Reindex after the method was added (the admin form saves everything together).
    Contact.objects.get(pk=person.pk).save()
    backend = get_search_backend()
    for query in ("Scorp", "hank@globex", "Globex"):
        results = list(backend.autocomplete(query, Person.objects.all()))
        assert person in results, query


@pytest.mark.parametrize(
    "value", ["javascript://%0aalert(1)", "data://text/html,<script>", "ftp://example.org/x"]
)
def test_web_address_must_be_http_or_https(value):
    method = ContactMethodFactory.build(
        contact=PersonFactory(), type=method_type("Website"), value=value
    )
    with pytest.raises(ValidationError) as error:
        method.full_clean()
    assert "use http:// or https://" in error.value.message_dict["value"][0]


def test_link_never_produces_a_script_url():
    person = PersonFactory()
    handle = ContactMethodFactory(contact=person, type=method_type("Mastodon"), value="x")
    handle.type.link_template = "{value}"
    handle.value = "javascript:alert(1)"
    assert handle.link() == ""
    handle.value = " java\tscript:alert(1)"
    link = handle.link()
    # Quoted, it is a harmless relative URL: browsers do not decode %-escapes in a scheme.
    assert link == "%20java%09script:alert%281%29"
    assert urlsplit(link).scheme == ""


def test_deleting_a_user_keeps_their_personal_folder_and_its_contacts():
    from tests.factories import FolderFactory, UserFactory

    user = UserFactory()
    folder = FolderFactory(owner=user)
    person = PersonFactory(folder=folder)
    user.delete()
    folder.refresh_from_db()
    assert folder.owner is None
    assert Contact.objects.filter(pk=person.pk, folder=folder).exists()


def test_indexing_reads_everything_in_a_fixed_number_of_queries(django_assert_max_num_queries):
    CustomFieldFactory(key="code", label="Code", searchable=True)
    for n in range(5):
        person = PersonFactory(custom={"code": f"X{n}"})
        ContactMethodFactory(contact=person, value=f"p{n}@example.org")
    with django_assert_max_num_queries(4):
        texts = [
            (c.method_values(), c.custom_search_text(), c.organization_label())
            for c in Contact.get_indexed_objects()
        ]
    assert ("p0@example.org p0@example.org p0 example org", "X0", "") in texts
