"""Contacts as plain records for the writers in ``wagtail_crm.interop``.

Exports go through here so that every format says the same about a contact, and names only
what the user may see: a person's organisation, and the contacts related to them, appear when
the user may view them.
"""

from __future__ import annotations

import mimetypes
import re
import uuid
from collections import defaultdict

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


def _image_photo(image):
    try:
        with image.file.open("rb") as handle:
            data = handle.read()
    except (OSError, ValueError):
        return None
    media_type = mimetypes.guess_type(image.file.name)[0] or ""
    return Photo(data=data, media_type=media_type)


def contact_records(queryset, user=None, *, chunk_size=None, related=True, photos=True):
    """Records of the contacts in ``queryset``, read in chunks so that memory stays flat.

    Each chunk takes a fixed number of queries (the contacts, their methods, addresses and
    tags as plain values, the related contacts, the photos' images), and no model instances
    are built for the rows.

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
    countries = {}
    for start in range(0, len(ids), chunk_size):
        batch = ids[start:start + chunk_size]
        yield from _chunk_records(batch, visible, related, photos, countries)
        del batch


_CONTACT_VALUES = (
    "pk", "kind", "uid", "display_name", "prefix", "given_name", "additional_names",
    "family_name", "suffix", "nickname", "job_title", "birthday", "notes", "custom",
    "organization_name", "primary_organization__organization_name",
    "primary_organization__folder_id", "primary_organization__deleted_at", "photo_id",
)


def _chunk_records(batch, visible, related, photos, countries):
    from django_countries import countries as all_countries

    rows = Contact.all_objects.filter(pk__in=batch).order_by().values_list(*_CONTACT_VALUES)
    by_pk = {row[0]: row for row in rows}
    methods, addresses, tags = defaultdict(list), defaultdict(list), defaultdict(list)
    method_rows = (
        ContactMethod.objects.filter(contact_id__in=batch)
        .order_by("contact_id", "-is_primary", "sort_order", "pk")
        .values_list("contact_id", "value", "label", "is_primary", "type__scheme",
                     "type__vcard_type")
    )
    for contact_id, value, label, is_primary, scheme, vcard_type in method_rows:
        types = [vcard_type.lower()] if vcard_type else []
        if label.lower() in {"home", "work", "other"}:
            types.append(label.lower())
            label = ""
        methods[contact_id].append((scheme, Method(value, types, label, is_primary)))
    address_rows = (
        Address.objects.filter(contact_id__in=batch)
        .order_by("contact_id", "-is_primary", "sort_order", "pk")
        .values_list("contact_id", "label", "po_box", "extended", "street", "locality",
                     "region", "postal_code", "country", "is_primary")
    )
    for (contact_id, label, po_box, extended, street, locality, region, postal_code, country,
         is_primary) in address_rows:
        label = label or ""
        types = [label.lower()] if label.lower() in ADDRESS_TYPES else []
        if country not in countries:
            countries[country] = str(all_countries.name(country)) if country else ""
        addresses[contact_id].append(AddressRecord(
            po_box=po_box, extended=extended, street=street, locality=locality, region=region,
            postal_code=postal_code, country=countries[country], types=types,
            label="" if types else label, is_primary=is_primary,
        ))
    from ..models import ContactTag

    tag_rows = ContactTag.objects.filter(content_object_id__in=batch).values_list(
        "content_object_id", "tag__name"
    )
    for contact_id, name in tag_rows:
        tags[contact_id].append(name)
    links = {}
    if related:
        links = load_related([Contact(pk=pk) for pk in batch if pk in by_pk], visible)
    images = {}
    if photos:
        photo_ids = {row[-1] for row in by_pk.values() if row[-1]}
        if photo_ids:
            from wagtail.images import get_image_model

            images = get_image_model().objects.in_bulk(photo_ids)
    schemes = {MethodScheme.EMAIL: "emails", MethodScheme.PHONE: "phones",
               MethodScheme.URL: "urls"}
    for pk in batch:
        row = by_pk.get(pk)
        if row is None:
            continue
        (_pk, kind, uid, display_name, prefix, given_name, additional_names, family_name,
         suffix, nickname, job_title, birthday, notes, custom, organization_name,
         employer_name, employer_folder, employer_deleted, photo_id) = row
        record = ContactRecord(
            kind=kind, uid=str(uid), formatted_name=display_name, prefix=prefix,
            given_name=given_name, additional_names=additional_names, family_name=family_name,
            suffix=suffix, nickname=nickname, job_title=job_title, birthday=birthday,
            notes=notes, tags=sorted(tags.get(pk, ())),
            custom={key: custom_text(value) for key, value in (custom or {}).items()},
            related=list(links.get(pk, ())),
        )
        if kind != "person":
            record.organization_name = organization_name
        elif employer_folder is not None and employer_deleted is None and (
            visible is None or employer_folder in visible
        ):
            record.organization_name = employer_name
        for scheme, method in methods.get(pk, ()):
            getattr(record, schemes.get(scheme, "handles")).append(method)
        record.addresses = addresses.get(pk, [])
        if photo_id and photo_id in images:
            record.photo = _image_photo(images[photo_id])
        yield record


# Whole exports ---------------------------------------------------------------------------------

#: What :func:`export_contacts` writes.
FORMATS = {"vcard3", "vcard4", "csv", "ldif", "sql", "xlsx"}
#: ``(content type, file extension)`` of each format.
FORMAT_FILES = {
    "vcard3": ("text/vcard; charset=utf-8", "vcf"),
    "vcard4": ("text/vcard; charset=utf-8", "vcf"),
    "csv": ("text/csv; charset=utf-8", "csv"),
    "ldif": ("text/x-ldif; charset=utf-8", "ldif"),
    "sql": ("application/sql; charset=utf-8", "sql"),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", "xlsx"),
}
BOM = "\ufeff".encode()
#: Bytes read from the spooled XLSX file per chunk.
XLSX_READ_SIZE = 256 * 1024
#: The XLSX file stays in memory up to this size, then goes to a temporary file.
XLSX_SPOOL_BYTES = 8 * 1024 * 1024


def visible_contacts(queryset, user):
    """``queryset`` narrowed to the contacts ``user`` may view (all of it for None)."""
    if user is None:
        return queryset
    from ..permissions import contact_policy

    return contact_policy.filter_queryset(queryset, user, "view")


def visible_folder_set(user):
    """Folder ids ``user`` may view, or None for all (no user, or a superuser)."""
    if user is None:
        return None
    folders = folder_ids(user, VIEW)
    return None if folders is None else set(folders)


def custom_field_keys():
    """Keys of the custom fields of people and organisations, in their order, each once."""
    from ..models import CustomField
    from ..models.fields import CustomFieldTarget

    keys = CustomField.objects.filter(
        target__in=[CustomFieldTarget.PERSON, CustomFieldTarget.ORGANIZATION]
    ).order_by("sort_order", "pk").values_list("key", flat=True)
    return list(dict.fromkeys(keys))


def _encoded(chunks, first=b""):
    if first:
        yield first
    for chunk in chunks:
        if chunk:
            yield chunk.encode("utf-8")


def export_contacts(queryset, fmt, *, user=None, base_dn=None):
    """Export contacts in one of :data:`FORMATS`, streamed.

    Args:
        queryset: the contacts. With ``user``, narrowed to those the user may view; the
            contacts, organisations and relationship participants the user may not view are
            never named.
        fmt: ``vcard3``, ``vcard4`` (with RELATED), ``csv`` (UTF-8 with a BOM, our own
            layout with a column per custom field), ``ldif`` (under ``base_dn``, default
            ``WAGTAIL_CRM_LDIF_BASE_DN``), ``sql`` (a portable dump with the relationships
            among the contacts) or ``xlsx`` (the CSV's columns).
        user: whose folder access applies; None exports everything (commands).
        base_dn: for LDIF.

    Returns:
        ``(chunks, content_type, extension)``: an iterator of bytes, nothing read until it
        is iterated, and what a response or file name needs.
    """
    from ..interop.csv import write_csv
    from ..interop.ldif import write_ldif
    from ..interop.sql import write_sql_dump
    from ..interop.vcard import write_vcards

    if fmt not in FORMATS:
        raise ValueError(f"Unknown export format {fmt!r}: one of {', '.join(sorted(FORMATS))}.")
    queryset = visible_contacts(queryset, user)
    content_type, extension = FORMAT_FILES[fmt]
    if fmt in ("vcard3", "vcard4"):
        records = contact_records(queryset, user, related=fmt == "vcard4")
        chunks = _encoded(write_vcards(records, "3.0" if fmt == "vcard3" else "4.0"))
    elif fmt == "csv":
        records = contact_records(queryset, user, related=False, photos=False)
        chunks = _encoded(write_csv(records, columns=custom_field_keys()), BOM)
    elif fmt == "xlsx":
        records = contact_records(queryset, user, related=False, photos=False)
        chunks = _xlsx(write_csv(records, columns=custom_field_keys()))
    elif fmt == "ldif":
        records = contact_records(queryset, user, related=False)
        chunks = _encoded(write_ldif(records, base_dn=base_dn or crm_settings.LDIF_BASE_DN))
    else:
        records = contact_records(queryset, user)
        relationships = relationship_rows(relationships_among(queryset), user)
        chunks = _encoded(write_sql_dump(records, relationships))
    return chunks, content_type, extension


class _Lines:
    """The text chunks of a CSV writer as lines for csv.reader (cells may hold newlines)."""

    def __init__(self, chunks):
        self.chunks = chunks

    def __iter__(self):
        for chunk in self.chunks:
            yield from chunk.splitlines(keepends=True)


def _xlsx(csv_chunks):
    """The rows of our CSV as an XLSX workbook, every cell a string (never a formula)."""
    import csv
    import tempfile

    from openpyxl import Workbook
    from openpyxl.cell import WriteOnlyCell
    from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title="Contacts")

    def cell(value):
        written = WriteOnlyCell(sheet, ILLEGAL_CHARACTERS_RE.sub("", value))
        written.data_type = "s"  # openpyxl would read "=..." as a formula
        return written

    for row in csv.reader(_Lines(csv_chunks)):
        sheet.append([cell(value) for value in row])
    with tempfile.SpooledTemporaryFile(max_size=XLSX_SPOOL_BYTES) as output:
        workbook.save(output)
        output.seek(0)
        while chunk := output.read(XLSX_READ_SIZE):
            yield chunk


# Relationships ---------------------------------------------------------------------------------

RELATIONSHIP_UID_NAMESPACE = uuid.UUID("5b7f3c52-8f5e-4c1e-9d0e-6a1f0c2d9b41")


def relationship_uid(pk):
    """A relationship's stable id in exports (relationships have no uid of their own)."""
    return str(uuid.uuid5(RELATIONSHIP_UID_NAMESPACE, str(pk)))


def relationships_among(contacts):
    """Relationships in which at least one of ``contacts`` (a queryset) takes part."""
    from ..models.relationships import Relationship

    return Relationship.objects.filter(
        pk__in=RelationshipParticipant.objects.filter(
            contact__in=contacts.order_by().values("pk")
        ).values("relationship_id")
    )


def _relationship_chunks(relationships, user, chunk_size=None):
    """``(relationship, [(participant values, visible)])`` for the relationships, in chunks
    (one query for the rows and one for the participants per chunk); relationships without
    a participant the user may view are left out."""
    chunk_size = chunk_size or crm_settings.EXPORT_CHUNK_SIZE
    visible = visible_folder_set(user)
    queryset = relationships.select_related("type").order_by("pk")
    last = 0
    while True:
        chunk = list(queryset.filter(pk__gt=last)[:chunk_size])
        if not chunk:
            return
        last = chunk[-1].pk
        rows = (
            RelationshipParticipant.objects.filter(relationship__in=[r.pk for r in chunk])
            .order_by("relationship_id", "sort_order", "pk")
            .values_list("relationship_id", "contact__uid", "contact__display_name",
                         "contact__folder_id", "contact__deleted_at", "role__slug",
                         "role__name")
        )
        participants = defaultdict(list)
        for relationship_id, uid, name, folder_id, deleted_at, slug, role_name in rows:
            shown = visible is None or (folder_id in visible and deleted_at is None)
            participants[relationship_id].append(((str(uid), name, slug, role_name), shown))
        for relationship in chunk:
            found = participants.get(relationship.pk, [])
            if any(shown for _values, shown in found):
                yield relationship, found


def relationship_rows(relationships, user=None):
    """:class:`~wagtail_crm.interop.sql.RelationshipRow` of each relationship the user may
    see, naming only the participants the user may view."""
    from ..interop.sql import RelationshipRow

    for relationship, participants in _relationship_chunks(relationships, user):
        yield RelationshipRow(
            uid=relationship_uid(relationship.pk), type_slug=relationship.type.slug,
            type_name=relationship.type.name, start_date=relationship.start_date,
            end_date=relationship.end_date, is_primary=relationship.is_primary,
            description=relationship.description, custom=dict(relationship.custom or {}),
            participants=[(uid, slug) for (uid, _name, slug, _role), shown in participants
                          if shown],
        )


def _cell(value):
    """A cell of the relationships file: text, formulas escaped as in our contacts CSV."""
    from ..interop.csv import FORMULA_STARTS

    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_STARTS) else text


