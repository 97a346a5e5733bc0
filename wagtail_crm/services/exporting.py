"""Contacts as plain records for the writers in ``wagtail_crm.interop``.

Exports go through here so that every format says the same about a contact, and names only
what the user may see: a person's organisation, and the contacts related to them, appear when
the user may view them.
"""

from __future__ import annotations

import mimetypes
import re
from collections import defaultdict

from django.db.models import Prefetch

from ..conf import crm_settings
from ..interop.records import AddressRecord, ContactRecord, Method, Photo, Related
from ..models import Address, Contact, ContactMethod, MethodScheme
from ..models.relationships import RelationshipParticipant
from ..permissions import VIEW, folder_ids

_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)
#: Address labels that are vCard TYPE words; other labels are free text.
ADDRESS_TYPES = {"home", "work"}


def uid_uri(uid):
    """A contact's UID as vCard 4.0 writes references to it: ``urn:uuid:`` for a UUID."""
    uid = str(uid)
    return f"urn:uuid:{uid.lower()}" if _UUID.match(uid) else uid


def related_type(type_slug, role_slug):
    """The RFC 6350 RELATED type of a participant in that role of that relationship type.

    Read from ``WAGTAIL_CRM_VCARD_RELATED_TYPES`` (keys ``"<type slug>:<role slug>"``);
    roles not listed are written as ``contact``.
    """
    return crm_settings.VCARD_RELATED_TYPES.get(f"{type_slug}:{role_slug}", "contact")


def load_related(contacts, visible_folders, on=None):
    """``{contact id: [Related]}``: the contacts in relationships under way with each one.

    One query for the whole batch. Participants the user may not view, and contacts in the
    trash, are left out.
    """
    from ..models.relationships import Relationship

    ids = [contact.pk for contact in contacts]
    current = Relationship.objects.active(on).filter(participants__contact__in=ids)
    rows = (
        RelationshipParticipant.objects.filter(relationship__in=current.values("pk"))
        .values_list("relationship_id", "contact_id", "contact__uid", "contact__folder_id",
                     "contact__deleted_at", "role__slug", "relationship__type__slug")
        .order_by("relationship_id", "sort_order", "pk")
    )
    by_relationship = defaultdict(list)
    for row in rows:
        by_relationship[row[0]].append(row)
    wanted = set(ids)
    related = defaultdict(list)
    for participants in by_relationship.values():
        for _rel, contact_id, *_rest in participants:
            if contact_id not in wanted:
                continue
            for _r, other_id, uid, folder_id, deleted_at, role_slug, type_slug in participants:
                if other_id == contact_id or deleted_at is not None:
                    continue
                if visible_folders is not None and folder_id not in visible_folders:
                    continue
                related[contact_id].append(
                    Related(uid_uri(uid), [related_type(type_slug, role_slug)])
                )
    return related


def custom_text(value):
    """A stored custom value as the text that files carry: lists comma-separated."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(str(item) for item in value)
    return str(value)


def _method(method):
    types = [method.type.vcard_type.lower()] if method.type.vcard_type else []
    label = method.label
    if label.lower() in {"home", "work", "other"}:
        types.append(label.lower())
        label = ""
    return Method(value=method.value, types=types, label=label, is_primary=method.is_primary)


def _address(address):
    label = address.label or ""
    types = [label.lower()] if label.lower() in ADDRESS_TYPES else []
    return AddressRecord(
        po_box=address.po_box, extended=address.extended, street=address.street,
        locality=address.locality, region=address.region, postal_code=address.postal_code,
        country=address.country.name if address.country else "",
        types=types, label="" if types else label, is_primary=address.is_primary,
    )


def _photo(contact):
    image = contact.photo
    if image is None:
        return None
    try:
        with image.file.open("rb") as handle:
            data = handle.read()
    except (OSError, ValueError):
        return None
    media_type = mimetypes.guess_type(image.file.name)[0] or ""
    return Photo(data=data, media_type=media_type)


def contact_record(contact, *, related=(), visible_folders=None, photos=True):
    """One contact as a :class:`ContactRecord`.

    ``contact`` should come from :func:`export_queryset` (methods, addresses, tags and the
    organisation loaded). ``visible_folders`` (None for all) decides whether the person's
    organisation is named.
    """
    record = ContactRecord(
        kind=contact.kind, uid=str(contact.uid), formatted_name=contact.display_name,
        prefix=contact.prefix, given_name=contact.given_name,
        additional_names=contact.additional_names, family_name=contact.family_name,
        suffix=contact.suffix, nickname=contact.nickname, job_title=contact.job_title,
        birthday=contact.birthday, notes=contact.notes,
        tags=sorted(tag.name for tag in contact.tags.all()),
        custom={key: custom_text(value) for key, value in (contact.custom or {}).items()},
        related=list(related),
    )
    if contact.is_person:
        organization = contact.primary_organization
        if organization is not None and organization.deleted_at is None and (
            visible_folders is None or organization.folder_id in visible_folders
        ):
            record.organization_name = organization.organization_name
    else:
        record.organization_name = contact.organization_name
    for method in contact.methods.all():
        scheme = method.type.scheme
        if scheme == MethodScheme.EMAIL:
            record.emails.append(_method(method))
        elif scheme == MethodScheme.PHONE:
            record.phones.append(_method(method))
        elif scheme == MethodScheme.URL:
            record.urls.append(_method(method))
        else:
            record.handles.append(_method(method))
    record.addresses = [_address(address) for address in contact.addresses.all()]
    if photos:
        record.photo = _photo(contact)
    return record


def export_queryset(queryset):
    """``queryset`` with what :func:`contact_record` reads loaded in a few queries."""
    return queryset.select_related("primary_organization", "photo").prefetch_related(
        Prefetch("methods", queryset=ContactMethod.objects.select_related("type")),
        Prefetch("addresses", queryset=Address.objects.all()),
        "tags",
    )


def contact_records(queryset, user=None, *, chunk_size=None, related=True, photos=True):
    """Records of the contacts in ``queryset``, read in chunks so that memory stays flat.

    Args:
        queryset: contacts, already limited to those the user may view.
        user: whose folder access decides which organisations and related contacts are
            named; None names all.
        related: include RELATED references to the contacts in relationships under way.
        photos: include photos (read from the image files).
    """
    chunk_size = chunk_size or crm_settings.EXPORT_CHUNK_SIZE
    visible = None
    if user is not None:
        folders = folder_ids(user, VIEW)
        visible = None if folders is None else set(folders)
    ids = list(queryset.order_by("sort_name", "pk").values_list("pk", flat=True))
    for start in range(0, len(ids), chunk_size):
        batch = ids[start:start + chunk_size]
        contacts = export_queryset(Contact.all_objects.filter(pk__in=batch)).in_bulk(batch)
        ordered = [contacts[pk] for pk in batch if pk in contacts]
        links = load_related(ordered, visible) if related else {}
        for contact in ordered:
            yield contact_record(contact, related=links.get(contact.pk, ()),
                                 visible_folders=visible, photos=photos)
