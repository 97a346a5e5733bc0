"""Relationship types, validation, custom attributes and the primary organisation."""

import datetime

import pytest
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from wagtail.models import ModelLogEntry

from tests.factories import (
    CustomFieldFactory,
    OrganizationFactory,
    PersonFactory,
    RelationshipRoleFactory,
    RelationshipTypeFactory,
    participants_for,
    relate,
    relationship_type,
)
from tests.test_contact_form import edit_data
from wagtail_crm.models import (
    Contact,
    CustomField,
    Relationship,
    RelationshipParticipant,
    RelationshipRole,
    RelationshipStatus,
    RelationshipType,
)
from wagtail_crm.search import search_contacts
from wagtail_crm.services.relationships import (
    refresh_primary_organizations,
    relationships_needing,
    save_relationship,
    subtree,
    sync_primary_organization,
    validate_relationship,
)

pytestmark = pytest.mark.django_db

TODAY = datetime.date.today()
YESTERDAY = TODAY - datetime.timedelta(days=1)
TOMORROW = TODAY + datetime.timedelta(days=1)


def errors_of(call):
    """The error dict of the ValidationError ``call()`` raises: {key: [(code, message)]}."""
    with pytest.raises(ValidationError) as caught:
        call()
    return {
        key: [(error.code, error.messages[0]) for error in errors]
        for key, errors in caught.value.error_dict.items()
    }


def validate(type_slug, fields=None, **by_role):
    relationship = Relationship(type=relationship_type(type_slug), **(fields or {}))
    return lambda: validate_relationship(relationship, participants_for(type_slug, **by_role))


def organization(name):
    return OrganizationFactory(organization_name=name)


def person(given, family="Doe"):
    return PersonFactory(given_name=given, family_name=family)


def reload(contact):
    return Contact.all_objects.get(pk=contact.pk)


# Seeded types --------------------------------------------------------------------------------


def test_default_types_are_seeded_by_the_migration():
    slugs = set(RelationshipType.objects.values_list("slug", flat=True))

    assert {"employee-of", "director-of", "department-of", "subsidiary-of", "reports-to",
            "spouse-of", "parent-of", "sibling-of", "sales-opportunity"} <= slugs
    employee_of = relationship_type("employee-of")
    assert (employee_of.is_hierarchical, employee_of.sets_primary_organization) == (True, True)
    assert [(r.slug, r.allowed_kind, r.min_participants, r.max_participants, r.tree_position)
            for r in employee_of.roles.all()] == [
        ("employee", "person", 1, 1, "child"), ("employer", "organization", 1, 1, "parent")]
    spouse = relationship_type("spouse-of")
    assert spouse.is_symmetric and not spouse.is_hierarchical
    assert [(r.min_participants, r.max_participants) for r in spouse.roles.all()] == [(2, 2)]
    for slug in ("department-of", "subsidiary-of", "reports-to"):
        assert relationship_type(slug).is_hierarchical
    opportunity = relationship_type("sales-opportunity")
    assert [(r.slug, r.min_participants, r.max_participants) for r in opportunity.roles.all()] == [
        ("customer", 1, 1), ("customer-contact", 0, None), ("sales-representative", 1, None)]
    fields = CustomField.objects.for_relationship_type(opportunity)
    assert [(f.key, f.field_type) for f in fields] == [
        ("close_date", "date"), ("stage", "choice"), ("potential_revenue", "decimal"),
        ("profit_margin", "percent")]
    assert fields[1].choice_list == [
        "Prospecting", "Qualification", "Proposal", "Negotiation", "Won", "Lost"]


def test_every_seeded_type_passes_its_own_role_checks():
    for rtype in RelationshipType.objects.all():
        rtype.validate_roles(list(rtype.roles.all()))


# Types and roles -----------------------------------------------------------------------------


