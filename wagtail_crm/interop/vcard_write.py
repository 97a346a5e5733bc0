"""Writing ContactRecords as vCard 3.0 or 4.0 text (CRLF, folded at 75 octets)."""

from __future__ import annotations

import base64
import re
import uuid
from collections.abc import Iterable, Iterator

from .records import ContactRecord
from .vcard_lines import escape_text, fold, format_param

VERSIONS = ("3.0", "4.0")
#: messaging services written as IMPP, with their URI scheme; other handles are
#: written as X-SOCIALPROFILE (LinkedIn, Mastodon...)
IM_SCHEMES = {
    "aim": "aim", "icq": "icq", "xmpp": "xmpp", "jabber": "xmpp", "gtalk": "xmpp",
    "msn": "msnim", "yahoo": "ymsgr", "skype": "skype", "qq": "qq", "sip": "sip",
    "irc": "irc", "matrix": "matrix", "gadugadu": "gg", "groupwise": "groupwise", "im": "im",
}
_NAME_CHARS = re.compile(r"[^A-Za-z0-9-]")
_URI = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*:")
_MAGIC = (
    (b"\xff\xd8\xff", "image/jpeg"), (b"\x89PNG", "image/png"), (b"GIF8", "image/gif"),
    (b"BM", "image/bmp"),
)


def write_vcard(record: ContactRecord, version: str = "4.0") -> str:
    """One record as a vCard.

    Args:
        record: the contact.
        version: ``"3.0"`` or ``"4.0"``.

    Returns:
        The card's text, BEGIN:VCARD to END:VCARD, with CRLF line endings.
    """
    if version not in VERSIONS:
        raise ValueError(f"vCard version must be one of {VERSIONS}, not {version!r}")
    return "".join(fold(line) for line in _Writer(version).lines(record))


def write_vcards(records: Iterable[ContactRecord], version: str = "4.0") -> Iterator[str]:
    """Write records one card at a time (for streaming responses).

    Yields:
        The text of each card, as :func:`write_vcard` returns it.
    """
    for record in records:
        yield write_vcard(record, version)


def sniff_media_type(data: bytes) -> str:
    """The image type of ``data`` from its first bytes; empty when unknown."""
    for magic, media in _MAGIC:
        if data.startswith(magic):
            return media
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return ""


class _Writer:
    def __init__(self, version):
        self.version = version
        self.v4 = version == "4.0"
        self.items = 0

    def lines(self, record):
        v4, text = self.v4, escape_text
        yield "BEGIN:VCARD"
        yield f"VERSION:{self.version}"
        organization = record.kind == "organization"
        if organization and v4:
            yield "KIND:org"
        names = (record.family_name, record.given_name, record.additional_names,
                 record.prefix, record.suffix)
        if any(names) or not v4:
            yield "N:" + ";".join(text(part) for part in names)
        yield "FN:" + text(_display_name(record))
        if record.nickname:
            yield "NICKNAME:" + text(record.nickname)
        if record.organization_name or record.department:
            org = text(record.organization_name)
            yield "ORG:" + (f"{org};{text(record.department)}" if record.department else org)
        if organization and not v4:
            yield "X-ABShowAs:COMPANY"
        if record.job_title:
            yield "TITLE:" + text(record.job_title)
        if record.birthday:
            yield "BDAY:" + record.birthday.strftime("%Y%m%d" if v4 else "%Y-%m-%d")
        if record.notes:
            yield "NOTE:" + text(record.notes)
        for method in record.emails:
            yield from self.method("EMAIL", method, text(method.value), ["internet"])
        for method in record.phones:
            yield from self.method("TEL", method, text(method.value))
        for address in record.addresses:
            value = ";".join(text(part) for part in (
                address.po_box, address.extended, address.street, address.locality,
                address.region, address.postal_code, address.country))
            yield from self.method("ADR", address, value)
        for method in record.urls:
            yield from self.method("URL", method, self.uri(method.value))
        for method in record.handles:
            yield from self.handle(method)
        if record.tags:
            yield "CATEGORIES:" + ",".join(text(tag) for tag in record.tags)
        if record.photo and record.photo.data:
            yield self.photo(record.photo)
        if record.uid:
            yield self.uid(record.uid)
        if v4:
            for related in record.related:
                params = self.types(related.types)
                if not _URI.match(related.value):
                    params += ";VALUE=text"
                    yield f"RELATED{params}:{text(related.value)}"
                else:
                    yield f"RELATED{params}:{related.value}"
        for key, value in record.custom.items():
            if value is None or value == "":
                continue
            if isinstance(value, list | tuple):
                value = ",".join(text(str(item)) for item in value)
            else:
                value = text(str(value))
            yield f"X-CRM-{_NAME_CHARS.sub('-', key.replace('_', '-')).upper()}:{value}"
        yield "END:VCARD"

    def types(self, words, pref=False, extra=()):
        words = [*extra, *words] if not self.v4 else list(words)
        if pref and not self.v4:
            words.append("pref")
        params = ""
        if words:
            if not self.v4:
                words = [word.upper() for word in words]
            params = ";TYPE=" + ",".join(format_param(word, self.version) for word in words)
        if pref and self.v4:
            params += ";PREF=1"
        return params

    def method(self, name, method, value, extra=(), params=None):
        if params is None:
            params = self.types(method.types, method.is_primary, extra)
        if method.label:
            self.items += 1
            group = f"item{self.items}"
            yield f"{group}.{name}{params}:{value}"
            yield f"{group}.X-ABLabel:{escape_text(method.label)}"
        else:
            yield f"{name}{params}:{value}"

    def handle(self, method):
        service = method.types[0] if method.types else ""
        scheme = IM_SCHEMES.get(service)
        if service and not scheme:
            yield from self.method("X-SOCIALPROFILE", method, escape_text(method.value))
            return
        value = f"{scheme}:{method.value}" if scheme else method.value
        params = f";X-SERVICE-TYPE={format_param(service, self.version)}" if service else ""
        params += self.types(method.types[1:] if service else method.types, method.is_primary)
        yield from self.method("IMPP", method, self.uri(value), params=params)

    def uri(self, value):
        return value if self.v4 else escape_text(value)

    def photo(self, photo):
        media = photo.media_type or sniff_media_type(photo.data) or "image/jpeg"
        data = base64.b64encode(photo.data).decode("ascii")
        if self.v4:
            return f"PHOTO:data:{media};base64,{data}"
        kind = media.rpartition("/")[2].upper()
        return f"PHOTO;ENCODING=b;TYPE={format_param(kind, self.version)}:{data}"

    def uid(self, uid):
        if not self.v4:
            return "UID:" + escape_text(uid)
        try:
            if len(uid) == 36 and uuid.UUID(uid):
                return f"UID:urn:uuid:{uid.lower()}"
        except ValueError:
            pass
        return f"UID:{uid}" if _URI.match(uid) else f"UID;VALUE=text:{escape_text(uid)}"


def _display_name(record):
    if record.formatted_name:
        return record.formatted_name
    if record.kind == "organization" and record.organization_name:
        return record.organization_name
    names = (record.prefix, record.given_name, record.additional_names, record.family_name,
             record.suffix)
    name = " ".join(part for part in names if part)
    for fallback in (name, record.organization_name, record.nickname,
                     *(method.value for method in record.emails),
                     *(method.value for method in record.phones)):
        if fallback:
            return fallback
    return ""
