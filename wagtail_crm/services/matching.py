"""Matching imported records to stored contacts, and merging them into what is written.

The import service (:mod:`.importing`) turns each record into an :class:`Incoming` row, then
hands a batch of them to :class:`Matcher`, which looks up in a fixed number of queries which
stored contacts they match: by UID, then by any normalised email address, then (opt-in) by
name and organisation. Only contacts the importing user may change are matched: matching a
contact in a folder the user cannot see would leak it or overwrite it. :class:`Draft` holds
one contact as it will be written, new or stored, and merges incoming rows into it.
"""

from __future__ import annotations

import uuid
from types import SimpleNamespace

from anyascii import anyascii

from ..models import Address, Contact, ContactKind, ContactMethod, ContactTag
from ..permissions import CONTRIBUTE, MANAGE, folder_levels

#: Contact fields an import fills from a record (besides kind, uid, custom and photo).
SCALARS = ("prefix", "given_name", "additional_names", "family_name", "suffix", "nickname",
           "organization_name", "organization_type", "job_title", "birthday", "notes")
#: Address fields, in the order of an address row (after label and is_primary).
ADDRESS_PARTS = ("street", "extended", "po_box", "locality", "region", "postal_code",
                 "country")


class Incoming:
    """One record, checked and converted to the values it would store.

    Attributes:
        line: the record's line in the file.
        kind: ``person`` or ``organization``.
        uid: the record's UID ("" when it has none).
        fields: non-empty values of :data:`SCALARS`.
        custom: custom values, validated against the contact kind's definitions.
        methods: ``(type id, scheme, value, normalized, label, is_primary)``.
        addresses: ``(label, is_primary, street, extended, po_box, locality, region,
            postal_code, country)``.
        tags: tag names.
        photo: a :class:`~wagtail_crm.interop.records.Photo` or None.
        warnings: what was read but not stored, for the report.
    """

    __slots__ = ("line", "kind", "uid", "fields", "custom", "methods", "addresses", "tags",
                 "photo", "warnings")

    def __init__(self, line, kind, uid, fields, custom, methods, addresses, tags, photo,
                 warnings):
        self.line, self.kind, self.uid, self.fields = line, kind, uid, fields
        self.custom, self.methods, self.addresses = custom, methods, addresses
        self.tags, self.photo, self.warnings = tags, photo, warnings

    @property
    def emails(self):
        return [m[3] for m in self.methods if m[1] == "email" and m[3]]

    def name_key(self):
        """``(kind, sort name, organisation)`` for matching by name, or None without a name."""
        sort = names_of(self.kind, self.fields)[1]
        if not sort:
            return None
        organization = "" if self.kind == ContactKind.ORGANIZATION else _fold(
            self.fields.get("organization_name", ""))
        return self.kind, sort, organization


def _fold(text):
    return anyascii(text or "").casefold().strip()


_NAME_CACHE = {}


def names_of(kind, values):
    """``(display_name, sort_name)`` as ``Contact.compute_names`` sets them."""
    key = (kind, *(values.get(name) or "" for name in (
        "prefix", "given_name", "additional_names", "family_name", "suffix", "nickname",
        "organization_name")))
    names = _NAME_CACHE.get(key)
    if names is None:
        stand_in = SimpleNamespace(
            kind=kind, is_organization=kind == ContactKind.ORGANIZATION,
            prefix=key[1], given_name=key[2], additional_names=key[3], family_name=key[4],
            suffix=key[5], nickname=key[6], organization_name=key[7],
        )
        Contact.compute_names(stand_in)
        if len(_NAME_CACHE) > 50_000:
            _NAME_CACHE.clear()
        names = _NAME_CACHE[key] = (stand_in.display_name, stand_in.sort_name)
    return names


def method_key(scheme, value, normalized):
    """What makes two methods the same: the scheme and the normalised (or folded) value."""
    return scheme, normalized or value.strip().casefold()


def address_key(parts):
    """What makes two addresses the same: their filled-in parts, case-folded."""
    return tuple((part or "").strip().casefold() for part in parts)


