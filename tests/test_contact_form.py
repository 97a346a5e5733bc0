import datetime

import pytest
from wagtail.test.utils.form_data import inline_formset, nested_form_data

from tests.factories import (
    AddressFactory,
    ContactMethodFactory,
    CustomFieldFactory,
    FolderFactory,
    OrganizationFactory,
    PersonFactory,
    method_type,
)
from wagtail_crm.forms.contacts import ORGANIZATION_FIELDS, PERSON_FIELDS
from wagtail_crm.models import Contact, CRMSettings, Folder
from wagtail_crm.snippets.contacts import OrganizationViewSet, PersonViewSet

pytestmark = pytest.mark.django_db


def email(value, primary=False, **extra):
    return {"type": method_type("Email").pk, "value": value, "label": "",
            **({"is_primary": "on"} if primary else {}), **extra}


def phone(value, primary=False, kind="Mobile", **extra):
    return {"type": method_type(kind).pk, "value": value, "label": "",
            **({"is_primary": "on"} if primary else {}), **extra}


def address(**fields):
    return {"label": "work", "street": "", "extended": "", "po_box": "", "locality": "",
            "region": "", "postal_code": "", "country": "", **fields}


def person_data(methods=(), addresses=(), initial_methods=0, initial_addresses=0, **fields):
    data = {
        "prefix": "", "given_name": "Ada", "additional_names": "", "family_name": "Lovelace",
        "suffix": "", "nickname": "", "job_title": "", "birthday": "", "primary_organization": "",
        "folder": Folder.get_default().pk, "owner": "", "tags": "", "photo": "", "notes": "",
        "methods": inline_formset(list(methods), initial=initial_methods),
        "addresses": inline_formset(list(addresses), initial=initial_addresses),
        **fields,
    }
    return nested_form_data(data)


def organization_data(**fields):
    return nested_form_data({
        "organization_name": "Acme Ltd", "organization_type": "company",
        "folder": Folder.get_default().pk, "owner": "", "tags": "", "photo": "", "notes": "",
        "methods": inline_formset([]), "addresses": inline_formset([]),
        **fields,
    })


def edit_data(person, **fields):
    """POST data that keeps ``person`` as it is, apart from ``fields``."""
    methods = [
        {"id": m.pk, "type": m.type_id, "value": m.value, "label": m.label,
         **({"is_primary": "on"} if m.is_primary else {})}
        for m in person.methods.all()
    ]
    addresses = [
        address(id=a.pk, street=a.street, locality=a.locality, postal_code=a.postal_code,
                country=a.country.code, **({"is_primary": "on"} if a.is_primary else {}))
        for a in person.addresses.all()
    ]
    values = {
        "given_name": person.given_name, "family_name": person.family_name,
        "folder": person.folder_id, "methods": methods, "addresses": addresses,
        "initial_methods": len(methods), "initial_addresses": len(addresses), **fields,
    }
    return person_data(**values)


# The form -----------------------------------------------------------------------


def test_forms_list_their_fields_explicitly():
    assert PersonViewSet().get_form_class()._meta.fields == PERSON_FIELDS
    assert OrganizationViewSet().get_form_class()._meta.fields == ORGANIZATION_FIELDS


def test_add_person_form_has_tabs_and_an_organisation_chooser(admin_client):
    for i in range(3):
        PersonFactory(given_name=f"Unrelated{i}")
    html = admin_client.get("/admin/crm/people/add/").content.decode()
    for tab in ("person", "contact_details", "notes_and_filing"):
        assert f'id="tab-label-{tab}"' in html
    # Without custom field definitions there is no custom fields tab.
    assert 'id="tab-label-custom_fields"' not in html
    assert "/admin/snippets/choose/wagtail_crm/organization/" in html
    assert "Unrelated0" not in html  # no select listing contacts
    assert 'name="methods-TOTAL_FORMS"' in html
    assert 'name="addresses-TOTAL_FORMS"' in html


def test_address_country_select_lists_the_settings_countries_first(admin_client):
    settings = CRMSettings.load()
    settings.countries_first = "IE, GB"
    settings.save()
    html = admin_client.get("/admin/crm/people/add/").content.decode()
    select = html[html.index('name="addresses-__prefix__-country"'):]
    assert select.index('value="IE"') < select.index('value="GB"') < select.index('value="AF"')