def roles(*specs):
    return [RelationshipRole(name=name, slug=name.lower(), allowed_kind=kind,
                             min_participants=least, max_participants=most, tree_position=pos)
            for name, kind, least, most, pos in specs]


def test_a_hierarchical_type_needs_one_parent_and_one_child_role():
    rtype = RelationshipType(name="Team of", slug="team-of", is_hierarchical=True)

    errors = errors_of(lambda: rtype.validate_roles(roles(("Team", "any", 1, 1, "child"))))

    assert errors == {"is_hierarchical": [(None, "A hierarchical type needs exactly one role "
                                                 "in the position “Parent (above in the tree)”.")]}
    rtype.validate_roles(roles(("Team", "any", 1, 1, "child"), ("Group", "any", 1, 1, "parent")))


def test_tree_roles_take_one_participant_and_need_a_hierarchical_type():
    hierarchical = RelationshipType(name="Team of", slug="team-of", is_hierarchical=True)
    flat = RelationshipType(name="Knows", slug="knows")

    wide = errors_of(lambda: hierarchical.validate_roles(
        roles(("Team", "any", 1, None, "child"), ("Group", "any", 1, 1, "parent"))))
    positioned = errors_of(lambda: flat.validate_roles(roles(("Friend", "any", 1, 1, "child"))))

    assert wide[NON_FIELD_ERRORS][0][1] == (
        "“Team” is an end of the tree edge: it takes exactly one participant.")
    assert positioned[NON_FIELD_ERRORS][0][1] == (
        "“Friend” has a tree position, but the type is not hierarchical.")


def test_a_symmetric_type_has_one_role_and_no_tree():
    rtype = RelationshipType(name="Twin of", slug="twin-of", is_symmetric=True,
                             is_hierarchical=True)

    errors = errors_of(lambda: rtype.validate_roles(
        roles(("Twin", "person", 1, 1, "child"), ("Other", "person", 1, 1, "parent"))))

    assert errors["is_symmetric"] == [
        (None, "A symmetric type has one role, which every participant plays.")]
    assert errors["is_hierarchical"] == [(None, "A symmetric type cannot be hierarchical.")]


def test_only_a_person_below_an_organisation_can_set_the_organisation():
    rtype = RelationshipType(name="Member of", slug="member-of", is_hierarchical=True,
                             sets_primary_organization=True)

    errors = errors_of(lambda: rtype.validate_roles(
        roles(("Member", "any", 1, 1, "child"), ("Club", "organization", 1, 1, "parent"))))

    assert list(errors) == ["sets_primary_organization"]


def test_a_type_needs_roles_with_distinct_names():
    rtype = RelationshipType(name="Knows", slug="knows")

    assert errors_of(lambda: rtype.validate_roles([])) == {
        NON_FIELD_ERRORS: [(None, "A relationship type needs at least one role.")]}
    assert errors_of(lambda: rtype.validate_roles(
        roles(("Friend", "any", 1, 1, ""), ("friend ", "any", 1, 1, "")))) == {
        NON_FIELD_ERRORS: [(None, "Give each role of a type its own name.")]}


def test_roles_given_in_memory_are_checked_by_clean():
    rtype = RelationshipType(name="Team of", slug="team-of", is_hierarchical=True,
                             roles=roles(("Team", "any", 1, 1, "child")))

    assert "is_hierarchical" in errors_of(rtype.full_clean)


def test_a_role_allows_at_least_as_many_as_its_minimum():
    rtype = RelationshipTypeFactory()

    errors = errors_of(RelationshipRoleFactory.build(
        type=rtype, min_participants=2, max_participants=1).full_clean)

    assert errors == {"max_participants": [
        (None, "The most participants cannot be fewer than the fewest (2).")]}


# Participants --------------------------------------------------------------------------------


def test_end_before_start_is_refused_on_the_end_date():
    errors = errors_of(validate(
        "employee-of", fields={"start_date": TODAY, "end_date": YESTERDAY},
        employee=person("Ann"), employer=organization("Acme")))

    assert errors == {"end_date": [(
        "end_before_start",
        f"The end date cannot be before the start date ({TODAY.isoformat()}).")]}