def relationships_table(relationships, user=None):
    """The relationships file, row by row (headings first): the columns of the
    relationships listing's export (Type, Participants, Participant ids, Start date, End
    date, Status, Primary, Description, then "<type>: <label>" per custom field), hidden
    participants written as "Hidden contact"."""
    from ..models import CustomField
    from ..models.fields import CustomFieldTarget
    from ..permissions import HIDDEN_CONTACT

    hidden = str(HIDDEN_CONTACT)
    definitions = list(
        CustomField.objects.filter(target=CustomFieldTarget.RELATIONSHIP)
        .select_related("relationship_type")
        .order_by("relationship_type__sort_order", "relationship_type__name", "sort_order", "pk")
    )
    yield [_cell(heading) for heading in (
        "Type", "Participants", "Participant ids", "Start date", "End date", "Status",
        "Primary", "Description",
        *(f"{d.relationship_type.name}: {d.label}" for d in definitions),
    )]
    for relationship, participants in _relationship_chunks(relationships, user):
        names = ", ".join(
            f"{name or '(unnamed contact)' if shown else hidden} ({role})"
            for (_uid, name, _slug, role), shown in participants
        )
        ids = "; ".join(
            f"{slug}={uid if shown else hidden}" for (uid, _n, slug, _r), shown in participants
        )
        row = [
            relationship.type.name, names, ids, relationship.start_date,
            relationship.end_date, relationship.status().label, relationship.is_primary,
            relationship.description,
        ]
        for definition in definitions:
            value = ""
            if relationship.type_id == definition.relationship_type_id:
                value = definition.from_json((relationship.custom or {}).get(definition.key))
            row.append(value)
        yield [_cell(value) for value in row]


def export_relationships_csv(relationships, user=None):
    """The relationships file as CSV bytes (UTF-8 with a BOM), streamed.

    Args:
        relationships: a queryset of relationships, e.g. :func:`relationships_among` the
            exported contacts.
        user: whose folder access applies; None names everyone.
    """
    import csv
    import io

    yield BOM
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    for number, row in enumerate(relationships_table(relationships, user), start=1):
        writer.writerow(row)
        if number % 500 == 0:
            yield buffer.getvalue().encode("utf-8")
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue().encode("utf-8")
