"""Plain records that parsers produce and writers consume.

Nothing here knows about Django models: services/importing.py maps records to
contacts, and exports turn contacts into records before a writer sees them.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field


class UnreadableFile(Exception):
    """The whole input cannot be read (wrong format, undecodable, too large)."""


@dataclass
class Method:
    """An email address, phone number, URL or messaging handle."""

    #: the value as written in the file (``mailto:`` and ``tel:`` prefixes removed)
    value: str
    #: lower-cased type words from the file: ``home``, ``work``, ``cell``, ``fax``...
    types: list[str] = field(default_factory=list)
    #: a free-text label (Apple's X-ABLabel, a CSV column's "Type" cell)
    label: str = ""
    is_primary: bool = False


@dataclass
class AddressRecord:
    po_box: str = ""
    extended: str = ""
    street: str = ""
    locality: str = ""
    region: str = ""
    postal_code: str = ""
    #: the country as written: a name ("Deutschland", "United States") or an ISO code
    country: str = ""
    types: list[str] = field(default_factory=list)
    label: str = ""
    is_primary: bool = False

    def is_empty(self):
        return not any(
            (self.po_box, self.extended, self.street, self.locality,
             self.region, self.postal_code, self.country)
        )


@dataclass
class Photo:
    data: bytes
    #: e.g. ``image/jpeg``; empty when the file did not say
    media_type: str = ""


@dataclass
class Related:
    """A vCard RELATED property: another contact, by URI (``urn:uuid:...``) or text."""

    value: str
    #: RFC 6350 relation types: ``spouse``, ``parent``, ``child``, ``sibling``, ``co-worker``...
    types: list[str] = field(default_factory=list)


@dataclass
class ContactRecord:
    """One contact as read from, or written to, a file."""

    kind: str = "person"  #: ``person`` or ``organization``
    uid: str = ""
    formatted_name: str = ""  #: vCard FN, CSV "Display Name"
    prefix: str = ""
    given_name: str = ""
    additional_names: str = ""
    family_name: str = ""
    suffix: str = ""
    nickname: str = ""
    organization_name: str = ""
    department: str = ""
    job_title: str = ""
    birthday: datetime.date | None = None
    notes: str = ""
    emails: list[Method] = field(default_factory=list)
    phones: list[Method] = field(default_factory=list)
    urls: list[Method] = field(default_factory=list)
    #: messaging and social handles (IMPP, X-SOCIALPROFILE, X-JABBER...)
    handles: list[Method] = field(default_factory=list)
    addresses: list[AddressRecord] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)
    photo: Photo | None = None
    related: list[Related] = field(default_factory=list)
    #: custom field values by key (vCard ``X-CRM-<KEY>``, a CSV column mapped to a key)
    custom: dict[str, str] = field(default_factory=dict)
    #: the line of the input where this record starts (1-based); 0 when written
    line: int = 0
    #: things that were read but not understood, kept for the import report
    warnings: list[str] = field(default_factory=list)


@dataclass
class RowError:
    """A record that could not be read. The import report lists it; nothing is dropped silently."""

    line: int
    reason: str
    #: the start of the offending input, for the report
    excerpt: str = ""