def test_a_type_is_required():
    errors = errors_of(lambda: validate_relationship(Relationship(), []))

    assert errors == {"type": [("required", "Choose the type of relationship.")]}


def test_each_role_needs_its_minimum_and_takes_at_most_its_maximum():
    too_few = errors_of(validate("employee-of", employee=person("Ann")))
    too_many = errors_of(validate(
        "employee-of", employee=person("Bob"),
        employer=[organization("Acme"), organization("Globex")]))

    assert too_few == {NON_FIELD_ERRORS: [
        ("too_few", "“Employer” needs at least 1 participant; it has 0.")]}
    assert too_many == {NON_FIELD_ERRORS: [
        ("too_many", "“Employer” takes at most 1 participant; it has 2.")]}


def test_a_role_without_upper_limit_takes_many():
    validate("sales-opportunity", customer=organization("Acme"),
             sales_representative=[person("Ann"), person("Bob"), person("Cy")])()


def test_roles_take_only_their_kind_of_contact():
    acme = organization("Acme")

    errors = errors_of(validate("employee-of", employee=acme, employer=organization("Globex")))

    assert errors == {NON_FIELD_ERRORS: [(
        "wrong_kind", "Acme is an organisation; the role “Employee” is for people.")]}


def test_an_organisation_role_refuses_a_person():
    errors = errors_of(validate("employee-of", employee=person("Ann"), employer=person("Bob")))

    assert errors == {NON_FIELD_ERRORS: [(
        "wrong_kind", "Bob Doe is a person; the role “Employer” is for organisations.")]}


def test_the_same_contact_cannot_take_part_twice():
    ann = person("Ann")
    participants = participants_for("spouse-of", spouse=[ann, ann])

    with pytest.raises(ValidationError) as caught:
        validate_relationship(Relationship(type=relationship_type("spouse-of")), participants)

    error = caught.value.error_dict[NON_FIELD_ERRORS][0]
    assert error.code == "duplicate_contact"
    assert error.messages == [
        "Ann Doe takes part twice; a contact plays one role in a relationship."]
    assert error.params["index"] == 1


def test_participants_must_play_roles_of_the_relationship_type():
    ann, bob = person("Ann"), person("Bob")
    participants = participants_for("spouse-of", spouse=[ann]) + participants_for(
        "sibling-of", sibling=[bob])

    errors = errors_of(lambda: validate_relationship(
        Relationship(type=relationship_type("spouse-of")), participants))

    assert errors[NON_FIELD_ERRORS] == [
        ("role_of_other_type", "Bob Doe: the role “Sibling” is not a role of Spouse of."),
        ("too_few", "“Spouse” needs at least 2 participants; it has 1."),
    ]


def test_clean_checks_participants_given_in_memory():
    ann = person("Ann")
    relationship = Relationship(type=relationship_type("employee-of"),
                                participants=participants_for("employee-of", employee=ann))

    assert "too_few" in [code for code, _m in errors_of(relationship.full_clean)[NON_FIELD_ERRORS]]
    # Without participants in memory (an admin form's model validation) only fields are checked.
    Relationship(type=relationship_type("employee-of")).full_clean()


def test_save_relationship_saves_nothing_when_invalid():
    with pytest.raises(ValidationError):
        save_relationship(Relationship(type=relationship_type("employee-of")),
                          participants_for("employee-of", employee=person("Ann")))

    assert not Relationship.objects.exists()
    assert not RelationshipParticipant.objects.exists()


# Cycles --------------------------------------------------------------------------------------


def test_a_two_long_cycle_is_refused():
    sales, europe = organization("Sales"), organization("Europe")
    relate("department-of", department=europe, parent=sales)

    errors = errors_of(validate("department-of", department=sales, parent=europe))

    assert errors == {NON_FIELD_ERRORS: [(
        "cycle", "This would make a loop in the tree: Europe is already below Sales "
                 "(Sales › Europe).")]}


