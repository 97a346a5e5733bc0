"""The relationship admin: types with roles, custom fields of a type, relationships and access."""

import csv
import datetime
import io
import re

import pytest
from django.contrib.auth.models import Permission

from tests.admin_forms import formset, html
from tests.factories import (
    FolderFactory,
    OrganizationFactory,
    PersonFactory,
    folder_user,
    relate,
    relationship_type,
    role,
)
from wagtail_crm.models import (
    CustomField,
    Relationship,
    RelationshipType,
)
from wagtail_crm.permissions import HIDDEN_CONTACT

pytestmark = pytest.mark.django_db

TYPES = "/admin/crm/relationship-types/"
FIELDS = "/admin/crm/custom-fields/"
RELATIONSHIPS = "/admin/crm/relationships/"


# Relationship types --------------------------------------------------------------------------


def type_data(roles, **overrides):
    return {
        "name": "Mentor of", "slug": "mentor-of", "description": "", "sort_order": "50",
        **formset("roles", roles), **overrides,
    }


def role_row(name, slug, kind="person", at_least="1", at_most="1", position=""):
    return {
        "name": name, "slug": slug, "allowed_kind": kind, "min_participants": at_least,
        "max_participants": at_most, "tree_position": position,
    }


def test_add_a_relationship_type_with_roles(admin_client):
    assert admin_client.get(TYPES).status_code == 200
    response = admin_client.post(f"{TYPES}add/", type_data(
        [role_row("Mentor", "mentor"), role_row("Mentee", "mentee", at_most="")]
    ))
    assert response.status_code == 302
    created = RelationshipType.objects.get(slug="mentor-of")
    assert [(r.slug, r.max_participants) for r in created.roles.all()] == [
        ("mentor", 1), ("mentee", None)
    ]
    assert "Mentor of" in html(admin_client.get(TYPES))


def test_roles_are_checked_with_the_type(admin_client):
    response = admin_client.post(f"{TYPES}add/", type_data(
        [role_row("Mentor", "mentor"), role_row("Mentee", "mentee")], is_hierarchical="on"
    ))
    assert response.status_code == 200
    form = response.context["form"]
    assert "exactly one role in the position" in str(form.errors["is_hierarchical"])
    assert not RelationshipType.objects.filter(slug="mentor-of").exists()


def test_role_rows_show_their_own_errors(admin_client):
    response = admin_client.post(f"{TYPES}add/", type_data(
        [role_row("Mentor", "mentor", at_least="3", at_most="2"), role_row("Other", "mentor")]
    ))
    assert response.status_code == 200
    rows = response.context["form"].formsets["roles"].forms
    assert "cannot be fewer than the fewest" in str(rows[0].errors["max_participants"])
    assert "Another role of this type has this slug" in str(rows[1].errors["slug"])


def test_a_type_in_use_is_not_deleted(admin_client):
    relate("spouse-of", spouse=[PersonFactory(), PersonFactory()])
    spouse = relationship_type("spouse-of")
    response = admin_client.post(f"{TYPES}delete/{spouse.pk}/")
    assert response.status_code == 200
    assert "1 relationship is of this type" in html(response)
    assert RelationshipType.objects.filter(pk=spouse.pk).exists()

    unused = relationship_type("sibling-of")
    assert admin_client.post(f"{TYPES}delete/{unused.pk}/").status_code == 302
    assert not RelationshipType.objects.filter(pk=unused.pk).exists()


# Custom fields of relationship types ---------------------------------------------------------


def field_data(**overrides):
    return {
        "target": "relationship", "label": "Budget", "key": "budget", "field_type": "text",
        "choices": "", "help_text": "", "sort_order": "0", **overrides,
    }


