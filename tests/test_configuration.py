"""The CRM's configuration screens: folders, contact method types and custom fields."""

import pytest
from django.contrib.messages import get_messages
from django.db import connection
from django.test.utils import CaptureQueriesContext
from wagtail import hooks
from wagtail.models import ReferenceIndex

from tests.factories import (
    ContactMethodFactory,
    ContactMethodTypeFactory,
    CustomFieldFactory,
    FolderFactory,
    OrganizationFactory,
    PersonFactory,
    UserFactory,
    method_type,
    staff_user_without_permissions,
)
from wagtail_crm.models import Contact, ContactMethodType, CustomField, Folder
from wagtail_crm.snippets.configuration import (
    FolderDeleteView,
    refuse_bulk_delete_of_needed_objects,
)

pytestmark = pytest.mark.django_db

FOLDERS = "/admin/crm/folders/"
TYPES = "/admin/crm/method-types/"
FIELDS = "/admin/crm/custom-fields/"


def trashed(contact):
    contact.move_to_trash()
    return contact


def folder_data(**overrides):
    return {
        "name": "Suppliers", "description": "", "owner": "",
        "access-TOTAL_FORMS": "0", "access-INITIAL_FORMS": "0",
        "access-MIN_NUM_FORMS": "0", "access-MAX_NUM_FORMS": "1000",
        **overrides,
    }


def type_data(**overrides):
    return {
        "name": "Matrix", "scheme": "handle", "link_template": "https://matrix.to/#/{value}",
        "vcard_property": "IMPP", "vcard_type": "matrix", "icon": "user", **overrides,
    }


def field_data(**overrides):
    return {
        "target": "person", "label": "Member number", "key": "member_number",
        "field_type": "text", "choices": "", "help_text": "", "sort_order": "0", **overrides,
    }


def form_errors(response):
    assert response.status_code == 200
    return response.context["form"].errors


# Folders ------------------------------------------------------------------------------------


def test_folder_listing_shows_public_flag_owner_and_live_contacts(admin_client):
    customers = FolderFactory(name="Customers", is_public=True)
    mine = FolderFactory(name="My contacts", owner=UserFactory(username="alice"))
    PersonFactory.create_batch(2, folder=customers)
    trashed(PersonFactory(folder=customers))

    response = admin_client.get(FOLDERS)

    assert response.status_code == 200
    rows = {folder.name: folder for folder in response.context["object_list"]}
    assert rows["Customers"].contact_count == 2
    assert rows["My contacts"].contact_count == 0
    assert rows["My contacts"].owner == mine.owner
    content = response.content.decode()
    for text in ("Customers", "My contacts", "alice", "Personal folder of", "Public", "Contacts"):
        assert text in content


def test_folder_listing_counts_in_one_query_whatever_the_number_of_folders(
    admin_client, django_assert_max_num_queries
):
    FolderFactory(name="Customers")
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(FOLDERS).status_code == 200
    for n in range(12):
        folder = FolderFactory(name=f"Folder {n}", owner=UserFactory(username=f"owner{n}"))
        PersonFactory(folder=folder)

    with django_assert_max_num_queries(len(few.captured_queries)):
        response = admin_client.get(FOLDERS)

    assert len(response.context["object_list"]) >= 13


def test_folder_listing_searches_by_name(admin_client):
    FolderFactory(name="Suppliers")
    FolderFactory(name="Sales leads")

    response = admin_client.get(FOLDERS, {"q": "suppl"})

    assert [f.name for f in response.context["object_list"]] == ["Suppliers"]


def test_folder_form_lists_its_fields(admin_client):
    folder = FolderFactory(name="Suppliers")

    response = admin_client.get(f"{FOLDERS}edit/{folder.pk}/")

    assert list(response.context["form"].fields) == ["name", "description", "is_public", "owner"]