def test_a_three_long_cycle_across_types_is_refused():
    acme, sales, europe = organization("Acme"), organization("Sales"), organization("Europe")
    relate("department-of", department=sales, parent=acme)
    relate("subsidiary-of", subsidiary=europe, parent=sales)

    errors = errors_of(validate("department-of", department=acme, parent=europe))

    assert errors[NON_FIELD_ERRORS] == [(
        "cycle", "This would make a loop in the tree: Europe is already below Acme "
                 "(Acme › Sales › Europe).")]


def test_past_relationships_make_no_cycle():
    sales, europe = organization("Sales"), organization("Europe")
    relate("department-of", department=europe, parent=sales, fields={"end_date": YESTERDAY})

    validate("department-of", department=sales, parent=europe)()
    # An ended relationship may close a loop with current ones: it is not on the tree.
    relate("department-of", department=sales, parent=europe)
    validate("department-of", fields={"end_date": YESTERDAY}, department=europe, parent=sales)()


def test_editing_a_tree_edge_does_not_count_itself_as_a_cycle():
    sales, europe = organization("Sales"), organization("Europe")
    relationship = relate("department-of", department=europe, parent=sales)
    relationship.description = "Since the merger"

    save_relationship(relationship)


# Custom attributes ---------------------------------------------------------------------------


def opportunity(custom):
    return Relationship(type=relationship_type("sales-opportunity"), custom=custom)


def test_opportunity_attributes_are_validated_per_key():
    relationship = opportunity({"close_date": "next week", "stage": "Dreaming",
                                "potential_revenue": "lots", "profit_margin": "120"})

    errors = errors_of(relationship.full_clean)

    assert errors == {
        "custom__close_date": [("invalid_custom", "Close date: Enter a valid date.")],
        "custom__stage": [("invalid_custom", "Stage: Select a valid choice. Dreaming is not "
                                             "one of the available choices.")],
        "custom__potential_revenue": [("invalid_custom", "Potential revenue: Enter a number.")],
        "custom__profit_margin": [(
            "invalid_custom",
            "Profit margin (percent): Ensure this value is less than or equal to 100.")],
    }


def test_a_percentage_is_from_0_to_100():
    below = errors_of(opportunity({"profit_margin": "-1"}).full_clean)

    assert below["custom__profit_margin"][0][1] == (
        "Profit margin (percent): Ensure this value is greater than or equal to 0.")
    for value in ("0", "12.5", "100"):
        opportunity({"profit_margin": value}).full_clean()


def test_valid_attributes_are_stored_as_json_and_unknown_keys_kept():
    relationship = opportunity({"close_date": "2030-03-31", "stage": "Proposal",
                                "potential_revenue": "12000.50", "profit_margin": "12.5",
                                "legacy": "kept"})

    relationship.full_clean()

    assert relationship.custom == {"close_date": "2030-03-31", "stage": "Proposal",
                                   "potential_revenue": "12000.50", "profit_margin": "12.5",
                                   "legacy": "kept"}


def test_a_complete_opportunity_saves_with_its_description():
    acme, ann, bob = organization("Acme"), person("Ann"), person("Bob")

    saved = relate("sales-opportunity", customer=acme, customer_contact=ann,
                   sales_representative=bob,
                   fields={"description": "Fleet renewal", "custom": {"stage": "Won"}})

    saved.refresh_from_db()
    assert (saved.description, saved.custom) == ("Fleet renewal", {"stage": "Won"})
    assert [(p.contact, p.role.slug) for p in saved.participants.all()] == [
        (acme, "customer"), (ann, "customer-contact"), (bob, "sales-representative")]