def test_custom_fields_for_a_relationship_type(admin_client):
    form = admin_client.get(f"{FIELDS}add/?target=relationship").context["form"]
    assert "relationship_type" in form.fields
    assert "relationship_type" not in admin_client.get(f"{FIELDS}add/").context["form"].fields

    opportunity = relationship_type("sales-opportunity")
    response = admin_client.post(f"{FIELDS}add/", field_data(relationship_type=opportunity.pk))
    assert response.status_code == 302
    assert CustomField.objects.get(key="budget").relationship_type == opportunity

    # The key is taken for this type, and free for another type.
    response = admin_client.post(f"{FIELDS}add/", field_data(relationship_type=opportunity.pk))
    assert "already has the key" in str(response.context["form"].errors["key"])
    other = relationship_type("director-of")
    assert admin_client.post(
        f"{FIELDS}add/", field_data(relationship_type=other.pk)
    ).status_code == 302

    # A relationship field needs its type: on the type field when the form showed it...
    response = admin_client.post(f"{FIELDS}add/", field_data(key="other", relationship_type=""))
    assert "relationship_type" in response.context["form"].errors
    # ...otherwise on "applies to", and the form shows the type field to choose it.
    response = admin_client.post(f"{FIELDS}add/", field_data(key="other"))
    assert "target" in response.context["form"].errors
    assert 'name="relationship_type"' in html(response)

    listing = html(admin_client.get(f"{FIELDS}?target=relationship"))
    assert "Sales opportunity" in listing and "Director of" in listing


# Relationships -------------------------------------------------------------------------------


def relationship_data(rtype, participants, **overrides):
    return {
        "type": str(rtype.pk), "start_date": "", "end_date": "", "description": "",
        **formset("participants", participants), **overrides,
    }


def test_add_a_relationship(admin_client):
    person, organisation = PersonFactory(), OrganizationFactory()
    employee_of = relationship_type("employee-of")
    response = admin_client.post(f"{RELATIONSHIPS}add/", relationship_data(employee_of, [
        {"contact": person.pk, "role": role("employee-of", "employee").pk},
        {"contact": organisation.pk, "role": role("employee-of", "employer").pk},
    ], start_date="2024-01-01", is_primary="on"))
    assert response.status_code == 302
    relationship = Relationship.objects.involving(person).get()
    assert relationship.is_primary and relationship.start_date.isoformat() == "2024-01-01"
    person.refresh_from_db()
    assert person.primary_organization_id == organisation.pk
    assert Relationship.snippet_viewset.get_url_name("add") == (
        "wagtailsnippets_wagtail_crm_relationship:add"
    )


def test_errors_show_on_their_field_and_row(admin_client):
    person, other = PersonFactory(), PersonFactory()
    employee_of = relationship_type("employee-of")
    response = admin_client.post(f"{RELATIONSHIPS}add/", relationship_data(employee_of, [
        {"contact": person.pk, "role": role("employee-of", "employee").pk},
        {"contact": other.pk, "role": role("employee-of", "employer").pk},
    ], start_date="2024-05-01", end_date="2024-01-01"))
    assert response.status_code == 200
    form = response.context["form"]
    assert "cannot be before the start date" in str(form.errors["end_date"])
    rows = form.formsets["participants"].forms
    assert "is a person" in str(rows[1].non_field_errors())
    assert not rows[0].errors
    assert not Relationship.objects.exists()


def test_a_role_of_another_type_is_refused_on_its_row(admin_client):
    person, organisation = PersonFactory(), OrganizationFactory()
    response = admin_client.post(f"{RELATIONSHIPS}add/", relationship_data(
        relationship_type("employee-of"), [
            {"contact": person.pk, "role": role("director-of", "director").pk},
            {"contact": organisation.pk, "role": role("employee-of", "employer").pk},
        ],
    ))
    assert response.status_code == 200
    rows = response.context["form"].formsets["participants"].forms
    assert "role" in rows[0].errors


def test_custom_fields_of_the_type(admin_client):
    opportunity = relationship_type("sales-opportunity")
    customer, rep = OrganizationFactory(), PersonFactory()
    participants = [
        {"contact": customer.pk, "role": role("sales-opportunity", "customer").pk},
        {"contact": rep.pk, "role": role("sales-opportunity", "sales-representative").pk},
    ]
    form = admin_client.get(f"{RELATIONSHIPS}add/?type=sales-opportunity").context["form"]
    assert "custom__stage" in form.fields and "custom__potential_revenue" in form.fields
    response = admin_client.post(f"{RELATIONSHIPS}add/", relationship_data(
        opportunity, participants, custom__potential_revenue="lots", custom__stage="Won",
    ))
    assert response.status_code == 200
    assert "custom__potential_revenue" in response.context["form"].errors
    response = admin_client.post(f"{RELATIONSHIPS}add/", relationship_data(
        opportunity, participants, custom__potential_revenue="1200.50", custom__stage="Won",
    ))
    assert response.status_code == 302
    relationship = Relationship.objects.get()
    assert relationship.custom["stage"] == "Won"
    assert relationship.custom["potential_revenue"] in ("1200.50", 1200.5)