def test_folder_owner_choices_leave_out_inactive_users(admin_client):
    UserFactory(username="former", is_active=False)

    response = admin_client.get(f"{FOLDERS}add/")

    owners = [user.username for user in response.context["form"].fields["owner"].queryset]
    assert "admin" in owners
    assert "former" not in owners


def test_create_and_edit_a_personal_folder(admin_client):
    alice = UserFactory(username="alice")

    response = admin_client.post(f"{FOLDERS}add/", folder_data(is_public="on", owner=alice.pk))

    assert response.status_code == 302
    folder = Folder.objects.get(name="Suppliers")
    assert folder.is_public and folder.owner == alice

    response = admin_client.post(
        f"{FOLDERS}edit/{folder.pk}/", folder_data(name="Suppliers (old)", description="Gone")
    )

    assert response.status_code == 302
    folder.refresh_from_db()
    assert (folder.name, folder.description, folder.is_public, folder.owner) == (
        "Suppliers (old)", "Gone", False, None
    )


def test_folder_names_are_unique(admin_client):
    FolderFactory(name="Suppliers")

    errors = form_errors(admin_client.post(f"{FOLDERS}add/", folder_data()))

    assert "name" in errors
    assert Folder.objects.filter(name="Suppliers").count() == 1


def test_default_folder_keeps_its_name_and_stays_shared(admin_client):
    default = Folder.get_default()
    url = f"{FOLDERS}edit/{default.pk}/"

    renamed = form_errors(admin_client.post(url, folder_data(name="Everyone")))
    personal = form_errors(admin_client.post(url, folder_data(name=default.name,
                                                              owner=UserFactory().pk)))

    assert "default folder" in renamed["name"][0]
    assert "cannot be a personal folder" in personal["owner"][0]
    default.refresh_from_db()
    assert default.name == "Contacts" and default.owner is None


def test_deleting_a_folder_with_contacts_explains_and_deletes_nothing(admin_client):
    folder = FolderFactory(name="Suppliers")
    PersonFactory(folder=folder)
    OrganizationFactory(folder=folder)
    trashed(PersonFactory(folder=folder))
    url = f"{FOLDERS}delete/{folder.pk}/"

    shown = admin_client.get(url)
    posted = admin_client.post(url)

    message = "This folder still holds 3 contacts; move them to another folder first."
    for response in (shown, posted):
        assert response.status_code == 200
        content = response.content.decode()
        assert message in content
        assert "1 of them is in the trash" in content
        assert "Yes, delete" not in content
    assert Folder.objects.filter(pk=folder.pk).exists()
    assert Contact.all_objects.filter(folder=folder).count() == 3
    # The usage page, linked from the explanation, lists the contacts (trash included).
    usage = admin_client.get(f"{FOLDERS}usage/{folder.pk}/")
    assert f"{FOLDERS}usage/{folder.pk}/" in shown.content.decode()
    assert usage.status_code == 200
    assert usage.context["paginator"].count == 3


def test_deleting_the_default_folder_is_refused(admin_client):
    default = Folder.get_default()

    response = admin_client.post(f"{FOLDERS}delete/{default.pk}/")

    assert response.status_code == 200
    assert "This is the default folder" in response.context["refusal"]
    assert Folder.objects.filter(pk=default.pk).exists()


def test_a_contact_added_while_deleting_does_not_break_the_delete(admin_client, monkeypatch):
    folder = FolderFactory(name="Suppliers")
    PersonFactory(folder=folder)
    # As if the contact arrived after the checks, before Wagtail's reference index knew of it.
    monkeypatch.setattr(FolderDeleteView, "get_refusal", lambda view: "")
    ReferenceIndex.objects.all().delete()

    response = admin_client.post(f"{FOLDERS}delete/{folder.pk}/")

    assert response.status_code == 200
    assert "Other records still use this folder" in response.content.decode()
    assert Folder.objects.filter(pk=folder.pk).exists()


