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