def test_custom_fields_for_relationships_need_a_type_and_others_none():
    no_type = CustomField(target="relationship", key="stage", label="Stage")
    typed_person = CustomField(target="person", key="stage", label="Stage",
                               relationship_type=relationship_type("employee-of"))

    assert errors_of(no_type.full_clean) == {
        "relationship_type": [("relationship_type_missing",
                               "Choose the relationship type this field belongs to.")]}
    assert errors_of(typed_person.full_clean) == {
        "relationship_type": [("relationship_type_not_allowed",
                               "Only fields for relationships have a relationship type.")]}
    # A form without the type field shows the message on "applies to".
    assert list(errors_of(lambda: no_type.full_clean(exclude=["relationship_type"]))) == [
        "target"]


def test_keys_are_unique_per_relationship_type():
    employee_of = relationship_type("employee-of")
    CustomFieldFactory(target="relationship", relationship_type=employee_of, key="stage")
    CustomFieldFactory(target="person", key="stage")

    duplicate = CustomField(target="relationship", relationship_type=employee_of, key="stage",
                            label="Stage")

    assert "__all__" in errors_of(duplicate.full_clean)
    assert CustomField.objects.filter(key="stage").count() == 3  # with the opportunity's own


def test_the_custom_field_admin_form_refuses_relationship_fields_without_a_type(admin_client):
    response = admin_client.post("/admin/crm/custom-fields/add/", {
        "target": "relationship", "label": "Owner", "key": "owner", "field_type": "text",
        "sort_order": 0,
    })

    assert response.status_code == 200
    assert response.context["form"].errors["target"] == [
        "Choose the relationship type this field belongs to."]


def test_percent_fields_work_for_contacts_too():
    CustomFieldFactory(target="person", key="share", label="Share", field_type="percent")

    contact = PersonFactory.build(custom={"share": "101"})

    assert errors_of(contact.full_clean)["custom"] == [
        (None, "Share: Ensure this value is less than or equal to 100.")]


def test_is_primary_is_only_for_types_that_set_the_organisation():
    errors = errors_of(validate("spouse-of", fields={"is_primary": True},
                                spouse=[person("Ann"), person("Bob")]))

    assert [code for code, _m in errors["is_primary"]] == ["primary_not_allowed"]


# Active and past -----------------------------------------------------------------------------


def test_active_and_past_relationships():
    ann, acme = person("Ann"), organization("Acme")
    current = relate("employee-of", employee=ann, employer=acme)
    ends_today = relate("employee-of", employee=ann, employer=acme, fields={"end_date": TODAY})
    ended = relate("employee-of", employee=ann, employer=acme, fields={"end_date": YESTERDAY})
    relate("spouse-of", spouse=[person("Bob"), person("Cy")])

    assert set(Relationship.objects.active()) >= {current, ends_today}
    assert list(Relationship.objects.past()) == [ended]
    assert not ended.is_active() and ends_today.is_active()
    assert set(Relationship.objects.involving(ann)) == {current, ends_today, ended}
    assert Relationship.objects.of_type("spouse-of").count() == 1


def test_relationships_that_start_later_are_upcoming_not_active():
    ann, acme = person("Ann"), organization("Acme")
    starts_today = relate("employee-of", employee=ann, employer=acme, fields={"start_date": TODAY})
    later = relate("employee-of", employee=ann, employer=acme, fields={"start_date": TOMORROW})

    assert list(Relationship.objects.upcoming()) == [later]
    assert list(Relationship.objects.active()) == [starts_today]
    assert set(Relationship.objects.not_ended()) == {starts_today, later}
    assert later.status() == RelationshipStatus.UPCOMING and starts_today.is_active()
    assert later.status(on=TOMORROW) == RelationshipStatus.ACTIVE
    assert list(Relationship.objects.with_status("upcoming")) == [later]


def test_an_upcoming_relationship_cannot_close_a_loop_later():
    sales, europe = organization("Sales"), organization("Europe")
    relate("department-of", department=europe, parent=sales, fields={"start_date": TOMORROW})

    errors = errors_of(validate("department-of", department=sales, parent=europe))

    assert errors[NON_FIELD_ERRORS][0][0] == "cycle"