# Creating ---------------------------------------------------------------------


def test_create_person_with_methods_and_addresses(admin_client):
    org = OrganizationFactory(organization_name="Analytical Engines")
    data = person_data(
        prefix="Countess", job_title="Programmer", birthday="1815-12-10",
        primary_organization=org.pk, tags="maths, pioneers", do_not_email="on",
        methods=[email("Ada@Example.ORG", primary=True), phone("020 7946 0123", primary=True)],
        addresses=[address(street="12 St James's Square", locality="London", country="GB",
                           is_primary="on")],
    )
    response = admin_client.post("/admin/crm/people/add/", data)
    assert response.status_code == 302
    person = Contact.objects.get(family_name="Lovelace")
    assert response.url == f"/admin/crm/people/inspect/{person.pk}/"
    assert person.kind == "person"
    assert person.display_name == "Countess Ada Lovelace"
    assert person.primary_organization == org
    assert person.birthday == datetime.date(1815, 12, 10)
    assert person.do_not_email is True
    assert sorted(t.name for t in person.tags.all()) == ["maths", "pioneers"]
    assert person.primary_email == "ada@example.org"
    assert person.primary_phone == "+442079460123"
    assert person.city == "London"
    assert person.methods.count() == 2
    assert person.latest_revision is not None


def test_create_organisation_makes_an_organisation(admin_client):
    response = admin_client.post("/admin/crm/organisations/add/", organization_data())
    assert response.status_code == 302
    org = Contact.objects.get(organization_name="Acme Ltd")
    assert org.kind == "organization"
    assert org.organization_type == "company"
    assert response.url == f"/admin/crm/organisations/inspect/{org.pk}/"


def test_a_person_needs_a_name(admin_client):
    response = admin_client.post(
        "/admin/crm/people/add/", person_data(given_name="", family_name="")
    )
    assert response.status_code == 200
    form = response.context["form"]
    assert "at least a given name" in form.errors["family_name"][0]
    assert not Contact.all_objects.exists()


def test_primary_organisation_must_be_an_organisation(admin_client):
    other = PersonFactory()
    data = person_data(primary_organization=other.pk)
    response = admin_client.post("/admin/crm/people/add/", data)
    assert response.status_code == 200
    assert "primary_organization" in response.context["form"].errors
    assert Contact.objects.count() == 1


# Inline validation ------------------------------------------------------------------


def test_invalid_email_is_reported_on_its_value_and_nothing_saved(admin_client):
    response = admin_client.post(
        "/admin/crm/people/add/", person_data(methods=[email("not an email")])
    )
    assert response.status_code == 200
    method_form = response.context["form"].formsets["methods"].forms[0]
    assert method_form.errors["value"] == ["'not an email' is not a valid email address."]
    assert "&#x27;not an email&#x27; is not a valid email address." in response.content.decode()
    assert not Contact.all_objects.exists()


def test_invalid_phone_is_reported_on_its_value(admin_client):
    response = admin_client.post("/admin/crm/people/add/", person_data(methods=[phone("12")]))
    assert response.status_code == 200
    errors = response.context["form"].formsets["methods"].forms[0].errors
    assert "not a valid phone number" in errors["value"][0] or "not a phone number" in errors[
        "value"][0]
    assert not Contact.all_objects.exists()


def test_each_inline_error_is_said_once_on_its_field(admin_client):
    data = person_data(
        methods=[email(""), {"type": "", "value": "x@example.org", "label": ""}],
        addresses=[address(label="holiday")],
    )
    response = admin_client.post("/admin/crm/people/add/", data)
    assert response.status_code == 200
    formsets = response.context["form"].formsets
    assert formsets["methods"].forms[0].errors == {"value": ["This field is required."]}
    assert formsets["methods"].forms[1].errors == {"type": ["This field is required."]}
    assert formsets["addresses"].forms[0].non_field_errors() == [
        "An address needs at least one filled-in line."
    ]
    assert "An address needs at least one filled-in line." in response.content.decode()
    assert not Contact.all_objects.exists()


