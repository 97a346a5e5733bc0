"""People and organisations as proxies of Contact, each with its own admin listing."""

from django.utils.translation import gettext_lazy as _

from .contacts import Contact, ContactKind, LiveContactManager


class PersonManager(LiveContactManager):
    kind = ContactKind.PERSON


class OrganizationManager(LiveContactManager):
    kind = ContactKind.ORGANIZATION


class Person(Contact):
    objects = PersonManager()

    class Meta:
        proxy = True
        verbose_name = _("person")
        verbose_name_plural = _("people")

    def save(self, *args, **kwargs):
        self.kind = ContactKind.PERSON
        super().save(*args, **kwargs)


class Organization(Contact):
    objects = OrganizationManager()

    class Meta:
        proxy = True
        verbose_name = _("organisation")
        verbose_name_plural = _("organisations")

    def save(self, *args, **kwargs):
        self.kind = ContactKind.ORGANIZATION
        super().save(*args, **kwargs)
