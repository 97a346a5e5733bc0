"""vCard properties to ContactRecord fields: one CardReader per card.

vcard.py finds the cards and keeps the bounds; this module knows what each property means.
"""

from __future__ import annotations

import datetime
import re

from .records import AddressRecord, ContactRecord, Method, Photo, Related
from .vcard_lines import (
    decode_base64,
    decode_quoted_printable,
    head_cache,
    original_bytes,
    parse_property,
    split_value,
    unescape,
)
from .vcard_write import sniff_media_type

_DATE = re.compile(r"(\d{4})-?(\d\d)-?(\d\d)(?:T[\d:.Z+-]*)?$")
_NO_YEAR = re.compile(r"--(\d\d)-?(\d\d)$")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*$")
#: housekeeping properties, dropped without a warning
_IGNORED = {
    "VERSION", "PRODID", "REV", "LABEL", "X-ABLABEL", "X-ABUID", "X-ABADR", "CLIENTPIDMAP",
    "X-MS-OL-DESIGN", "X-MS-OL-DEFAULT-POSTAL-ADDRESS", "SORT-STRING", "MAILER", "NAME",
    "PROFILE", "SOURCE", "X-ABSHOWAS",
}
#: messaging properties of vCard 2.1 and 3.0, and the service each names
_IM_PROPERTIES = {
    "X-AIM": "aim", "X-ICQ": "icq", "X-JABBER": "xmpp", "X-MSN": "msn", "X-YAHOO": "yahoo",
    "X-SKYPE": "skype", "X-SKYPE-USERNAME": "skype", "X-GTALK": "gtalk",
    "X-GOOGLE-TALK": "gtalk", "X-QQ": "qq", "X-GADUGADU": "gadugadu", "X-TWITTER": "twitter",
    "X-MATRIX": "matrix", "X-SIP": "sip", "X-MS-IMADDRESS": "im", "X-GROUPWISE": "groupwise",
}
_SERVICE_ALIASES = {"jabber": "xmpp", "ymsgr": "yahoo", "msnim": "msn", "gg": "gadugadu"}
_RELATION_WORDS = {"mother": "parent", "father": "parent", "brother": "sibling",
                   "sister": "sibling"}
_OUTLOOK_RELATIONS = {"X-MS-MANAGER": "manager", "X-MS-ASSISTANT": "assistant",
                      "X-MS-SPOUSE": "spouse"}
_MEDIA_WORDS = {"jpg": "jpeg", "pjpeg": "jpeg", "tif": "tiff"}


class CardError(Exception):
    """A card that cannot be read; the reason names the line."""

    def __init__(self, reason, excerpt=""):
        super().__init__(reason)
        self.reason, self.excerpt = reason, excerpt