def test_the_add_url_fills_in_the_contact_and_type(admin_client):
    person = PersonFactory()
    response = admin_client.get(f"{RELATIONSHIPS}add/?contact={person.pk}&type=employee-of")
    form = response.context["form"]
    assert form.initial["type"] == relationship_type("employee-of").pk
    first = form.formsets["participants"].forms[0]
    assert first.initial["contact"] == person.pk
    assert first.initial["role"] == role("employee-of", "employee").pk
    assert form.fields["type"].disabled
    # The disabled field is not posted: the form posts back to the URL with the type.
    assert response.context["action_url"] == f"{RELATIONSHIPS}add/?type=employee-of"


def test_adding_starts_with_choosing_the_type(admin_client):
    acme = OrganizationFactory(organization_name="Acme")

    page = html(admin_client.get(f"{RELATIONSHIPS}add/"))
    assert "Choose the type of relationship" in page
    assert '?type=spouse-of"' in page and '?type=sales-opportunity"' in page

    # For an organisation, only types with a role an organisation may play.
    page = html(admin_client.get(f"{RELATIONSHIPS}add/?contact={acme.pk}"))
    assert "A new relationship with Acme" in page
    assert f"?contact={acme.pk}&amp;type=employee-of" in page
    assert "type=spouse-of" not in page and "type=parent-of" not in page


def test_the_chosen_type_cannot_be_swapped_in_the_post(admin_client):
    customer, rep = OrganizationFactory(), PersonFactory()
    participants = [
        {"contact": customer.pk, "role": role("sales-opportunity", "customer").pk},
        {"contact": rep.pk, "role": role("sales-opportunity", "sales-representative").pk},
    ]
    response = admin_client.post(
        f"{RELATIONSHIPS}add/?type=sales-opportunity",
        relationship_data(relationship_type("spouse-of"), participants, custom__stage="Won"),
    )
    assert response.status_code == 302
    relationship = Relationship.objects.get()
    assert relationship.type.slug == "sales-opportunity" and relationship.custom["stage"] == "Won"


def test_a_saved_relationship_keeps_its_type(admin_client):
    relationship = relate("employee-of", employee=PersonFactory(), employer=OrganizationFactory())
    participants = list(relationship.participants.order_by("sort_order"))
    data = relationship_data(relationship_type("director-of"), [
        {"contact": p.contact_id, "role": p.role_id, "id": p.pk} for p in participants
    ], description="Still employed")
    data["participants-INITIAL_FORMS"] = str(len(participants))

    form = admin_client.get(f"{RELATIONSHIPS}edit/{relationship.pk}/").context["form"]
    assert form.fields["type"].disabled and "keeps its type" in form.fields["type"].help_text
    assert admin_client.post(f"{RELATIONSHIPS}edit/{relationship.pk}/", data).status_code == 302
    relationship.refresh_from_db()
    assert relationship.type.slug == "employee-of"
    assert relationship.description == "Still employed"


def test_edit_a_relationship(admin_client):
    person, organisation = PersonFactory(), OrganizationFactory()
    relationship = relate("employee-of", employee=person, employer=organisation)
    participants = list(relationship.participants.order_by("sort_order"))
    data = relationship_data(relationship_type("employee-of"), [
        {"contact": p.contact_id, "role": p.role_id, "id": p.pk} for p in participants
    ], end_date="2020-01-01")
    data["participants-INITIAL_FORMS"] = str(len(participants))
    response = admin_client.post(f"{RELATIONSHIPS}edit/{relationship.pk}/", data)
    assert response.status_code == 302
    relationship.refresh_from_db()
    assert relationship.end_date.isoformat() == "2020-01-01"