def test_protected_references_found_by_wagtail_are_explained(admin_client, monkeypatch):
    folder = FolderFactory(name="Suppliers")
    PersonFactory(folder=folder)
    # As if a model this view does not know about protected the folder.
    monkeypatch.setattr(Contact, "all_objects", Contact.all_objects.none())

    response = admin_client.post(f"{FOLDERS}delete/{folder.pk}/")

    assert response.status_code == 200
    assert "Other records still use this folder" in response.context["refusal"]
    assert Folder.objects.filter(pk=folder.pk).exists()


def test_deleting_an_empty_folder(admin_client):
    folder = FolderFactory(name="Suppliers")
    url = f"{FOLDERS}delete/{folder.pk}/"

    assert "Yes, delete" in admin_client.get(url).content.decode()
    response = admin_client.post(url)

    assert response.status_code == 302
    assert not Folder.objects.filter(pk=folder.pk).exists()


# Contact method types -----------------------------------------------------------------------


def test_method_type_listing_shows_mapping_and_use_in_order(admin_client):
    ContactMethodFactory.create_batch(2)
    ContactMethodFactory(type=method_type("Mobile"), value="+44 20 7946 0123")

    response = admin_client.get(TYPES)

    assert response.status_code == 200
    types = list(response.context["object_list"])
    assert types == list(ContactMethodType.objects.order_by("sort_order"))
    counts = {t.name: t.method_count for t in types}
    assert (counts["Email"], counts["Mobile"], counts["Fax"]) == (2, 1, 0)
    content = response.content.decode()
    for text in ("mailto:{value}", "tel:{e164}", "X-SOCIALPROFILE", "cell", "Used by"):
        assert text in content


def test_method_type_listing_counts_in_one_query(admin_client, django_assert_max_num_queries):
    with CaptureQueriesContext(connection) as few:
        assert admin_client.get(TYPES).status_code == 200
    for _n in range(10):
        ContactMethodFactory(contact__folder=Folder.get_default(),
                             type=ContactMethodTypeFactory(), value="someone")

    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client.get(TYPES)


def test_method_types_are_reordered_by_dragging(admin_client):
    skype = method_type("Skype")

    response = admin_client.post(f"{TYPES}reorder/{skype.pk}/?position=0")

    assert response.status_code == 200
    assert ContactMethodType.objects.order_by("sort_order").first() == skype


def test_new_method_type_goes_last_and_form_lists_its_fields(admin_client):
    form = admin_client.get(f"{TYPES}add/").context["form"]
    assert list(form.fields) == [
        "name", "scheme", "link_template", "vcard_property", "vcard_type", "icon"
    ]

    response = admin_client.post(f"{TYPES}add/", type_data())

    assert response.status_code == 302
    matrix = ContactMethodType.objects.get(name="Matrix")
    assert ContactMethodType.objects.order_by("sort_order").last() == matrix
    assert matrix.link_template == "https://matrix.to/#/{value}"


def test_method_type_form_explains_the_placeholders(admin_client):
    content = admin_client.get(f"{TYPES}add/").content.decode()

    for placeholder in ("{value}", "{e164}", "{digits}"):
        assert placeholder in content


@pytest.mark.parametrize(
    ("scheme", "template", "message"),
    [
        ("email", "mailto:{value", "cannot be read"),
        ("email", "mailto:{value}}", "cannot be read"),
        ("email", "mailto:{address}", "Unknown placeholder {address}"),
        ("phone", "tel:{}", "Unknown placeholder {}"),
        ("phone", "tel:{e164:>20}", "Unknown placeholder {e164:>20}"),
        ("url", "{value.__class__}", "Unknown placeholder {value.__class__}"),
        ("email", "mailto:{e164}", "only filled in for phone numbers"),
        ("email", "mailto:someone@example.com", "where the value goes"),
        ("url", "javascript:{value}", "javascript: are not allowed"),
        ("url", " java\tscript:{value}", "are not allowed"),
        ("handle", "{value}", "Start the link with its scheme"),
    ],
)
def test_bad_link_templates_are_refused_on_the_field(admin_client, scheme, template, message):
    response = admin_client.post(f"{TYPES}add/", type_data(scheme=scheme, link_template=template))

    errors = form_errors(response)
    assert list(errors) == ["link_template"]
    assert message in errors["link_template"][0]
    assert not ContactMethodType.objects.filter(name="Matrix").exists()