def test_phones_use_the_default_region_from_settings(admin_client):
    settings = CRMSettings.load()
    settings.default_phone_region = "US"
    settings.save()
    response = admin_client.post(
        "/admin/crm/people/add/", person_data(methods=[phone("(201) 555-0123")])
    )
    assert response.status_code == 302
    assert Contact.objects.get().methods.get().normalized == "+12015550123"


def test_two_primary_methods_of_one_scheme_are_refused(admin_client):
    data = person_data(methods=[
        email("a@example.org", primary=True),
        phone("020 7946 0123", primary=True),
        email("b@example.org", primary=True),
    ])
    response = admin_client.post("/admin/crm/people/add/", data)
    assert response.status_code == 200
    forms = response.context["form"].formsets["methods"].forms
    assert not forms[0].errors and not forms[1].errors
    assert forms[2].errors["is_primary"] == [
        "Only one email can be primary: untick “primary” on the others."
    ]
    assert not Contact.all_objects.exists()


def test_two_primary_addresses_are_refused(admin_client):
    data = person_data(addresses=[
        address(locality="Leeds", is_primary="on"), address(locality="York", is_primary="on"),
    ])
    response = admin_client.post("/admin/crm/people/add/", data)
    assert response.status_code == 200
    assert "is_primary" in response.context["form"].formsets["addresses"].forms[1].errors


def test_edit_with_a_bad_method_saves_nothing(admin_client):
    person = PersonFactory(given_name="Ada", family_name="Lovelace")
    ContactMethodFactory(contact=person, value="ada@example.org", is_primary=True)
    data = edit_data(person, family_name="Byron")
    data["methods-0-value"] = "broken@"
    response = admin_client.post(f"/admin/crm/people/edit/{person.pk}/", data)
    assert response.status_code == 200
    person.refresh_from_db()
    assert person.family_name == "Lovelace"
    assert person.methods.get().value == "ada@example.org"
    assert person.latest_revision is None


# Editing -----------------------------------------------------------------------------


def test_edit_changes_names_methods_and_addresses(admin_client):
    person = PersonFactory(given_name="Ada", family_name="Lovelace")
    kept = ContactMethodFactory(contact=person, value="ada@example.org", is_primary=True)
    dropped = ContactMethodFactory(contact=person, value="old@example.org")
    AddressFactory(contact=person, locality="London", country="GB", is_primary=True)
    data = edit_data(person, family_name="King", nickname="Enchantress")
    data["methods-1-DELETE"] = "1"
    data["addresses-0-locality"] = "Ockham"

    response = admin_client.post(f"/admin/crm/people/edit/{person.pk}/", data)
    assert response.status_code == 302
    assert response.url == f"/admin/crm/people/inspect/{person.pk}/"
    person.refresh_from_db()
    assert person.display_name == "Ada King"
    assert person.nickname == "Enchantress"
    assert list(person.methods.values_list("pk", flat=True)) == [kept.pk]
    assert not Contact.all_objects.filter(methods__pk=dropped.pk).exists()
    assert person.city == "Ockham"


def test_edit_form_shows_the_contact(admin_client):
    person = PersonFactory(given_name="Ada", family_name="Lovelace", notes="<script>x</script>")
    ContactMethodFactory(contact=person, value="ada@example.org")
    html = admin_client.get(f"/admin/crm/people/edit/{person.pk}/").content.decode()
    assert 'value="ada@example.org"' in html
    assert "<script>x</script>" not in html
    assert "Move to trash" in html


# Custom fields ---------------------------------------------------------------------------


@pytest.fixture
def custom_fields():
    return {
        "member_no": CustomFieldFactory(key="member_no", label="Member number",
                                        field_type="integer", required=True),
        "joined": CustomFieldFactory(key="joined", label="Joined", field_type="date"),
        "fee": CustomFieldFactory(key="fee", label="Fee", field_type="decimal"),
        "level": CustomFieldFactory(key="level", label="Level", field_type="choice",
                                    choices="Bronze\nSilver\nGold"),
        "org_only": CustomFieldFactory(key="vat", label="VAT number", target="organization"),
    }


