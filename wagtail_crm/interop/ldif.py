"""Contacts from and to LDIF (RFC 2849): directory exports, ldapsearch output, Thunderbird.

Reading: every entry yields one ``ContactRecord`` or one ``RowError``, so every entry is
accounted for. Entries that are not contacts (groupOfNames, domains, change records other
than ``add``) yield a ``RowError`` whose reason starts with "not a contact entry" or
"change records are not contacts"; the import service may count those as skipped.

- person, organizationalPerson, inetOrgPerson, Thunderbird's mozillaAbPersonAlpha and
  unknown classes of entries with ``sn``, ``givenName`` or ``mail`` are people;
- organization is an organisation;
- organizationalUnit is an organisation record whose ``department`` is the unit's name and
  whose ``organization_name`` is the ``o=`` above it in the DN (the unit's own name when
  there is none): a department of that organisation.
- ``custom["ldap_dn"]`` and ``custom["ldap_parent_dn"]`` keep where the entry sat.
- ``uid`` is ``entryUUID`` when present (the LDAP ``uid`` then goes to
  ``custom["ldap_uid"]``), else the LDAP ``uid``.
- Secret attributes (userPassword and the like) are never decoded or kept; ``attr:< URL``
  values are refused (no file is ever read); binary attributes other than jpegPhoto are
  dropped.

Writing: ``version: 1``, then ``ou=people`` under the base, then people as inetOrgPerson
``uid=<uid>,ou=people,<base>`` (a uid is derived from the name and first e-mail when the
record has none), then organisations as ``o=<name>,<base>`` and departments as
``ou=<department>,o=<organisation>,<base>``, parents before children so ``ldapadd`` loads
the file. The first non-home address is written as street (and extended as a second street
value), postOfficeBox, l, st, postalCode and a postalAddress whose last line is the country;
a home address as homePostalAddress.
"""

from __future__ import annotations

import base64
import binascii
import dataclasses
import datetime
import re
import uuid
from collections.abc import Iterable, Iterator

from .records import AddressRecord, ContactRecord, Method, Photo, RowError, UnreadableFile
from .text import decode

__all__ = ["read_ldif", "write_ldif", "split_dn"]

MAX_VALUE_CHARS = 8_000_000
SECRETS = frozenset({
    "userpassword", "sambantpassword", "sambalmpassword", "authpassword", "unicodepwd",
    "sambapasswordhistory", "krbprincipalkey", "userpkcs12", "shadowpassword",
    "clearpassword", "ntpassword", "lmpassword", "krbextradata",
})
BINARY = frozenset({
    "jpegphoto", "photo", "thumbnailphoto", "usercertificate", "cacertificate", "audio",
    "usersmimecertificate", "certificaterevocationlist", "authorityrevocationlist",
    "crosscertificatepair", "x500uniqueidentifier", "objectguid", "objectsid",
})
PERSON_CLASSES = frozenset({
    "person", "organizationalperson", "inetorgperson", "residentialperson", "openldapperson",
    "mozillaabpersonalpha", "mozillaabpersonobsolete", "pilotperson", "newpilotperson",
})
NOT_CONTACTS = frozenset({
    "groupofnames", "groupofuniquenames", "posixgroup", "groupofurls", "mozillaabgroup",
    "organizationalrole", "device", "applicationprocess", "dcobject", "domain", "country",
    "locality", "alias", "referral",
})
QUIET = frozenset({
    "objectclass", "changetype", "control", "modifytimestamp", "createtimestamp",
    "creatorsname", "modifiersname", "entrycsn", "structuralobjectclass", "entrydn",
    "subschemasubentry", "hassubordinates", "contextcsn", "dc", "cn", "sn", "o", "ou",
})
_PHONES = {
    "telephonenumber": ["work"], "homephone": ["home"], "hometelephonenumber": ["home"],
    "mobile": ["cell"], "mobiletelephonenumber": ["cell"], "facsimiletelephonenumber": ["fax"],
    "fax": ["fax"], "pager": ["pager"], "pagertelephonenumber": ["pager"],
}
_SIMPLE = {
    "givenname": "given_name", "gn": "given_name", "title": "job_title",
    "personaltitle": "prefix", "mozillanickname": "nickname", "xmozillanickname": "nickname",
}
_EMAILS = ("mail", "rfc822mailbox", "mozillasecondemail", "xmozillasecondemail")
_URLS = {"labeleduri": [], "mozillaworkurl": ["work"], "workurl": ["work"],
         "mozillahomeurl": ["home"], "homeurl": ["home"]}
