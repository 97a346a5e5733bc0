"""Seed the default relationship types, their roles and the sales opportunity's custom fields.

Types are found by slug; existing ones are left as they are. Reversing removes the seeded types
that no relationship uses (with their roles and custom fields).
"""

from django.db import migrations

P, O, ANY = "person", "organization", "any"

#: slug: (name, description, symmetric, hierarchical, sets primary organisation, roles), where
#: each role is (slug, name, allowed kind, min, max or None, tree position).
DEFAULT_TYPES = {
    "employee-of": ("Employee of", "A person works for an organisation or department.",
                    False, True, True, [
                        ("employee", "Employee", P, 1, 1, "child"),
                        ("employer", "Employer", O, 1, 1, "parent"),
                    ]),
    "director-of": ("Director of", "A person sits on the board of an organisation.",
                    False, False, False, [
                        ("director", "Director", P, 1, 1, ""),
                        ("organization", "Organisation", O, 1, 1, ""),
                    ]),
    "department-of": ("Department of", "A department belongs to an organisation or department.",
                      False, True, False, [
                          ("department", "Department", O, 1, 1, "child"),
                          ("parent", "Parent organisation", O, 1, 1, "parent"),
                      ]),
    "subsidiary-of": ("Subsidiary of", "A company is owned by another.",
                      False, True, False, [
                          ("subsidiary", "Subsidiary", O, 1, 1, "child"),
                          ("parent", "Parent company", O, 1, 1, "parent"),
                      ]),
    "reports-to": ("Reports to", "A person reports to their manager.",
                   False, True, False, [
                       ("report", "Direct report", P, 1, 1, "child"),
                       ("manager", "Manager", P, 1, 1, "parent"),
                   ]),
    "spouse-of": ("Spouse of", "Two people are married or partners.",
                  True, False, False, [("spouse", "Spouse", P, 2, 2, "")]),
    "parent-of": ("Parent of", "A person is the parent of another.",
                  False, False, False, [
                      ("parent", "Parent", P, 1, 1, ""),
                      ("child", "Child", P, 1, 1, ""),
                  ]),
    "sibling-of": ("Sibling of", "Two people are brothers or sisters.",
                   True, False, False, [("sibling", "Sibling", P, 2, 2, "")]),
    "sales-opportunity": ("Sales opportunity",
                          "A possible sale to a customer; describe it in the description.",
                          False, False, False, [
                              ("customer", "Customer", O, 1, 1, ""),
                              ("customer-contact", "Customer contact", P, 0, None, ""),
                              ("sales-representative", "Sales representative", P, 1, None, ""),
                          ]),
}

#: The sales opportunity's custom fields: (key, label, field type, choices).
OPPORTUNITY_FIELDS = [
    ("close_date", "Close date", "date", ""),
    ("stage", "Stage", "choice",
     "Prospecting\nQualification\nProposal\nNegotiation\nWon\nLost"),
    ("potential_revenue", "Potential revenue", "decimal", ""),
    ("profit_margin", "Profit margin (percent)", "percent", ""),
]


def seed(apps, schema_editor):
    RelationshipType = apps.get_model("wagtail_crm", "RelationshipType")
    RelationshipRole = apps.get_model("wagtail_crm", "RelationshipRole")
    CustomField = apps.get_model("wagtail_crm", "CustomField")
    for order, (slug, spec) in enumerate(DEFAULT_TYPES.items()):
        name, description, symmetric, hierarchical, sets_primary, roles = spec
        rtype, created = RelationshipType.objects.get_or_create(slug=slug, defaults={
            "name": name,
            "description": description,
            "is_symmetric": symmetric,
            "is_hierarchical": hierarchical,
            "sets_primary_organization": sets_primary,
            "sort_order": order * 10,
        })
        if not created:
            continue
        for role_order, (role_slug, role_name, kind, least, most, position) in enumerate(roles):
            RelationshipRole.objects.create(
                type=rtype, slug=role_slug, name=role_name, allowed_kind=kind,
                min_participants=least, max_participants=most, tree_position=position,
                sort_order=role_order,
            )
        if slug == "sales-opportunity":
            for field_order, (key, label, field_type, choices) in enumerate(OPPORTUNITY_FIELDS):
                CustomField.objects.create(
                    target="relationship", relationship_type=rtype, key=key, label=label,
                    field_type=field_type, choices=choices, sort_order=field_order * 10,
                    in_listing=True,
                )


def unseed(apps, schema_editor):
    RelationshipType = apps.get_model("wagtail_crm", "RelationshipType")
    RelationshipType.objects.filter(
        slug__in=list(DEFAULT_TYPES), relationships__isnull=True
    ).delete()


class Migration(migrations.Migration):
    dependencies = [("wagtail_crm", "0006_relationships")]

    operations = [migrations.RunPython(seed, unseed)]
