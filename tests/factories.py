"""factory_boy factories for CRM data."""

import factory
from django.contrib.auth import get_user_model

from wagtail_crm.models import (
    Address,
    Contact,
    ContactMethod,
    ContactMethodType,
    CustomField,
    Folder,
)


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)

    username = factory.Sequence(lambda n: f"user{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    password = factory.django.Password("password")
    is_active = True


class SuperuserFactory(UserFactory):
    is_staff = True
    is_superuser = True


class FolderFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Folder
        django_get_or_create = ("name",)

    name = factory.Sequence(lambda n: f"Folder {n}")


class PersonFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    kind = "person"
    given_name = factory.Faker("first_name")
    family_name = factory.Faker("last_name")
    folder = factory.SubFactory(FolderFactory)


class OrganizationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contact

    kind = "organization"
    organization_name = factory.Faker("company")
    organization_type = "company"
    folder = factory.SubFactory(FolderFactory)


def method_type(name):
    """A seeded contact method type by name (Email, Phone, Mobile, Website...)."""
    return ContactMethodType.objects.get(name=name)


class ContactMethodFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactMethod

    contact = factory.SubFactory(PersonFactory)
    type = factory.LazyFunction(lambda: method_type("Email"))
    value = factory.Sequence(lambda n: f"Person{n}@Example.org")


class AddressFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Address

    contact = factory.SubFactory(PersonFactory)
    label = "work"
    street = factory.Faker("street_address")
    locality = factory.Faker("city")
    postal_code = factory.Faker("postcode")
    country = "GB"


class CustomFieldFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = CustomField

    target = "person"
    key = factory.Sequence(lambda n: f"field_{n}")
    label = factory.Sequence(lambda n: f"Field {n}")
    field_type = "text"


class ContactMethodTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = ContactMethodType

    name = factory.Sequence(lambda n: f"Method type {n}")
    scheme = "handle"
    link_template = "https://example.social/@{value}"
    sort_order = factory.Sequence(lambda n: 1000 + n)


def staff_user_without_permissions(username="staff"):
    """A user who may open the Wagtail admin but holds no model permissions."""
    from django.contrib.auth.models import Permission

    user = UserFactory(username=username, is_staff=True)
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin")
    )
    return user


def reindex(*contacts):
    """Update the search index for contacts whose methods were added after they were saved."""
    from wagtail.search import index

    for contact in contacts:
        index.insert_or_update_object(Contact.objects.get(pk=contact.pk))


def set_listing_columns(person=None, organization=None, **fields):
    """Save CRMSettings with the given listing columns (and any other field values)."""
    from wagtail_crm.models import CRMSettings

    settings = CRMSettings.load()
    if person is not None:
        settings.person_columns = person
    if organization is not None:
        settings.organization_columns = organization
    for name, value in fields.items():
        setattr(settings, name, value)
    settings.save()
    return settings


def image(title="Photo"):
    """A Wagtail image holding a small generated PNG."""
    from io import BytesIO

    from django.core.files.images import ImageFile
    from PIL import Image as PILImage
    from wagtail.images import get_image_model

    buffer = BytesIO()
    PILImage.new("RGB", (64, 64), "teal").save(buffer, "PNG")
    return get_image_model().objects.create(
        title=title, file=ImageFile(buffer, name="photo.png")
    )


def admin_user(username, *permissions):
    """An active user with Wagtail admin access and the given "app_label.codename" permissions."""
    from django.contrib.auth.models import Permission

    user = UserFactory(username=username)
    codenames = ["wagtailadmin.access_admin", *permissions]
    for label in codenames:
        app_label, codename = label.split(".")
        user.user_permissions.add(
            Permission.objects.get(content_type__app_label=app_label, codename=codename)
        )
    return user


def ensure_trash_log_actions():
    """Register the trash's audit log actions unless wagtail_crm.hooks already did."""
    from wagtail.log_actions import registry

    from wagtail_crm.snippets.trash import register_trash_log_actions

    if not registry.action_exists("wagtail_crm.trash"):
        register_trash_log_actions(registry)