_CUSTOM = {"employeenumber": "employee_number", "employeetype": "employee_type",
           "mozillacustom1": "custom1", "mozillacustom2": "custom2",
           "mozillacustom3": "custom3", "mozillacustom4": "custom4"}
_WORK_ADDRESS = {"street": "street", "streetaddress": "street", "postofficebox": "po_box",
                 "l": "locality", "localityname": "locality", "st": "region",
                 "stateorprovincename": "region", "postalcode": "postal_code",
                 "c": "country", "co": "country", "countryname": "country",
                 "mozillaworkstreet2": "extended"}
_HOME_ADDRESS = {"mozillahomestreet": "street", "mozillahomestreet2": "extended",
                 "mozillahomelocalityname": "locality", "mozillahomestate": "region",
                 "mozillahomepostalcode": "postal_code", "mozillahomecountryname": "country"}
_HANDLED = (
    QUIET | SECRETS | BINARY | _PHONES.keys() | _SIMPLE.keys() | set(_EMAILS) | _URLS.keys()
    | _CUSTOM.keys() | _WORK_ADDRESS.keys() | _HOME_ADDRESS.keys() | {
        "displayname", "description", "uid", "userid", "entryuuid", "postaladdress",
        "homepostaladdress", "birthyear", "birthmonth", "birthday", "version",
    }
)


def split_dn(dn: str) -> list[str]:
    """Split a DN into its RDNs (escaped and quoted commas stay inside their RDN)."""
    rdns, current, escaped, quoted = [], [], False, False
    for char in dn:
        if escaped:
            escaped = False
        elif char == "\\":
            escaped = True
        elif char == '"':
            quoted = not quoted
        elif char in ",;" and not quoted:
            rdns.append("".join(current).strip())
            current = []
            continue
        current.append(char)
    if current or rdns:
        rdns.append("".join(current).strip())
    return rdns


def _rdn_value(rdn: str) -> tuple[str, str]:
    name, _, value = rdn.partition("=")
    value = re.sub(r"\\([0-9A-Fa-f]{2}|.)", lambda m: chr(int(m[1], 16))
                   if len(m[1]) == 2 else m[1], value.strip().strip('"'))
    return name.strip().lower(), value


def _logical_lines(text: str) -> Iterator[list[tuple[int, str]]]:
    """Yield entries as lists of (line number, unfolded line); comments are dropped."""
    entry, comment = [], False
    for number, line in enumerate(re.split(r"\r?\n", text), 1):
        if line.startswith(" "):
            if not comment and entry:
                entry[-1][1].append(line[1:])
            elif not comment:
                entry.append((number, [line]))
            continue
        comment = line.startswith("#")
        if comment:
            continue
        if not line.strip():
            if entry:
                yield [(n, "".join(parts)) for n, parts in entry]
                entry = []
            continue
        entry.append((number, [line]))
    if entry:
        yield [(n, "".join(parts)) for n, parts in entry]


class _Refused(Exception):
    def __init__(self, line, reason):
        self.line, self.reason = line, reason


def _value(number: int, name: str, rest: str) -> str | bytes:
    if rest.startswith(":"):
        try:
            raw = base64.b64decode("".join(rest[1:].split()), validate=True)
        except (binascii.Error, ValueError):
            raise _Refused(number, f"invalid base64 in attribute {name!r}") from None
        if name.split(";")[0].lower() in BINARY:
            return raw
        try:
            return raw.decode("utf-8")
        except UnicodeDecodeError:
            return raw.decode("cp1252", errors="replace")
    if rest.startswith("<"):
        raise _Refused(number, f"attribute {name!r} refers to a URL; URL values are not read")
    return rest.lstrip(" ")