class Draft:
    """One contact as it will be written: a new one, or a stored one with what an import adds.

    Attributes:
        pk: the contact's primary key (None for a new contact until it is reserved).
        is_new: True for a contact this import creates.
        kind, values: the contact's kind and field values (:data:`SCALARS`, ``uid``,
            ``custom``, ``photo_id``, and the computed fields once :meth:`finish` ran).
        methods: ``[type id, scheme, value, normalized, label, is_primary, sort_order, pk]``,
            stored ones first (``pk`` None for new ones).
        addresses: ``[label, is_primary, *ADDRESS_PARTS, sort_order, pk]``.
        tags: the names of the contact's tags.
        new_methods, new_addresses, new_tags: what the import adds.
        changed: the names of the values an import changed.
        photo: an incoming photo to store (the contact had none).
        line: the line of the record that created it (new contacts).
    """

    def __init__(self, pk, kind, values, is_new, line=0):
        self.pk, self.kind, self.values, self.is_new, self.line = pk, kind, values, is_new, line
        self.methods, self.addresses, self.tags = [], [], set()
        self.method_keys, self.address_keys = set(), set()
        self.new_methods, self.new_addresses, self.new_tags = [], [], []
        self.changed = set()
        #: a photo to store, and the row it came from (which gets any warning about it)
        self.photo = self.photo_row = None

    @classmethod
    def create(cls, incoming, uid, folder_id, owner_id):
        values = dict.fromkeys(SCALARS, "")
        values["birthday"] = None
        values.update(incoming.fields)
        values.update(uid=uid, folder_id=folder_id, owner_id=owner_id, custom={},
                      photo_id=None)
        draft = cls(None, incoming.kind, values, True, incoming.line)
        draft.merge(incoming)
        return draft

    def add_stored_method(self, type_id, scheme, value, normalized, label, is_primary,
                          sort_order, pk):
        self.methods.append([type_id, scheme, value, normalized, label, is_primary, sort_order,
                             pk])
        self.method_keys.add(method_key(scheme, value, normalized))

    def add_stored_address(self, row):
        self.addresses.append(list(row))
        self.address_keys.add(address_key(row[2:9]))

    def merge(self, incoming):
        """Fill and replace values from ``incoming`` and add what is new; True if anything was."""
        values, changed = self.values, self.changed
        before = len(changed)
        for name, value in incoming.fields.items():
            if values.get(name) != value:
                values[name] = value
                changed.add(name)
        if incoming.custom:
            custom = values["custom"]
            updates = {k: v for k, v in incoming.custom.items() if custom.get(k) != v}
            if updates:
                values["custom"] = {**custom, **updates}
                changed.add("custom")
        added = False
        if incoming.methods:
            primary = {m[1] for m in self.methods if m[5]}
            order = max((m[6] for m in self.methods), default=-1)
            for type_id, scheme, value, normalized, label, is_primary in incoming.methods:
                key = method_key(scheme, value, normalized)
                if key in self.method_keys:
                    continue
                self.method_keys.add(key)
                order += 1
                is_primary = is_primary and scheme not in primary
                if is_primary:
                    primary.add(scheme)
                row = [type_id, scheme, value, normalized, label, is_primary, order, None]
                self.methods.append(row)
                self.new_methods.append(row)
                added = True
        if incoming.addresses:
            has_primary = any(a[1] for a in self.addresses)
            order = max((a[9] for a in self.addresses), default=-1)
            for address in incoming.addresses:
                key = address_key(address[2:9])
                if key in self.address_keys:
                    continue
                self.address_keys.add(key)
                order += 1
                row = [address[0], address[1] and not has_primary, *address[2:9], order, None]
                has_primary = has_primary or row[1]
                self.addresses.append(row)
                self.new_addresses.append(row)
                added = True
        for tag in incoming.tags:
            if tag not in self.tags:
                self.tags.add(tag)
                self.new_tags.append(tag)
                added = True
        if incoming.photo is not None and not values.get("photo_id") and self.photo is None:
            self.photo, self.photo_row = incoming.photo, incoming
            added = True
        return added or len(changed) > before

    def finish(self):
        """Compute the names and the denormalised primaries as Contact.save would."""
        values = self.values
        values["display_name"], values["sort_name"] = names_of(self.kind, values)
        methods = sorted(self.methods, key=_stored_order)
        values["primary_email"] = next((m[3] for m in methods if m[1] == "email"), "")
        values["primary_phone"] = next((m[3] for m in methods if m[1] == "phone"), "")[:32]
        address = min(self.addresses, key=_stored_address_order, default=None)
        values["city"] = address[5] if address else ""
        values["country"] = address[8] if address else ""