@pytest.mark.parametrize(
    ("scheme", "template"),
    [
        ("email", "https://mail.example.com/compose?to={value}"),
        ("email", "{value}"),
        ("phone", "https://pbx.example.com/call?to={digits}&from={{me}}"),
        ("url", "{value}"),
        ("handle", ""),
    ],
)
def test_good_link_templates_are_saved(admin_client, scheme, template):
    response = admin_client.post(f"{TYPES}add/", type_data(scheme=scheme, link_template=template))

    assert response.status_code == 302
    assert ContactMethodType.objects.get(name="Matrix").link_template == template


def test_scheme_of_a_type_in_use_cannot_change(admin_client):
    email = method_type("Email")
    ContactMethodFactory()
    url = f"{TYPES}edit/{email.pk}/"

    errors = form_errors(admin_client.post(url, type_data(
        name="Email", scheme="handle", link_template="mailto:{value}"
    )))

    assert list(errors) == ["scheme"]
    assert "1 contact method of this type" in errors["scheme"][0]
    email.refresh_from_db()
    assert email.scheme == "email"


def test_unused_type_is_edited(admin_client):
    fax = method_type("Fax")

    response = admin_client.post(f"{TYPES}edit/{fax.pk}/", type_data(
        name="Fax machine", scheme="url", link_template="https://fax.example.com/?n={value}"
    ))

    assert response.status_code == 302
    fax.refresh_from_db()
    assert (fax.name, fax.scheme) == ("Fax machine", "url")


def test_deleting_a_type_in_use_explains_and_deletes_nothing(admin_client):
    ContactMethodFactory.create_batch(2)
    email = method_type("Email")

    response = admin_client.post(f"{TYPES}delete/{email.pk}/")

    assert response.status_code == 200
    assert "2 contact methods use this type" in response.content.decode()
    assert ContactMethodType.objects.filter(pk=email.pk).exists()


def test_deleting_an_unused_type(admin_client):
    fax = method_type("Fax")

    response = admin_client.post(f"{TYPES}delete/{fax.pk}/")

    assert response.status_code == 302
    assert not ContactMethodType.objects.filter(pk=fax.pk).exists()


# Custom fields ------------------------------------------------------------------------------


def test_custom_field_listing_and_filters(admin_client):
    CustomFieldFactory(label="Member number", key="member_number", required=True)
    CustomFieldFactory(label="Sector", key="sector", target="organization",
                       field_type="choice", choices="Retail\nPublic", in_listing=True)

    everything = admin_client.get(FIELDS)
    organisations = admin_client.get(FIELDS, {"target": "organization"})
    choices = admin_client.get(FIELDS, {"field_type": "choice", "target": "organization"})
    texts = admin_client.get(FIELDS, {"target": "person", "field_type": "text"})

    content = everything.content.decode()
    for text in ("Member number", "member_number", "Organisation", "Choice", "Applies to",
                 "Required", "In listings", "Searchable"):
        assert text in content
    assert [f.key for f in organisations.context["object_list"]] == ["sector"]
    assert [f.key for f in choices.context["object_list"]] == ["sector"]
    assert [f.key for f in texts.context["object_list"]] == ["member_number"]