def test_trees_follow_only_relationships_under_way():
    acme, sales = organization("Acme"), organization("Sales")
    relate("department-of", department=sales, parent=acme, fields={"start_date": TOMORROW})

    assert [node.contact_id for node in subtree(acme)] == [acme.pk]
    assert [node.contact_id for node in subtree(acme, include_upcoming=True)] == [
        acme.pk, sales.pk
    ]
    assert [node.contact_id for node in subtree(acme, on=TOMORROW)] == [acme.pk, sales.pk]


# The primary organisation ---------------------------------------------------------------------


def employ(employee, employer, **fields):
    return relate("employee-of", employee=employee, employer=employer,
                  fields={"is_primary": True, **fields})


def test_a_primary_employment_sets_the_organisation_and_reindexes():
    ann, acme = person("Ann"), organization("Globex Shipping")

    employ(ann, acme)

    assert reload(ann).primary_organization == acme
    found = search_contacts("Globex", Contact.objects.filter(kind="person"))
    assert list(found) == [reload(ann)]


def test_a_non_primary_employment_leaves_the_organisation_alone():
    ann, acme = person("Ann"), organization("Acme")

    relate("employee-of", employee=ann, employer=acme)

    assert reload(ann).primary_organization is None


def test_ending_unmarking_or_deleting_the_employment_clears_the_organisation():
    ann, acme = person("Ann"), organization("Acme")
    for change in ("end", "unmark", "delete"):
        relationship = employ(ann, acme)
        assert reload(ann).primary_organization == acme
        if change == "end":
            relationship.end_date = YESTERDAY
            relationship.save()
        elif change == "unmark":
            relationship.is_primary = False
            relationship.save()
        else:
            relationship.delete()
        assert reload(ann).primary_organization is None, change


def test_moving_the_primary_mark_to_another_employment_moves_the_organisation():
    ann, acme, globex = person("Ann"), organization("Acme"), organization("Globex")
    at_acme = employ(ann, acme)
    at_globex = relate("employee-of", employee=ann, employer=globex)

    at_acme.is_primary = False
    save_relationship(at_acme)
    at_globex.is_primary = True
    save_relationship(at_globex)

    assert reload(ann).primary_organization == globex


def test_another_current_primary_employment_takes_over():
    # Data written around the checks (two current primaries): the newer one is used.
    ann, acme, globex = person("Ann"), organization("Acme"), organization("Globex")
    at_acme = employ(ann, acme, start_date=TODAY - datetime.timedelta(days=30))
    Relationship.objects.filter(pk=employ(ann, globex, end_date=YESTERDAY).pk).update(
        end_date=None, start_date=TODAY)

    assert sync_primary_organization(ann, released=[acme.pk]) == globex.pk
    at_acme.delete()
    assert reload(ann).primary_organization == globex


def test_a_second_current_primary_employer_is_refused():
    ann, acme, globex = person("Ann"), organization("Acme"), organization("Globex")
    employ(ann, acme)

    errors = errors_of(lambda: employ(ann, globex))

    assert errors == {"is_primary": [(
        "second_primary", "Ann Doe already has a primary employer, Acme. Unmark that "
                          "relationship or end it first.")]}
    employ(ann, globex, end_date=YESTERDAY)  # a past one is fine
    assert reload(ann).primary_organization == acme


def test_a_new_job_may_follow_the_current_one_without_overlapping():
    ann, acme, globex = person("Ann"), organization("Acme"), organization("Globex")
    employ(ann, acme, end_date=TODAY + datetime.timedelta(days=30))
    starts = TODAY + datetime.timedelta(days=31)

    assert errors_of(lambda: employ(ann, globex, start_date=starts - datetime.timedelta(days=5)))
    employ(ann, globex, start_date=starts)

    assert reload(ann).primary_organization == acme
    refresh_primary_organizations(on=starts)
    assert reload(ann).primary_organization == globex