def _parse_entry(lines: list[tuple[int, str]]) -> tuple[int, str, dict] | RowError:
    first = lines[0][0]
    attributes: dict[str, list] = {}
    dn = None
    try:
        for number, line in lines:
            name, colon, rest = line.partition(":")
            if not colon or not name or " " in name.strip():
                raise _Refused(number, f"not an attribute line: {line[:40]!r}")
            if len(rest) > MAX_VALUE_CHARS:
                raise _Refused(number, f"the value of {name!r} is too long")
            base = name.split(";")[0].strip().lower()
            if base in SECRETS:
                continue
            value = _value(number, name, rest)
            if base == "changetype" and str(value).strip().lower() != "add":
                return RowError(
                    first, f"change records are not contacts (changetype: {value.strip()})",
                    excerpt=str(dn)[:80],
                )
            if dn is None:
                if base != "dn":
                    raise _Refused(number, "an entry must start with a dn: line")
                dn = value
                continue
            attributes.setdefault(base, []).append(value)
    except _Refused as refused:
        return RowError(refused.line, refused.reason, excerpt=lines[0][1][:80])
    return first, str(dn), attributes


def read_ldif(data: bytes, *, max_bytes: int | None = None
              ) -> Iterator[ContactRecord | RowError]:
    """Read the contacts in an LDIF file.

    Args:
        data: the file's bytes (UTF-8; other encodings are detected by ``text.decode``).
        max_bytes: refuse larger files.

    Returns:
        An iterator of one record or error per entry, in file order.

    Raises:
        UnreadableFile: too large, not text, or no LDIF entry at all.
    """
    if max_bytes is not None and len(data) > max_bytes:
        raise UnreadableFile(f"The file is larger than {max_bytes} bytes.")
    text, _encoding = decode(data)
    text = text.lstrip("\ufeff")
    if not re.search(r"^dn::? ?", text, re.MULTILINE | re.IGNORECASE):
        raise UnreadableFile("The file holds no LDIF entry (no line starts with dn:).")
    return _read(text)


def _read(text: str) -> Iterator[ContactRecord | RowError]:
    first = True
    for lines in _logical_lines(text):
        if first and lines[0][1].lower().replace(" ", "").startswith("version:"):
            lines = lines[1:]
        first = False
        if not lines:
            continue
        parsed = _parse_entry(lines)
        if isinstance(parsed, RowError):
            yield parsed
        else:
            yield _record(*parsed)


def _texts(attributes, name) -> list[str]:
    return [v.strip() for v in attributes.get(name, ()) if isinstance(v, str) and v.strip()]


def _postal_lines(value: str) -> list[str]:
    lines = [re.sub(r"\\(24|5[cC])", lambda m: "$" if m[1] == "24" else "\\", part).strip()
             for part in value.split("$")]
    return [line for line in lines if line]


def _address(attributes, components, postal, types) -> AddressRecord | None:
    address = AddressRecord(types=list(types))
    for name, part in components.items():
        values = _texts(attributes, name)
        if values and not getattr(address, part):
            if part == "street" and len(values) > 1 and not address.extended:
                address.extended = "\n".join(values[1:])
            setattr(address, part, values[0])
    lines = _postal_lines((_texts(attributes, postal) or [""])[0])
    if address.is_empty():
        address.street = "\n".join(lines)
    elif lines and not address.country:
        last = lines[-1]
        known = [address.street, address.extended, address.po_box, address.locality,
                 address.region, address.postal_code]
        if not any(last == k or (k and k in last) for k in known):
            address.country = last
    return None if address.is_empty() else address


def _classify(classes: set[str], attributes: dict) -> str | None:
    if classes & PERSON_CLASSES:
        return "person"
    if "organization" in classes:
        return "organization"
    if "organizationalunit" in classes:
        return "unit"
    if not classes & NOT_CONTACTS and any(k in attributes for k in ("sn", "givenname", "mail")):
        return "person"
    return None