def _stored_order(method):
    # Meta.ordering of ContactMethod: -is_primary, sort_order, pk (new rows get higher pks).
    return (not method[5], method[6], method[7] or float("inf"))


def _stored_address_order(address):
    return (not address[1], address[9], address[10] or float("inf"))


class Matcher:
    """Finds the stored contacts that a batch of incoming rows matches.

    Only live contacts the user may change are matched (all contacts without a user): in a
    folder where the user's groups hold "manage", or owned by the user in a folder where they
    hold "contribute". Contacts elsewhere are never matched, updated or named in the report;
    a UID held by one of them (or by a contact in the trash) is "taken", and the import gives
    the new contact a new UID.
    """

    def __init__(self, user=None, by_name=False):
        self.user_id = user.pk if user is not None else None
        self.levels = None if user is None else folder_levels(user)
        self.by_name = by_name

    def changeable(self, folder_id, owner_id):
        if self.levels is None:
            return True
        rank = self.levels.get(folder_id, 0)
        return rank >= MANAGE or (rank >= CONTRIBUTE and owner_id == self.user_id)

    def find(self, rows):
        """Look up the batch: returns ``(by_uid, taken_uids, by_email, by_name)``.

        ``by_uid``, ``by_email`` and ``by_name`` map a UID, a normalised email and a name key
        (:meth:`Incoming.name_key`) to the primary key of the matching contact (the oldest
        when several match). ``taken_uids`` holds UIDs used by contacts that cannot be
        matched. One query each; the name query only with ``by_name``.
        """
        by_uid, taken = {}, set()
        uids = {row.uid for row in rows if row.uid}
        if uids:
            found = Contact.all_objects.filter(uid__in=uids).values_list(
                "uid", "pk", "folder_id", "owner_id", "deleted_at")
            for uid, pk, folder_id, owner_id, deleted_at in found:
                if deleted_at is None and self.changeable(folder_id, owner_id):
                    by_uid[uid] = pk
                else:
                    taken.add(uid)
        by_email = {}
        emails = {email for row in rows for email in row.emails}
        if emails:
            found = ContactMethod.objects.filter(
                normalized__in=emails, type__scheme="email", contact__deleted_at__isnull=True
            ).values_list("normalized", "contact_id", "contact__folder_id", "contact__owner_id")
            for email, pk, folder_id, owner_id in found:
                if self.changeable(folder_id, owner_id) and pk < by_email.get(email, pk + 1):
                    by_email[email] = pk
        by_name = {}
        keys = {key for row in rows if (key := row.name_key())} if self.by_name else ()
        if keys:
            found = Contact.objects.filter(
                sort_name__in={key[1] for key in keys}, kind__in={key[0] for key in keys}
            ).values_list("pk", "kind", "sort_name", "organization_name",
                          "primary_organization__organization_name", "folder_id", "owner_id")
            for pk, kind, sort, own, employer, folder_id, owner_id in found:
                if not self.changeable(folder_id, owner_id):
                    continue
                candidates = {""} if kind == ContactKind.ORGANIZATION else {
                    _fold(own), _fold(employer)}
                for organization in candidates:
                    key = (kind, sort, organization)
                    if key in keys and pk < by_name.get(key, pk + 1):
                        by_name[key] = pk
        return by_uid, taken, by_email, by_name

    def decide(self, rows, policy, folder_id, owner_id):
        """What to do with each row of a batch, by the ``policy`` for duplicates.

        A row matches by UID, else by its first matching email, else by name (opt-in), else
        a contact created by an earlier row of the batch. ``skip`` skips matched rows,
        ``create`` creates (a new UID when the row's is taken), ``update`` merges the row into
        the stored contact (loaded with :func:`load_drafts`) or the earlier row's new one.

        Returns:
            ``({id(row): (status, reason, draft)}, drafts to write)``; status is created,
            updated, unchanged, skipped or errors.
        """
        by_uid, taken, by_email, by_name = self.find(rows)
        matches = {}
        if policy != "create":
            for row in rows:
                match = by_uid.get(row.uid) if row.uid else None
                how = "UID"
                if match is None:
                    how = "email"
                    match = next((by_email[e] for e in row.emails if e in by_email), None)
                if match is None and self.by_name:
                    how = "name and organisation"
                    key = row.name_key()
                    match = by_name.get(key) if key else None
                if match is not None:
                    matches[id(row)] = (match, how)
        stored = {}
        if policy == "update" and matches:
            stored = load_drafts({pk for pk, _how in matches.values()})
        pending = {}  # ("uid"|"email"|"name", value) -> new Draft of this batch
        result, new, changed = {}, [], {}
        for row in rows:
            match = matches.get(id(row))
            target = stored.get(match[0]) if match else None
            how = match[1] if match else ""
            if match is None and policy != "create":
                target = self.pending_match(row, pending)
                how = "an earlier row"
            if match is not None and policy == "skip":
                result[id(row)] = ("skipped", f"matches an existing contact by {how}", None)
                continue
            if target is not None and policy == "skip":
                result[id(row)] = ("skipped", f"same contact as line {target.line}", target)
                continue
            if target is not None:
                if target.merge(row):
                    if not target.is_new:
                        changed[target.pk] = target
                    result[id(row)] = ("updated", f"matched by {how}", target)
                else:
                    result[id(row)] = ("unchanged", f"matched by {how}", target)
                continue
            if match is not None:  # matched a contact that vanished meanwhile
                result[id(row)] = ("errors", f"line {row.line}: the matching contact is gone",
                                   None)
                continue
            uid, reason = row.uid, ""
            if not uid or uid in taken or ("uid", uid) in pending or uid in by_uid:
                if uid:
                    reason = "the UID is taken by another contact: given a new UID"
                uid = str(uuid.uuid4())
            draft = Draft.create(row, uid, folder_id, owner_id)
            new.append(draft)
            for key in self.keys(row, uid):
                pending.setdefault(key, draft)
            result[id(row)] = ("created", reason, draft)
        return result, new + list(changed.values())

    def keys(self, row, uid):
        yield "uid", uid
        for email in row.emails:
            yield "email", email
        if self.by_name and (key := row.name_key()):
            yield "name", key

    def pending_match(self, row, pending):
        for key in self.keys(row, row.uid):
            if key[1] and key in pending:
                return pending[key]
        return None