def test_create_edit_and_delete_a_custom_field(admin_client):
    form = admin_client.get(f"{FIELDS}add/").context["form"]
    assert list(form.fields) == [
        "target", "label", "key", "field_type", "choices", "required", "help_text",
        "in_listing", "searchable", "sort_order",
    ]

    assert admin_client.post(f"{FIELDS}add/", field_data(required="on")).status_code == 302
    field = CustomField.objects.get(key="member_number")
    assert field.required

    response = admin_client.post(f"{FIELDS}edit/{field.pk}/", field_data(
        label="Membership", key="membership", field_type="choice", choices="Gold\nSilver",
    ))
    assert response.status_code == 302
    field.refresh_from_db()
    assert (field.label, field.key, field.choice_list) == ("Membership", "membership",
                                                          ["Gold", "Silver"])

    assert admin_client.post(f"{FIELDS}delete/{field.pk}/").status_code == 302
    assert not CustomField.objects.filter(relationship_type__isnull=True).exists()


@pytest.mark.parametrize("field_type", ["choice", "multichoice"])
def test_choice_fields_need_choices(admin_client, field_type):
    errors = form_errors(admin_client.post(f"{FIELDS}add/", field_data(
        field_type=field_type, choices="  \n "
    )))

    assert errors["choices"] == ["A choice field needs at least one choice."]
    assert not CustomField.objects.filter(relationship_type__isnull=True).exists()


def test_custom_field_key_format(admin_client):
    errors = form_errors(admin_client.post(f"{FIELDS}add/", field_data(key="Member Number")))

    assert "lower-case letters" in errors["key"][0]
    assert not CustomField.objects.filter(relationship_type__isnull=True).exists()


def test_custom_field_key_is_unique_per_target(admin_client):
    CustomFieldFactory(key="member_number")

    errors = form_errors(admin_client.post(f"{FIELDS}add/", field_data()))
    other_target = admin_client.post(f"{FIELDS}add/", field_data(target="organization"))

    assert list(errors) == ["key"]
    assert "already has the key 'member_number'" in errors["key"][0]
    assert other_target.status_code == 302
    assert CustomField.objects.filter(key="member_number").count() == 2


def test_key_and_type_of_a_field_with_values_cannot_change(admin_client):
    field = CustomFieldFactory(key="member_number", label="Member number")
    PersonFactory(custom={"member_number": "A1"})
    trashed(PersonFactory(custom={"member_number": "A2"}))
    OrganizationFactory(custom={"member_number": "ignored: another target"})
    PersonFactory(custom={"other": "x"})
    url = f"{FIELDS}edit/{field.pk}/"

    new_key = form_errors(admin_client.post(url, field_data(key="membership")))
    new_type = form_errors(admin_client.post(url, field_data(field_type="integer")))
    new_target = form_errors(admin_client.post(url, field_data(target="organization")))

    assert list(new_key) == ["key"]
    assert "2 contacts hold a value under this key" in new_key["key"][0]
    assert list(new_type) == ["field_type"]
    assert "2 contacts hold a value for this field" in new_type["field_type"][0]
    assert list(new_target) == ["target"]
    field.refresh_from_db()
    assert (field.key, field.field_type, field.target) == ("member_number", "text", "person")

    # The label and other settings still change.
    response = admin_client.post(url, field_data(label="Member no.", searchable="on"))
    assert response.status_code == 302
    field.refresh_from_db()
    assert (field.label, field.searchable) == ("Member no.", True)


def test_key_and_type_of_a_field_without_values_change(admin_client):
    field = CustomFieldFactory(key="member_number")
    PersonFactory(custom={"other": "x"})

    response = admin_client.post(f"{FIELDS}edit/{field.pk}/", field_data(
        key="membership", field_type="integer"
    ))

    assert response.status_code == 302
    field.refresh_from_db()
    assert (field.key, field.field_type) == ("membership", "integer")


# Bulk delete --------------------------------------------------------------------------------


@pytest.fixture
def bulk_delete_hook():
    with hooks.register_temporarily("before_delete_snippet", refuse_bulk_delete_of_needed_objects):
        yield


def bulk_delete_url(model_name, *objects, listing=FOLDERS):
    ids = "&".join(f"id={obj.pk}" for obj in objects)
    return f"/admin/bulk/wagtail_crm/{model_name}/delete/?{ids}&next={listing}"