def _record(line: int, dn: str, attributes: dict) -> ContactRecord | RowError:
    raw_classes = _texts(attributes, "objectclass")
    kind = _classify({c.lower() for c in raw_classes}, attributes)
    if kind is None:
        shown = ", ".join(c for c in raw_classes if c.lower() != "top") or "none"
        return RowError(line, f"not a contact entry (objectClass {shown})", excerpt=dn[:80])
    rdns = split_dn(dn)
    record = ContactRecord(line=line, kind="person" if kind == "person" else "organization")
    record.custom["ldap_dn"] = dn
    if len(rdns) > 1:
        record.custom["ldap_parent_dn"] = ",".join(rdns[1:])
    first = {name: values[0] for name in attributes if (values := _texts(attributes, name))}
    names = _texts(attributes, "cn")
    if kind == "person":
        record.formatted_name = names[0] if names else first.get("displayname", "")
        if not record.formatted_name and rdns and _rdn_value(rdns[0])[0] == "cn":
            record.formatted_name = _rdn_value(rdns[0])[1]
        record.family_name = first.get("sn", "")
        for name, attr in _SIMPLE.items():
            if name in first and not getattr(record, attr):
                setattr(record, attr, first[name])
        if not record.given_name and record.family_name and names:
            head, _, tail = names[0].rpartition(" ")
            if tail == record.family_name and head:
                record.given_name = head
        display = first.get("displayname", "")
        if display and display != record.formatted_name and not record.nickname:
            record.nickname = display
        record.organization_name = first.get("o", "")
        record.department = first.get("ou", "")
        if len(names) > 1:
            record.warnings.append("other names: " + ", ".join(names[1:]))
    else:
        own = first.get("o") if kind == "organization" else first.get("ou")
        if own is None and rdns:
            own = _rdn_value(rdns[0])[1]
        parents = [_rdn_value(r) for r in rdns[1:]]
        if kind == "unit":
            record.department = own
            record.organization_name = next((v for n, v in parents if n == "o"), own)
        else:
            record.organization_name = own
            extra = _texts(attributes, "o")[1:]
            if extra:
                record.warnings.append("other names: " + ", ".join(extra))
    record.notes = "\n".join(_texts(attributes, "description"))
    _methods(record, attributes)
    for components, postal, types in ((_WORK_ADDRESS, "postaladdress", ["work"]),
                                      (_HOME_ADDRESS, "homepostaladdress", ["home"])):
        address = _address(attributes, components, postal, types)
        if address:
            record.addresses.append(address)
    photos = [v for v in attributes.get("jpegphoto", ()) if isinstance(v, bytes)]
    if photos:
        record.photo = Photo(photos[0], "image/jpeg")
    ldap_uid = first.get("uid") or first.get("userid", "")
    record.uid = first.get("entryuuid") or ldap_uid
    if first.get("entryuuid") and ldap_uid:
        record.custom["ldap_uid"] = ldap_uid
    for name, key in _CUSTOM.items():
        values = [v for v in attributes.get(name, ()) if isinstance(v, str) and v]
        if values:
            record.custom[key] = values[0]
    _birthday(record, first)
    unknown = sorted(set(attributes) - _HANDLED)
    if unknown:
        record.warnings.append("not imported: " + ", ".join(unknown))
    return record


def _methods(record: ContactRecord, attributes: dict) -> None:
    for name in _EMAILS:
        record.emails += [Method(v) for v in _texts(attributes, name)
                          if v not in {m.value for m in record.emails}]
    for name, types in _PHONES.items():
        record.phones += [Method(v, list(types)) for v in _texts(attributes, name)]
    for name, types in _URLS.items():
        for value in _texts(attributes, name):
            url, _, label = value.partition(" ")
            record.urls.append(Method(url, list(types), label.strip()))


def _birthday(record: ContactRecord, first: dict) -> None:
    parts = [first.get(k, "") for k in ("birthyear", "birthmonth", "birthday")]
    if any(parts):
        try:
            record.birthday = datetime.date(*(int(p) for p in parts))
        except ValueError:
            record.warnings.append("not a date: " + "-".join(p or "?" for p in parts))


# Writing