def folder_user(username, *grants):
    """A Wagtail admin user whose own group holds ``(folder, level)`` access for each grant."""
    from django.contrib.auth.models import Group

    from wagtail_crm.models import FolderAccess

    user = admin_user(username)
    group = Group.objects.create(name=f"{username} group")
    for folder, level in grants:
        FolderAccess.objects.create(folder=folder, group=group, level=level)
    user.groups.add(group)
    return user


# Relationships -------------------------------------------------------------------------------


def relationship_type(slug):
    """A relationship type by slug (the seeded ones: employee-of, sales-opportunity...)."""
    from wagtail_crm.models import RelationshipType

    return RelationshipType.objects.get(slug=slug)


def role(type_slug, role_slug):
    """A role of a relationship type, by slugs: ``role("employee-of", "employer")``."""
    from wagtail_crm.models import RelationshipRole

    return RelationshipRole.objects.get(type__slug=type_slug, slug=role_slug)


class RelationshipTypeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "wagtail_crm.RelationshipType"

    name = factory.Sequence(lambda n: f"Relationship type {n}")
    slug = factory.Sequence(lambda n: f"relationship-type-{n}")
    sort_order = factory.Sequence(lambda n: 1000 + n)


class RelationshipRoleFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "wagtail_crm.RelationshipRole"

    type = factory.SubFactory(RelationshipTypeFactory)
    name = factory.Sequence(lambda n: f"Role {n}")
    slug = factory.Sequence(lambda n: f"role-{n}")
    allowed_kind = "any"
    min_participants = 1
    max_participants = 1


class RelationshipFactory(factory.django.DjangoModelFactory):
    """A relationship without participants; see :func:`relate` for a complete one."""

    class Meta:
        model = "wagtail_crm.Relationship"

    type = factory.LazyFunction(lambda: relationship_type("employee-of"))


def participants_for(type_slug, **by_role):
    """Unsaved participants: ``participants_for("employee-of", employee=p, employer=o)``.

    Role slugs use underscores for hyphens (``sales_representative``); a value may be a
    contact or a list of contacts.
    """
    from wagtail_crm.models import RelationshipParticipant

    participants = []
    for role_slug, contacts in by_role.items():
        the_role = role(type_slug, role_slug.replace("_", "-"))
        if not isinstance(contacts, (list, tuple)):
            contacts = [contacts]
        participants += [RelationshipParticipant(contact=c, role=the_role) for c in contacts]
    return participants


def relate(type_slug, validate=True, fields=None, **by_role):
    """A saved relationship of a seeded type with its participants.

    ``relate("employee-of", employee=person, employer=org, fields={"is_primary": True})``.
    With ``validate=False`` the rows are written without any check (to build bad data).
    """
    from wagtail_crm.models import Relationship, RelationshipParticipant
    from wagtail_crm.services.relationships import save_relationship

    relationship = Relationship(type=relationship_type(type_slug), **(fields or {}))
    participants = participants_for(type_slug, **by_role)
    if validate:
        return save_relationship(relationship, participants)
    relationship.save()
    for participant in participants:
        participant.relationship = relationship
    RelationshipParticipant.objects.bulk_create(participants)
    return relationship


# Tickets and credits -------------------------------------------------------------------------


class TicketFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "wagtail_crm.Ticket"

    subject = factory.Sequence(lambda n: f"Ticket {n}")
    requester = factory.SubFactory(PersonFactory)
    status = "open"


class TimeEntryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "wagtail_crm.TimeEntry"

    ticket = factory.SubFactory(TicketFactory)
    minutes = 30
    billable = True


def credit_account(contact=None, minutes=0, shared=False):
    """A credit account of ``contact`` (a new person by default) with ``minutes`` granted."""
    from wagtail_crm.models import CreditAccount
    from wagtail_crm.services import credits

    account = CreditAccount.objects.create(
        contact=contact or PersonFactory(), is_shared=shared
    )
    if minutes:
        credits.grant(account, minutes, user=None, memo="Opening balance")
    return account


# Portal --------------------------------------------------------------------------------------


def portal_user(username, contact=None, **contact_fields):
    """A user without admin access whose login is linked to ``contact`` (a new person)."""
    user = UserFactory(username=username, first_name=username.title())
    contact = contact or PersonFactory(**contact_fields)
    contact.user = user
    contact.save(update_fields=["user"])
    return user