def test_custom_fields_are_form_fields_with_stored_initial_values(admin_client, custom_fields):
    person = PersonFactory(custom={"member_no": 42, "joined": "2020-02-29", "legacy": "kept"})
    response = admin_client.get(f"/admin/crm/people/edit/{person.pk}/")
    form = response.context["form"]
    assert form["custom__member_no"].initial == 42
    assert form["custom__joined"].initial == datetime.date(2020, 2, 29)
    assert "custom__vat" not in form.fields
    html = response.content.decode()
    assert html.count('name="custom__member_no"') == 1
    assert "Member number" in html


def test_custom_values_are_cleaned_and_stored_keeping_unknown_keys(admin_client, custom_fields):
    person = PersonFactory(given_name="Ada", family_name="Lovelace",
                           custom={"legacy": "kept", "fee": "1.5"})
    data = edit_data(person)
    data.update({"custom__member_no": "7", "custom__joined": "2021-03-04",
                 "custom__fee": "", "custom__level": "Gold"})
    response = admin_client.post(f"/admin/crm/people/edit/{person.pk}/", data)
    assert response.status_code == 302
    person.refresh_from_db()
    assert person.custom == {"legacy": "kept", "member_no": 7, "joined": "2021-03-04",
                             "level": "Gold"}


def test_custom_value_of_the_wrong_type_is_reported_on_its_field(admin_client, custom_fields):
    data = person_data()
    data.update({"custom__member_no": "seven", "custom__level": "Platinum"})
    response = admin_client.post("/admin/crm/people/add/", data)
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["custom__member_no"] == ["Enter a whole number."]
    assert "Select a valid choice" in errors["custom__level"][0]
    assert "__all__" not in errors
    assert not Contact.all_objects.exists()


def test_missing_required_custom_field_is_reported_on_its_field(admin_client, custom_fields):
    response = admin_client.post("/admin/crm/people/add/", person_data())
    assert response.status_code == 200
    errors = response.context["form"].errors
    assert errors["custom__member_no"] == ["This field is required."]
    assert set(errors) == {"custom__member_no"}
    assert not Contact.all_objects.exists()


def test_organisation_form_has_organisation_custom_fields(admin_client, custom_fields):
    data = organization_data()
    data["custom__vat"] = "GB123"
    response = admin_client.post("/admin/crm/organisations/add/", data)
    assert response.status_code == 302
    assert Contact.objects.get().custom == {"vat": "GB123"}


def test_folder_defaults_to_the_default_folder(admin_client):
    FolderFactory(name="Suppliers")
    form = admin_client.get("/admin/crm/people/add/").context["form"]
    assert form["folder"].value() == Folder.get_default().pk


def test_organisation_chooser_lists_organisations_only(admin_client):
    OrganizationFactory(organization_name="Acme Ltd")
    OrganizationFactory(organization_name="Binned Ltd").move_to_trash()
    PersonFactory(given_name="Not", family_name="Anorganisation")
    html = admin_client.get("/admin/snippets/choose/wagtail_crm/organization/").content.decode()
    assert "Acme Ltd" in html
    assert "Binned Ltd" not in html
    assert "Anorganisation" not in html


def test_a_trashed_organisation_is_kept_until_changed(admin_client):
    org = OrganizationFactory(organization_name="Binned Ltd")
    other = OrganizationFactory(organization_name="Also Binned")
    person = PersonFactory(given_name="Ada", family_name="Lovelace", primary_organization=org)
    org.move_to_trash()
    other.move_to_trash()
    html = admin_client.get(f"/admin/crm/people/edit/{person.pk}/").content.decode()
    assert "Binned Ltd (in the trash)" in html

    data = edit_data(person, primary_organization=org.pk, job_title="Analyst")
    assert admin_client.post(f"/admin/crm/people/edit/{person.pk}/", data).status_code == 302
    person.refresh_from_db()
    assert person.primary_organization_id == org.pk and person.job_title == "Analyst"

    data = edit_data(person, primary_organization=other.pk)
    response = admin_client.post(f"/admin/crm/people/edit/{person.pk}/", data)
    assert "primary_organization" in response.context["form"].errors