def test_listing_filters_and_export(admin_client):
    ann, bob, acme = PersonFactory(), PersonFactory(), OrganizationFactory()
    relate("employee-of", employee=ann, employer=acme)
    relate("employee-of", employee=bob, employer=acme, fields={"end_date": "2001-01-01"})
    relate("spouse-of", spouse=[ann, bob])
    listing = html(admin_client.get(RELATIONSHIPS))
    assert "Employee of" in listing and "Spouse of" in listing and "Past" in listing

    response = admin_client.get(RELATIONSHIPS, {"status": "past"})
    assert [r.pk for r in response.context["object_list"]] == list(
        Relationship.objects.past().values_list("pk", flat=True)
    )
    spouse = relationship_type("spouse-of")
    response = admin_client.get(RELATIONSHIPS, {"type": spouse.pk})
    assert {r.type_id for r in response.context["object_list"]} == {spouse.pk}
    response = admin_client.get(RELATIONSHIPS, {"contact": bob.pk})
    assert len(response.context["object_list"]) == 2
    assert admin_client.get(RELATIONSHIPS, {"ordering": "-start_date"}).status_code == 200

    response = admin_client.get(RELATIONSHIPS, {"export": "csv", "status": "active"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    assert rows[0] == ["Type", "Participants", "Participant ids", "Start date", "End date",
                       "Status", "Primary", "Description", "Sales opportunity: Close date",
                       "Sales opportunity: Stage", "Sales opportunity: Potential revenue",
                       "Sales opportunity: Profit margin (percent)"]
    assert len(rows) == 3
    assert f"{ann} (Employee), {acme} (Employer)" in [row[1] for row in rows]
    assert f"employee={ann.uid}; employer={acme.uid}" in [row[2] for row in rows]
    assert admin_client.get(RELATIONSHIPS, {"export": "xlsx"}).status_code == 200


def test_the_export_quotes_what_a_spreadsheet_would_run(admin_client):
    relate("employee-of", employee=PersonFactory(given_name="=cmd", family_name="Calc"),
           employer=OrganizationFactory(), fields={"description": "=1+1"})

    response = admin_client.get(RELATIONSHIPS, {"export": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))

    row = dict(zip(rows[0], rows[1], strict=True))
    assert row["Description"] == "'=1+1"
    assert row["Participants"].startswith("'=cmd Calc (Employee)")


def opportunity(customer, representative, **custom):
    return relate(
        "sales-opportunity", customer=customer, **{"sales-representative": representative},
        fields={"custom": custom, "description": "Renewal"},
    )


def test_one_type_shows_a_column_per_role_and_attribute(admin_client):
    acme, rep = OrganizationFactory(organization_name="Acme"), PersonFactory()
    opportunity(acme, rep, stage="Proposal", potential_revenue="12000.50", profit_margin="12.5")
    relate("spouse-of", spouse=[PersonFactory(), PersonFactory()])
    sales = relationship_type("sales-opportunity")

    page = html(admin_client.get(RELATIONSHIPS, {"type": sales.pk}))

    thead = re.search(r'<table class="listing.*?</thead>', page, re.S).group(0)
    headings = [re.sub(r"<[^>]+>|\s+", " ", th).strip()
                for th in re.findall(r"<th[^>]*>(.*?)</th>", thead, re.S)]
    assert [h for h in headings if h] == [
        "Type", "Customer", "Customer contact", "Sales representative", "Start", "End",
        "Status", "Close date", "Stage", "Potential revenue", "Profit margin (percent)",
    ]
    assert "Proposal" in page and "12000.50" in page and "12.5%" in page
    assert "Acme" in page

    response = admin_client.get(RELATIONSHIPS, {"type": sales.pk, "export": "csv"})
    rows = list(csv.reader(io.StringIO(b"".join(response.streaming_content).decode())))
    headings = rows[0]
    assert headings[:3] == ["Type", "Participants", "Customer"]
    assert headings[-4:] == ["Close date", "Stage", "Potential revenue", "Profit margin (percent)"]
    row = dict(zip(headings, rows[1], strict=True))
    assert row["Customer"] == "Acme" and row["Sales representative"] == str(rep)
    assert (row["Stage"], row["Potential revenue"], row["Profit margin (percent)"]) == (
        "Proposal", "12000.50", "12.5"
    )
    assert len(rows) == 2


def test_upcoming_relationships_have_their_own_status(admin_client):
    person, acme = PersonFactory(), OrganizationFactory()
    later = datetime.date.today() + datetime.timedelta(days=30)
    relate("employee-of", employee=person, employer=acme,
           fields={"start_date": later, "is_primary": True})
    person.refresh_from_db()
    assert person.primary_organization is None

    response = admin_client.get(RELATIONSHIPS, {"status": "upcoming"})
    assert len(response.context["object_list"]) == 1
    assert "Upcoming" in html(response)
    assert not admin_client.get(RELATIONSHIPS, {"status": "active"}).context["object_list"]


def test_listing_queries_do_not_grow_with_rows(admin_client, django_assert_max_num_queries):
    acme = OrganizationFactory()
    relate("employee-of", employee=PersonFactory(), employer=acme)
    with django_assert_max_num_queries(40) as few:
        admin_client.get(RELATIONSHIPS)
    for _n in range(10):
        relate("employee-of", employee=PersonFactory(), employer=acme)
    with django_assert_max_num_queries(len(few.captured_queries)):
        admin_client.get(RELATIONSHIPS)


# Access --------------------------------------------------------------------------------------


def relationship_user(folder, level="manage"):
    user = folder_user("restricted", (folder, level))
    for action in ("add", "change", "delete", "view"):
        user.user_permissions.add(Permission.objects.get(
            content_type__app_label="wagtail_crm", codename=f"{action}_relationship"
        ))
    return user


@pytest.fixture
def restricted(client):
    mine, theirs = FolderFactory(name="Mine"), FolderFactory(name="Theirs")
    client.force_login(relationship_user(mine))
    client.mine, client.theirs = mine, theirs
    return client


def test_a_restricted_user_sees_only_relationships_with_a_visible_participant(restricted):
    visible = PersonFactory(folder=restricted.mine, given_name="Visible")
    secret = PersonFactory(folder=restricted.theirs, given_name="Zebediah")
    secret_org = OrganizationFactory(folder=restricted.theirs, organization_name="Secretcorp")
    shared = relate("employee-of", employee=visible, employer=secret_org)
    hidden = relate("employee-of", employee=secret, employer=secret_org)

    listing = restricted.get(RELATIONSHIPS)
    assert [r.pk for r in listing.context["object_list"]] == [shared.pk]
    page = html(listing)
    assert str(visible) in page and str(HIDDEN_CONTACT) in page
    assert "Secretcorp" not in page and "Zebediah" not in page

    export = b"".join(restricted.get(RELATIONSHIPS, {"export": "csv"}).streaming_content)
    assert b"Secretcorp" not in export and str(HIDDEN_CONTACT).encode() in export

    edit = restricted.get(f"{RELATIONSHIPS}edit/{shared.pk}/")
    assert edit.status_code == 200
    assert "Secretcorp" not in html(edit)
    assert str(HIDDEN_CONTACT) in html(edit)
    for view in ("delete", "history", "usage"):
        response = restricted.get(f"{RELATIONSHIPS}{view}/{shared.pk}/")
        assert response.status_code == 200 and "Secretcorp" not in html(response)

    for view in ("edit", "delete", "history"):
        assert restricted.get(f"{RELATIONSHIPS}{view}/{hidden.pk}/").status_code == 404


def test_a_restricted_user_keeps_hidden_participants_but_cannot_add_them(restricted):
    visible = PersonFactory(folder=restricted.mine)
    secret_org = OrganizationFactory(folder=restricted.theirs)
    other_secret = OrganizationFactory(folder=restricted.theirs)
    employee_of = relationship_type("employee-of")
    employee, employer = role("employee-of", "employee"), role("employee-of", "employer")

    response = restricted.post(f"{RELATIONSHIPS}add/", relationship_data(employee_of, [
        {"contact": visible.pk, "role": employee.pk},
        {"contact": other_secret.pk, "role": employer.pk},
    ]))
    assert response.status_code == 200
    assert "contact" in response.context["form"].formsets["participants"].forms[1].errors
    assert not Relationship.objects.exists()

    shared = relate("employee-of", employee=visible, employer=secret_org)
    participants = list(shared.participants.order_by("sort_order"))
    data = relationship_data(employee_of, [
        {"contact": p.contact_id, "role": p.role_id, "id": p.pk} for p in participants
    ], description="Kept")
    data["participants-INITIAL_FORMS"] = str(len(participants))
    response = restricted.post(f"{RELATIONSHIPS}edit/{shared.pk}/", data)
    assert response.status_code == 302, response.context["form"].formsets["participants"].errors
    shared.refresh_from_db()
    assert shared.description == "Kept"
    assert set(shared.participants.values_list("contact_id", flat=True)) == {
        visible.pk, secret_org.pk
    }

    # Swapping the hidden employer for another hidden organisation is refused.
    swapped = {**data, "participants-1-contact": str(other_secret.pk)}
    response = restricted.post(f"{RELATIONSHIPS}edit/{shared.pk}/", swapped)
    assert response.status_code == 200
    assert "contact" in response.context["form"].formsets["participants"].forms[1].errors
    # And so is removing the hidden participant.
    removed = {**data, "participants-1-DELETE": "1"}
    response = restricted.post(f"{RELATIONSHIPS}edit/{shared.pk}/", removed)
    assert response.status_code == 200
    assert "cannot see" in str(response.context["form"].non_field_errors())
    assert shared.participants.count() == 2


def test_a_viewer_may_not_edit(client):
    mine = FolderFactory(name="Mine")
    client.force_login(relationship_user(mine, "view"))
    shared = relate("spouse-of", spouse=[PersonFactory(folder=mine), PersonFactory(folder=mine)])
    # Wagtail answers a PermissionDenied with a redirect to the dashboard.
    for view in ("edit", "delete"):
        response = client.get(f"{RELATIONSHIPS}{view}/{shared.pk}/")
        assert (response.status_code, response.url) == (302, "/admin/")
    assert client.get(RELATIONSHIPS).status_code == 200


def test_the_contact_filter_offers_visible_contacts_only(restricted):
    PersonFactory(folder=restricted.theirs, given_name="Zebediah")
    response = restricted.get(RELATIONSHIPS)
    assert "Zebediah" not in html(response)


def test_bulk_delete_never_lists_hidden_participants(restricted):
    visible = PersonFactory(folder=restricted.mine)
    secret_org = OrganizationFactory(folder=restricted.theirs, organization_name="Secretcorp")
    shared = relate("employee-of", employee=visible, employer=secret_org)
    url = f"/admin/bulk/wagtail_crm/relationship/delete/?id={shared.pk}"
    response = restricted.get(url, follow=True)
    assert "Secretcorp" not in html(response)
    assert "one at a time" in html(response)
    assert restricted.post(url).status_code == 302
    assert Relationship.objects.filter(pk=shared.pk).exists()


def test_a_role_in_use_is_not_removed(admin_client):
    relate("spouse-of", spouse=[PersonFactory(), PersonFactory()])
    spouse_of = relationship_type("spouse-of")
    spouse = role("spouse-of", "spouse")
    data = {
        "name": spouse_of.name, "slug": spouse_of.slug, "description": "", "sort_order": "0",
        "is_symmetric": "on",
        **formset("roles", [{**role_row("Spouse", "spouse", at_least="2", at_most="2"),
                             "id": str(spouse.pk), "DELETE": "1"}], initial=1),
    }
    response = admin_client.post(f"{TYPES}edit/{spouse_of.pk}/", data)
    assert response.status_code == 200
    assert "still use the role" in str(response.context["form"].non_field_errors())
    assert spouse_of.roles.filter(pk=spouse.pk).exists()


def test_the_contact_chooser_offers_only_contacts_the_user_may_view(client):
    from django.urls import reverse

    from tests.factories import FolderFactory, OrganizationFactory, PersonFactory, folder_user
    from wagtail_crm.snippets.access import contact_chooser_viewset

    mine, theirs = FolderFactory(name="Mine"), FolderFactory(name="Theirs")
    user = folder_user("chooser_viewer", (mine, "view"))
    seen = [PersonFactory(family_name="Seen", folder=mine),
            OrganizationFactory(organization_name="Seen Org", folder=mine)]
    hidden = PersonFactory(family_name="Unseen", folder=theirs)
    client.force_login(user)

    results = client.get(reverse(contact_chooser_viewset.get_url_name("choose_results")))
    chosen = client.get(reverse(contact_chooser_viewset.get_url_name("chosen"), args=[hidden.pk]))
    create = client.get(reverse(contact_chooser_viewset.get_url_name("create")))

    html = results.content.decode()
    assert all(contact.display_name in html for contact in seen)
    assert "Unseen" not in html
    assert chosen.status_code == 404
    assert create.status_code == 404
