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