def escape_dn_value(value: str) -> str:
    """Escape an attribute value for use in a DN (RFC 4514)."""
    out = re.sub(r'([\\,+"<>;=])', r"\\\1", value).replace("\x00", "\\00")
    if out[:1] in (" ", "#"):
        out = "\\" + out
    if out.endswith(" ") and not out.endswith("\\ "):
        out = out[:-1] + "\\ "
    return out


# RFC 2849 SAFE-STRING: ASCII without NUL, CR, LF; not starting with space, colon or "<"
_SAFE = re.compile(r"^[\x01-\x09\x0b\x0c\x0e-\x1f\x21-\x39\x3b\x3d-\x7f]"
                   r"[\x01-\x09\x0b\x0c\x0e-\x7f]*$")


def _line(name: str, value: str | bytes) -> str:
    if isinstance(value, bytes) or (value and (not _SAFE.match(value) or value.endswith(" "))):
        raw = value if isinstance(value, bytes) else value.encode("utf-8")
        line = f"{name}:: {base64.b64encode(raw).decode('ascii')}"
    else:
        line = f"{name}: {value}"
    if len(line) <= 76:
        return line + "\n"
    parts = [line[:76]] + [" " + line[i:i + 75] for i in range(76, len(line), 75)]
    return "\n".join(parts) + "\n"


def _entry(dn: str, attributes: list[tuple[str, str | bytes]]) -> str:
    return _line("dn", dn) + "".join(_line(n, v) for n, v in attributes if v) + "\n"


def _postal(values: list[str]) -> str:
    return " $ ".join(v.replace("\\", "\\5C").replace("$", "\\24").replace("\n", " $ ")
                      for v in values if v)


def _container(dn: str) -> str:
    name, value = _rdn_value(split_dn(dn)[0])
    if name == "dc":
        return _entry(dn, [("objectClass", "top"), ("objectClass", "dcObject"),
                           ("objectClass", "organization"), ("dc", value), ("o", value)])
    if name == "o":
        return _entry(dn, [("objectClass", "top"), ("objectClass", "organization"), ("o", value)])
    return _entry(dn, [("objectClass", "top"), ("objectClass", "organizationalUnit"),
                       ("ou", value)])


def _common(record: ContactRecord, extensible: bool) -> list[tuple[str, str | bytes]]:
    attributes = [("description", record.notes)]
    for method in record.phones:
        types = set(method.types)
        name = ("mobile" if "cell" in types else "facsimileTelephoneNumber" if "fax" in types
                else "pager" if "pager" in types else "homePhone" if "home" in types
                else "telephoneNumber")
        if extensible or name in ("telephoneNumber", "facsimileTelephoneNumber"):
            attributes.append((name, method.value))
    if extensible:
        attributes += [("mail", m.value) for m in record.emails]
        attributes += [("labeledURI", f"{m.value} {m.label}".strip()) for m in record.urls]
    work = next((a for a in record.addresses if "home" not in a.types), None)
    if work:
        attributes += [("street", work.street), ("street", work.extended),
                       ("postOfficeBox", work.po_box), ("l", work.locality),
                       ("st", work.region), ("postalCode", work.postal_code),
                       ("postalAddress", _postal([
                           work.street, work.extended, work.po_box,
                           f"{work.postal_code} {work.locality}".strip(), work.region,
                           work.country]))]
    home = next((a for a in record.addresses if "home" in a.types), None)
    if home and extensible:
        attributes.append(("homePostalAddress", _postal([
            home.street, home.extended, home.po_box,
            f"{home.postal_code} {home.locality}".strip(), home.region, home.country])))
    return attributes