class CardReader:
    """Maps the properties of one card onto a ContactRecord."""

    def __init__(self, start, encoding, max_photo_bytes):
        self.record = ContactRecord(line=start)
        self.max_photo_bytes = max_photo_bytes
        self.encoding = encoding
        self.version = "3.0"
        self.labels = {}  # group name -> label
        self.unknown = {}
        self.notes = []
        self.role_text = ""

    def read(self, texts, numbers):
        if texts and texts[0][:8].upper() != "VERSION:":
            self.version = next(
                (text[8:].strip() for text in texts if text[:8].upper() == "VERSION:"), "3.0")
        record, grouped, heads = self.record, {}, head_cache
        if numbers is None:
            lines = enumerate(texts, self.record.line + 1)
        else:
            lines = zip(numbers, texts, strict=True)
        for number, text in lines:
            colon = text.find(":")
            head = heads.get(text[:colon]) if colon > 0 else None
            if head is not None:
                value = text[colon + 1:]
            else:
                parsed = parse_property(text)
                if parsed is None:
                    self.count("lines without a colon")
                    continue
                head, value = parsed
            group, name, params, types, pref = head
            label = ""
            if group:
                group = group.upper()
                if name == "X-ABLABEL":
                    self.label(grouped.get(group), group, value)
                    continue
                label = self.labels.get(group, "")
            if params and ("ENCODING" in params or "CHARSET" in params):
                value = self.decoded(name, params, value)
            handler = _HANDLERS.get(name)
            try:
                if handler is not None:
                    made = handler(self, value, params, types, pref, label)
                    if group and made is not None:
                        grouped[group] = made
                elif name == "VERSION":
                    self.version = value.strip()
                elif name.startswith("X-CRM-") and len(name) > 6:
                    key = name[6:].lower().replace("-", "_")
                    record.custom[key] = unescape(value, self.version)
                elif name not in _IGNORED:
                    self.count(name)
            except CardError as failure:
                raise CardError(f"line {number}: {failure.reason}", text[:80]) from None
        return self.finish()

    def label(self, made, group, value):
        """Apple's itemN.X-ABLabel: a free label for the properties of group itemN."""
        label = self.labels[group] = _label(unescape(value, "3.0"))
        if isinstance(made, Related):
            word = label.lower()
            made.types = [_RELATION_WORDS.get(word, word)] if word else []
        elif made is not None:
            made.label = label

    def count(self, name):
        if len(name) > 24:
            name = name[:20] + "..."
        self.unknown[name] = self.unknown.get(name, 0) + 1

    def warn(self, message):
        if message not in self.record.warnings:
            self.record.warnings.append(message)

    def decoded(self, name, params, value):
        encoding = params.get("ENCODING", [""])[0].upper()
        charset = params.get("CHARSET", [""])[0]
        if encoding == "QUOTED-PRINTABLE":
            value, warning = decode_quoted_printable(value, charset, self.encoding)
            if warning:
                self.warn(f"{name}: {warning}")
        elif (charset and self.encoding == "cp1252"
              and charset.lower() not in ("cp1252", "windows-1252", "iso-8859-1", "us-ascii")):
            # the file was not UTF-8 as a whole; this value says what it is
            try:
                value = original_bytes(value, "cp1252").decode(charset)
            except (LookupError, UnicodeDecodeError):
                self.warn(f"{name}: could not read as CHARSET={charset}")
        return value

    def text(self, value):
        return unescape(value, self.version).strip()

    def finish(self):
        record = self.record
        if self.notes:
            record.notes = "\n".join(self.notes)
        record.job_title = record.job_title or self.role_text
        if record.kind == "person" and record.organization_name and (
            record.formatted_name == record.organization_name
            or not (record.formatted_name or record.given_name or record.family_name)
        ):
            record.kind = "organization"
        if self.unknown:
            names = [f"{name} ({count})" if count > 1 else name
                     for name, count in self.unknown.items()]
            more = f" and {len(names) - 8} more" if len(names) > 8 else ""
            record.warnings.append("Not imported: " + ", ".join(names[:8]) + more)
        return record

    # property handlers: (value, params, types, pref, label)

    def fn(self, value, params, types, pref, label):
        if not self.record.formatted_name:
            self.record.formatted_name = self.text(value)

    def n(self, value, params, types, pref, label):
        parts = [part.strip() for part in split_value(value, self.version, lists=" ")]
        parts += [""] * (5 - len(parts))
        record = self.record
        if not (record.family_name or record.given_name):
            (record.family_name, record.given_name, record.additional_names, record.prefix,
             record.suffix) = parts[:5]

    def nickname(self, value, params, types, pref, label):
        if not self.record.nickname:
            self.record.nickname = self.text(value)

    def org(self, value, params, types, pref, label):
        if self.record.organization_name or self.record.department:
            return
        parts = [part.strip() for part in split_value(value, self.version)]
        self.record.organization_name = parts[0]
        self.record.department = ", ".join(part for part in parts[1:] if part)

    def title(self, value, params, types, pref, label):
        if not self.record.job_title:
            self.record.job_title = self.text(value)

    def role(self, value, params, types, pref, label):
        self.role_text = self.role_text or self.text(value)

    def note(self, value, params, types, pref, label):
        note = self.text(value)
        if note:
            self.notes.append(note)

    def bday(self, value, params, types, pref, label):
        if self.record.birthday:
            return
        text = self.text(value)
        match = _DATE.match(text)
        if match:
            try:
                self.record.birthday = datetime.date(*map(int, match.groups()))
                return
            except ValueError:
                pass
        if _NO_YEAR.match(text):
            self.warn(f"BDAY {text} has no year; not imported")
        elif text:
            self.warn(f"BDAY {text[:40]} is not a date; not imported")

    def email(self, value, params, types, pref, label):
        value = (unescape(value, self.version) if "\\" in value else value).strip()
        if value[:7].lower() == "mailto:":
            value = value[7:].strip()
        if value:
            method = Method(value, list(types), label, pref)
            self.record.emails.append(method)
            return method

    def tel(self, value, params, types, pref, label):
        value = (unescape(value, self.version) if "\\" in value else value).strip()
        if value[:4].lower() == "tel:":
            value = value[4:].strip()
        if value:
            method = Method(value, list(types), label, pref)
            self.record.phones.append(method)
            return method

    def url(self, value, params, types, pref, label):
        value = self.text(value)
        if value:
            method = Method(value, list(types), label, pref)
            self.record.urls.append(method)
            return method

    def adr(self, value, params, types, pref, label):
        parts = [part.strip() for part in split_value(value, self.version)]
        if len(parts) > 7:
            parts[6:] = [", ".join(part for part in parts[6:] if part)]
        parts += [""] * (7 - len(parts))
        address = AddressRecord(*parts, types=list(types), label=label, is_primary=pref)
        if not address.is_empty():
            self.record.addresses.append(address)
            return address

    def categories(self, value, params, types, pref, label):
        for tag in split_value(value, self.version, ","):
            tag = tag.strip()
            if tag and tag not in self.record.tags:
                self.record.tags.append(tag)

    def photo(self, value, params, types, pref, label):
        if self.record.photo:
            return
        value = value.strip()
        encoding = params.get("ENCODING", [""])[0].upper()
        media = (params.get("MEDIATYPE") or [""])[0]
        if value[:5].lower() == "data:":
            header, comma, value = value.partition(",")
            media = header[5:].split(";")[0]
            if not comma or ";base64" not in header.lower():
                self.warn("PHOTO is a data: URI that is not base64; not imported")
                return
        elif encoding not in ("B", "BASE64"):
            if value and not any(w.startswith("PHOTO is a link") for w in self.record.warnings):
                self.warn(f"PHOTO is a link ({value[:60]}), not downloaded")
            return
        if len(value) * 3 // 4 > self.max_photo_bytes * 1.1:
            raise CardError(f"PHOTO is larger than {self.max_photo_bytes:,} bytes")
        try:
            data, complete = decode_base64(value)
        except ValueError:
            raise CardError("PHOTO is not valid base64") from None
        if not complete:
            self.warn("PHOTO: the base64 data has lost characters; the image may be damaged")
        if len(data) > self.max_photo_bytes:
            raise CardError(f"PHOTO is larger than {self.max_photo_bytes:,} bytes")
        if not media:
            words = [word for word in types if word not in ("home", "work")]
            media = _media_type(words[0]) if words else ""
        if data:
            self.record.photo = Photo(data, media.lower() or sniff_media_type(data))

    def uid(self, value, params, types, pref, label):
        value = self.text(value)
        if value[:9].lower() == "urn:uuid:":
            value = value[9:]
        self.record.uid = self.record.uid or value

    def kind(self, value, params, types, pref, label):
        kind = self.text(value).lower()
        if kind in ("org", "organization"):
            self.record.kind = "organization"
        elif kind not in ("", "individual"):
            self.warn(f"KIND:{kind} read as a person")

    def show_as(self, value, params, types, pref, label):
        if self.text(value).upper() == "COMPANY":
            self.record.kind = "organization"

    def impp(self, value, params, types, pref, label):
        value = self.text(value)
        scheme, colon, rest = value.partition(":")
        service = (params.get("X-SERVICE-TYPE") or [""])[0].strip().lower()
        if colon and _SCHEME.match(scheme):
            value, service = rest.strip(), service or scheme.lower()
            if value.startswith("//"):
                value = value[2:]
        return self.handle(value, _SERVICE_ALIASES.get(service, service), types, pref, label)

    def handle(self, value, service, types, pref, label):
        if value:
            words = [service] if service else []
            words += [word for word in types if word != service]
            method = Method(value, words, label, pref)
            self.record.handles.append(method)
            return method

    def social(self, value, params, types, pref, label):
        value = self.text(value) or (params.get("X-USER") or [""])[0]
        service = types[0] if types else ""
        return self.handle(value, _SERVICE_ALIASES.get(service, service), types, pref, label)

    def related(self, value, params, types, pref, label):
        value = value.strip()
        if (params.get("VALUE") or [""])[0].lower() == "text" or not _has_scheme(value):
            value = self.text(value)
        if value:
            related = Related(value, list(types))
            self.record.related.append(related)
            return related

    def related_name(self, value, params, types, pref, label):
        value = self.text(value)
        word = label.lower()
        if value:
            related = Related(value, [_RELATION_WORDS.get(word, word)] if word else [])
            self.record.related.append(related)
            return related

    def agent(self, value, params, types, pref, label):
        if value.strip().upper() in ("", "BEGIN:VCARD"):
            self.warn("AGENT (a vCard inside the vCard) skipped")
        else:
            self.count("AGENT")