def messages_of(response):
    return [str(m) for m in get_messages(response.wsgi_request)]


def test_bulk_delete_refuses_needed_folders_and_types(admin_client, bulk_delete_hook):
    suppliers = FolderFactory(name="Suppliers")
    trashed(PersonFactory(folder=suppliers))
    empty = FolderFactory(name="Empty")
    default = Folder.get_default()
    ContactMethodFactory()
    email, fax = method_type("Email"), method_type("Fax")

    folders = admin_client.post(bulk_delete_url("folder", suppliers, empty, default))
    assert (folders.status_code, folders.url) == (302, FOLDERS)
    assert messages_of(folders) == [
        "Contacts: This is the default folder, where contacts go when no folder is chosen, "
        "so it cannot be deleted.",
        "Suppliers: This folder still holds 1 contact; move it to another folder first. "
        "1 of them is in the trash: restore it to move it, or delete it for good.",
    ]
    types = admin_client.post(bulk_delete_url("contactmethodtype", email, fax, listing=TYPES))
    assert (types.status_code, types.url) == (302, TYPES)
    assert messages_of(types)[-1] == (
        "Email: 1 contact method uses this type; change its type or remove it first."
    )
    assert Folder.objects.filter(pk__in=[suppliers.pk, empty.pk, default.pk]).count() == 3
    assert ContactMethodType.objects.filter(pk__in=[email.pk, fax.pk]).count() == 2


def test_bulk_delete_of_unused_configuration(admin_client, bulk_delete_hook):
    empty = FolderFactory(name="Empty")
    fax = method_type("Fax")
    field = CustomFieldFactory()

    for url in (bulk_delete_url("folder", empty), bulk_delete_url("contactmethodtype", fax),
                bulk_delete_url("customfield", field)):
        assert admin_client.post(url).status_code == 302

    assert not Folder.objects.filter(pk=empty.pk).exists()
    assert not ContactMethodType.objects.filter(pk=fax.pk).exists()
    assert not CustomField.objects.filter(pk=field.pk).exists()


def test_single_delete_views_explain_for_themselves(admin_client, bulk_delete_hook):
    default = Folder.get_default()

    response = admin_client.get(f"{FOLDERS}delete/{default.pk}/")

    assert response.status_code == 200
    assert "This is the default folder" in response.context["refusal"]


# Permissions --------------------------------------------------------------------------------


def assert_denied(response):
    """Wagtail answers a PermissionDenied in the admin with a redirect and a message."""
    assert (response.status_code, response.url) == (302, "/admin/"), response.request["PATH_INFO"]
    messages = [str(m).strip() for m in get_messages(response.wsgi_request)]
    assert "Sorry, you do not have permission to access this area." in messages


def test_staff_without_model_permissions_are_denied(client):
    client.force_login(staff_user_without_permissions())
    folder = FolderFactory(name="Suppliers")
    email = method_type("Email")
    field = CustomFieldFactory()
    urls = [
        FOLDERS, f"{FOLDERS}add/", f"{FOLDERS}edit/{folder.pk}/", f"{FOLDERS}delete/{folder.pk}/",
        TYPES, f"{TYPES}add/", f"{TYPES}edit/{email.pk}/", f"{TYPES}delete/{email.pk}/",
        FIELDS, f"{FIELDS}add/", f"{FIELDS}edit/{field.pk}/", f"{FIELDS}delete/{field.pk}/",
    ]

    assert client.get("/admin/").status_code == 200
    for url in urls:
        assert_denied(client.get(url))
    for url in urls[1:4] + urls[5:8] + urls[9:12]:
        assert_denied(client.post(url, {"name": "x"}))
    assert_denied(client.post(f"{TYPES}reorder/{email.pk}/?position=3"))
    assert Folder.objects.filter(pk=folder.pk).exists()
    assert ContactMethodType.objects.filter(pk=email.pk).exists()
    assert CustomField.objects.filter(pk=field.pk).exists()