def _person(record: ContactRecord, uid: str) -> list[tuple[str, str | bytes]]:
    cn = (record.formatted_name or " ".join(filter(None, (record.given_name,
          record.family_name))) or (record.emails[0].value if record.emails else uid))
    attributes = [("objectClass", c) for c in
                  ("top", "person", "organizationalPerson", "inetOrgPerson")]
    attributes += [("uid", uid), ("cn", cn), ("sn", record.family_name or cn),
                   ("givenName", record.given_name), ("title", record.job_title),
                   ("o", record.organization_name), ("ou", record.department),
                   ("employeeNumber", record.custom.get("employee_number", "")),
                   ("employeeType", record.custom.get("employee_type", ""))]
    attributes += _common(record, extensible=True)
    photo = record.photo
    if photo and (photo.media_type == "image/jpeg" or photo.data[:2] == b"\xff\xd8"):
        attributes.append(("jpegPhoto", photo.data))
    return attributes


def _organization(record: ContactRecord, unit: bool) -> list[tuple[str, str | bytes]]:
    extensible = bool(record.emails or record.urls or any(
        set(m.types) & {"cell", "pager", "home"} for m in record.phones
    ) or any("home" in a.types for a in record.addresses))
    classes = ["top", "organizationalUnit" if unit else "organization"]
    if extensible:
        classes.append("extensibleObject")
    attributes = [("objectClass", c) for c in classes]
    if unit:
        attributes.append(("ou", record.department))
    else:
        attributes.append(("o", record.organization_name))
    return attributes + _common(record, extensible)


def _unique(dn: str, used: set[str]) -> str:
    candidate, n = dn, 1
    while candidate.lower() in used:
        n += 1
        name, _, rest = dn.partition(",")
        candidate = f"{name}-{n},{rest}"
    used.add(candidate.lower())
    return candidate


def write_ldif(records: Iterable[ContactRecord], *, base_dn: str, include_base: bool = False,
               people_ou: str | None = "people") -> Iterator[str]:
    """Stream records as an LDIF file that ``ldapadd`` can load under ``base_dn``.

    Args:
        records: contacts; people become inetOrgPerson entries, organisations organization
            entries, organisation records with a ``department`` organizationalUnit entries.
        base_dn: the existing entry everything is written under, e.g. ``dc=example,dc=com``.
        include_base: also write the base entry itself (dcObject/organization for ``dc=``,
            organization for ``o=``, organizationalUnit otherwise).

    Yields:
        Chunks of text (ASCII: anything else is base64).
    """
    yield "version: 1\n\n"
    if include_base:
        yield _container(base_dn)
    people = base_dn
    if people_ou:
        people = f"ou={escape_dn_value(people_ou)},{base_dn}"
        yield _container(people)
    used: set[str] = set()
    organizations, named, units = [], {}, []
    for record in records:
        if record.kind == "organization":
            if record.department:
                units.append(record)
            elif record.organization_name or record.formatted_name:
                if not record.organization_name:
                    record = dataclasses.replace(record, organization_name=record.formatted_name)
                dn = _unique(f"o={escape_dn_value(record.organization_name)},{base_dn}", used)
                organizations.append((dn, record))
                named.setdefault(record.organization_name, dn)
            continue
        uid = record.uid or str(uuid.uuid5(uuid.NAMESPACE_URL, "wagtail-crm:" + "|".join((
            record.formatted_name, record.given_name, record.family_name,
            record.emails[0].value if record.emails else ""))))
        dn = _unique(f"uid={escape_dn_value(uid)},{people}", used)
        yield _entry(dn, _person(record, _rdn_value(split_dn(dn)[0])[1]))
    for dn, record in organizations:
        attributes = _organization(record, unit=False)
        rdn_value = _rdn_value(split_dn(dn)[0])[1]
        if rdn_value != record.organization_name:
            attributes.append(("o", rdn_value))
        yield _entry(dn, attributes)
    for record in units:
        parent = base_dn
        if record.organization_name and record.organization_name != record.department:
            if record.organization_name not in named:
                dn = _unique(f"o={escape_dn_value(record.organization_name)},{base_dn}", used)
                named[record.organization_name] = dn
                yield _container(dn)
            parent = named[record.organization_name]
        dn = _unique(f"ou={escape_dn_value(record.department)},{parent}", used)
        attributes = _organization(record, unit=True)
        rdn_value = _rdn_value(split_dn(dn)[0])[1]
        if rdn_value != record.department:
            attributes.append(("ou", rdn_value))
        yield _entry(dn, attributes)
