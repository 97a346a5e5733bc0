"""Keep a contact's denormalised primaries in step when a method or address is saved on its own."""

from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Address, Contact, ContactMethod


@receiver(post_save, sender=ContactMethod)
@receiver(post_delete, sender=ContactMethod)
@receiver(post_save, sender=Address)
@receiver(post_delete, sender=Address)
def refresh_contact_primaries(sender, instance, **kwargs):
    if kwargs.get("raw"):
        return
    contact = instance.contact
    # Contact.save() refreshes once after committing all its child rows.
    if getattr(contact, "_saving_cluster", False):
        return
    try:
        contact = Contact.all_objects.get(pk=instance.contact_id)
    except Contact.DoesNotExist:
        return
    contact.refresh_primaries()