def test_changing_the_employer_moves_the_organisation():
    ann, acme, globex = person("Ann"), organization("Acme"), organization("Globex")
    relationship = employ(ann, acme)

    save_relationship(relationship, participants_for("employee-of", employee=ann,
                                                      employer=globex))

    assert reload(ann).primary_organization == globex


def test_removing_the_employee_clears_their_organisation():
    ann, bob, acme = person("Ann"), person("Bob"), organization("Acme")
    relationship = employ(ann, acme)

    save_relationship(relationship, participants_for("employee-of", employee=bob,
                                                      employer=acme))

    assert reload(ann).primary_organization is None
    assert reload(bob).primary_organization == acme


def test_an_organisation_chosen_on_the_contact_stays_until_an_employment_says_otherwise():
    ann, acme, globex = person("Ann"), organization("Acme"), organization("Globex")
    ann.primary_organization = globex
    ann.save()

    relationship = relate("employee-of", employee=ann, employer=acme)
    relationship.end_date = YESTERDAY
    relationship.save()
    assert reload(ann).primary_organization == globex  # not Acme's to clear

    employ(ann, acme)
    assert reload(ann).primary_organization == acme


def test_the_contact_form_still_edits_the_organisation(admin_client):
    ann, acme, globex = person("Ann"), organization("Acme"), organization("Globex")
    employ(ann, acme)

    response = admin_client.post(f"/admin/crm/people/edit/{ann.pk}/",
                                 edit_data(reload(ann), primary_organization=globex.pk))

    assert response.status_code == 302
    assert reload(ann).primary_organization == globex


def test_changing_the_type_away_from_employment_releases_the_employer():
    ann, acme = person("Ann"), organization("Acme")
    relationship = employ(ann, acme)
    relationship = Relationship.objects.get(pk=relationship.pk)

    relationship.type = relationship_type("director-of")
    relationship.is_primary = False
    save_relationship(relationship, participants_for("director-of", director=ann,
                                                      organization=acme))

    assert reload(ann).primary_organization is None


def test_purging_the_employer_or_the_person():
    ann, bob, acme = person("Ann"), person("Bob"), organization("Acme")
    employ(ann, acme)
    employ(bob, organization("Globex"))

    acme.delete()
    Contact.all_objects.get(pk=bob.pk).delete()

    assert reload(ann).primary_organization is None
    # An employment needs its employer and its employee: both went with them.
    assert not Relationship.objects.exists()


def test_purging_deletes_only_the_relationships_that_need_the_contact():
    acme, ann, bob, rep = organization("Acme"), person("Ann"), person("Bob"), person("Rep")
    marriage = relate("spouse-of", spouse=[ann, bob])
    deal = relate("sales-opportunity", customer=acme, **{
        "customer-contact": [ann, bob], "sales-representative": rep,
    })
    assert relationships_needing(ann) == [marriage.pk]

    Contact.all_objects.get(pk=ann.pk).delete()

    assert list(Relationship.objects.all()) == [deal]
    assert sorted(deal.participants.values_list("contact_id", flat=True)) == sorted(
        [acme.pk, bob.pk, rep.pk]
    )
    assert ModelLogEntry.objects.filter(
        object_id=str(marriage.pk), action="wagtail.delete",
        content_type__model="relationship",
    ).exists()


def test_refresh_clears_employments_that_ended_since_they_were_saved():
    ann, bob, acme = person("Ann"), person("Bob"), organization("Acme")
    employ(ann, acme, end_date=TODAY)
    employ(bob, acme)

    assert refresh_primary_organizations(on=TODAY) == 0
    assert refresh_primary_organizations(on=TODAY + datetime.timedelta(days=1)) == 1
    assert reload(ann).primary_organization is None
    assert reload(bob).primary_organization == acme