def load_drafts(pks):
    """The stored contacts of ``pks`` as drafts, with their methods, addresses and tags.

    Four queries, whatever the number of contacts.
    """
    drafts = {}
    fields = ("pk", "kind", "uid", "custom", "photo_id", "folder_id", "owner_id", *SCALARS)
    for row in Contact.all_objects.filter(pk__in=pks).values(*fields):
        values = dict(row)
        pk, kind = values.pop("pk"), values.pop("kind")
        values["custom"] = values["custom"] or {}
        drafts[pk] = Draft(pk, kind, values, False)
    methods = ContactMethod.objects.filter(contact_id__in=pks).values_list(
        "contact_id", "type_id", "type__scheme", "value", "normalized", "label", "is_primary",
        "sort_order", "pk")
    for contact_id, *method in methods:
        drafts[contact_id].add_stored_method(*method)
    addresses = Address.objects.filter(contact_id__in=pks).values_list(
        "contact_id", "label", "is_primary", *ADDRESS_PARTS, "sort_order", "pk")
    for contact_id, *address in addresses:
        drafts[contact_id].add_stored_address(address)
    tags = ContactTag.objects.filter(content_object_id__in=pks).values_list(
        "content_object_id", "tag__name")
    for contact_id, name in tags:
        drafts[contact_id].tags.add(name)
    return drafts