def _im_handler(service):
    def handler(card, value, params, types, pref, label):
        return card.handle(card.text(value), service, types, pref, label)
    return handler


def _relation_handler(word):
    def handler(card, value, params, types, pref, label):
        value = card.text(value)
        if value:
            card.record.related.append(Related(value, [word]))
    return handler


_R = CardReader
_HANDLERS = {
    "FN": _R.fn, "N": _R.n, "NICKNAME": _R.nickname, "ORG": _R.org, "TITLE": _R.title,
    "ROLE": _R.role, "NOTE": _R.note, "BDAY": _R.bday, "EMAIL": _R.email, "TEL": _R.tel,
    "URL": _R.url, "ADR": _R.adr, "CATEGORIES": _R.categories, "PHOTO": _R.photo,
    "UID": _R.uid, "KIND": _R.kind, "X-ADDRESSBOOKSERVER-KIND": _R.kind,
    "X-ABSHOWAS": _R.show_as, "IMPP": _R.impp, "X-SOCIALPROFILE": _R.social,
    "RELATED": _R.related, "X-ABRELATEDNAMES": _R.related_name, "AGENT": _R.agent,
    **{name: _im_handler(service) for name, service in _IM_PROPERTIES.items()},
    **{name: _relation_handler(word) for name, word in _OUTLOOK_RELATIONS.items()},
}


def _label(value):
    value = value.strip()
    if value.startswith("_$!<") and value.endswith(">!$_"):
        value = value[4:-4]
    return value


def _has_scheme(value):
    scheme, colon, _ = value.partition(":")
    return bool(colon) and bool(_SCHEME.match(scheme))


def _media_type(word):
    word = word.lower()
    if "/" in word:
        return word
    return "image/" + _MEDIA_WORDS.get(word, word) if word.isalpha() else ""
