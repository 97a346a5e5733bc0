"""Column mappings for the CSV files other programs write, and the mapping vocabulary.

A mapping is a dict from a column header to a target. Targets:

- ``kind`` (``person`` or ``organization``), ``uid``, ``formatted_name``, ``prefix``,
  ``given_name``, ``additional_names``, ``family_name``, ``suffix``, ``nickname``,
  ``organization_name``, ``department``, ``job_title``, ``notes``
- ``birthday`` (one cell: ISO, d/m/Y or m/d/Y, "Month D, YYYY"), or ``birthday.year``,
  ``birthday.month``, ``birthday.day`` (one cell each, as Thunderbird writes)
- ``tags``: split on the preset's separator (Google's ``" ::: "``, Outlook's ``";"``)
- ``email``, ``phone``, ``url``, ``handle``, each optionally with a label after a colon:
  ``email:work``, ``phone:mobile``, ``phone:work fax``. Known words in a label become the
  method's types (``mobile`` is ``cell``); ``pref`` or ``primary`` marks the primary one;
  anything else stays as the method's free-text label.
- ``address:<label>.<part>``, or ``address.<part>`` without a label, where part is ``street``,
  ``extended``, ``po_box``, ``locality``, ``region``, ``postal_code``, ``country`` or
  ``formatted`` (used as the street when no other part is filled). Two columns with the
  same target are joined with a newline (Outlook's "Business Street 2").
- Paired columns, where one cell labels another (Google's "E-mail 1 - Type" and
  "E-mail 1 - Value"): ``email#1.value`` and ``email#1.label``; likewise ``phone#N``,
  ``url#N``, ``handle#N``, ``related#N`` and ``address#N.label`` with ``address#N.<part>``.
  A label cell starting with ``*`` marks the primary method (Google's ``* Home``).
- ``custom:<key>``: a custom field value
- ``ignore``: known columns that are deliberately not imported.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from pathlib import Path

SCALARS = frozenset({
    "kind", "uid", "formatted_name", "prefix", "given_name", "additional_names", "family_name",
    "suffix", "nickname", "organization_name", "department", "job_title", "notes", "birthday",
    "birthday.year", "birthday.month", "birthday.day", "tags", "ignore",
})
METHODS = {"email": "emails", "phone": "phones", "url": "urls", "handle": "handles"}
ADDRESS_PARTS = frozenset({
    "street", "extended", "po_box", "locality", "region", "postal_code", "country", "formatted",
})
_TARGET = re.compile(
    r"^(?:(?P<method>email|phone|url|handle)(?::(?P<mlabel>[^#]+))?"
    r"|(?P<pair>email|phone|url|handle|related)#(?P<pn>\d+)\.(?P<pfield>value|label)"
    r"|address(?::(?P<alabel>[^.#]+))?\.(?P<apart>\w+)"
    r"|address#(?P<an>\d+)\.(?P<afield>\w+)"
    r"|custom:(?P<custom>.+))$"
)


class MappingError(ValueError):
    """A mapping names a target outside the vocabulary."""


def parse_target(target: str) -> tuple:
    """Split a target into a tuple the reader compiles; raise MappingError if unknown.

    Returns one of ``("field", name)``, ``("method", family, label)``,
    ``("pair", family, n, "value"|"label")``, ``("address", label, part)``,
    ``("address#", n, part_or_label)``, ``("custom", key)``.
    """
    target = target.strip()
    if target in SCALARS:
        return ("field", target)
    match = _TARGET.match(target)
    if match:
        g = match.groupdict()
        if g["method"]:
            return ("method", g["method"], (g["mlabel"] or "").strip())
        if g["pair"]:
            return ("pair", g["pair"], int(g["pn"]), g["pfield"])
        if g["apart"] and g["apart"] in ADDRESS_PARTS:
            return ("address", (g["alabel"] or "").strip(), g["apart"])
        if g["afield"] and (g["afield"] in ADDRESS_PARTS or g["afield"] == "label"):
            return ("address#", int(g["an"]), g["afield"])
        if g["custom"] and g["custom"].strip():
            return ("custom", g["custom"].strip())
    raise MappingError(f"Unknown mapping target {target!r}.")


def load_mapping(source: str | Path | dict) -> dict[str, str]:
    """Load and validate a column mapping.

    Args:
        source: a dict ``{column: target}``, or the path of a JSON file holding one
            (either at the top level or under a ``"columns"`` key).

    Raises:
        MappingError: the JSON is not an object of strings, or a target is unknown; the
            message names the column and the target.
    """
    if isinstance(source, dict):
        data = source
    else:
        try:
            data = json.loads(Path(source).read_text(encoding="utf-8"))
        except (OSError, ValueError) as error:
            raise MappingError(f"Cannot read the mapping file: {error}") from None
        if isinstance(data, dict) and isinstance(data.get("columns"), dict):
            data = data["columns"]
    if not isinstance(data, dict):
        raise MappingError("A mapping is a JSON object from column names to targets.")
    for column, target in data.items():
        if not isinstance(column, str) or not isinstance(target, str):
            raise MappingError(f"Column {column!r}: the target must be a string.")
        try:
            parse_target(target)
        except MappingError:
            raise MappingError(
                f"Column {column!r}: unknown mapping target {target!r}."
            ) from None
    return dict(data)


@dataclass(frozen=True)
class Preset:
    name: str
    #: header -> target; headers are matched ignoring case and surrounding spaces
    columns: dict[str, str]
    tag_separator: str = ";"
    #: tags dropped on import (system groups such as Google's "My Contacts")
    drop_tags: frozenset[str] = frozenset()
    #: resolve 03/04/2020 as 3 April (True) or March 4 (False)
    dayfirst: bool = True
    #: strip the apostrophe our writer puts before formula-like cells
    unescape_formulas: bool = False
    #: column prefix mapped to ``custom:<rest>`` (our own export's custom columns)
    custom_prefix: str | None = None
    index: dict[str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self):
        object.__setattr__(self, "index", {norm(k): v for k, v in self.columns.items()})

    def target(self, header: str) -> str | None:
        key = norm(header)
        if self.custom_prefix and key.startswith(self.custom_prefix):
            return "custom:" + header.strip()[len(self.custom_prefix):].strip()
        return self.index.get(key)


def norm(header: str) -> str:
    return " ".join(header.lower().split())


def _numbered(count: int, template: dict[str, str]) -> dict[str, str]:
    return {k.format(n=n): v.format(n=n) for n in range(1, count + 1) for k, v in template.items()}


_ADDRESS_PARTS_TITLES = {
    "Street": "street", "City": "locality", "PO Box": "po_box", "Region": "region",
    "Postal Code": "postal_code", "Country": "country", "Extended Address": "extended",
    "Formatted": "formatted",
}


def _google() -> Preset:
    columns = {
        "Name": "formatted_name", "Given Name": "given_name", "First Name": "given_name",
        "Additional Name": "additional_names", "Middle Name": "additional_names",
        "Family Name": "family_name", "Last Name": "family_name",
        "Name Prefix": "prefix", "Name Suffix": "suffix", "Nickname": "nickname",
        "Birthday": "birthday", "Notes": "notes", "Group Membership": "tags", "Labels": "tags",
        "Organization Name": "organization_name", "Organization Title": "job_title",
        "Organization Department": "department",
    }
    for unused in (
        "Yomi Name", "Given Name Yomi", "Additional Name Yomi", "Family Name Yomi", "Initials",
        "Short Name", "Maiden Name", "Gender", "Location", "Billing Information",
        "Directory Server", "Mileage", "Occupation", "Hobby", "Sensitivity", "Priority",
        "Subject", "Phonetic First Name", "Phonetic Middle Name", "Phonetic Last Name",
        "File As", "Organization Phonetic Name", "Photo",
    ):
        columns[unused] = "ignore"
    for kind, family in (("E-mail", "email"), ("Phone", "phone"), ("Website", "url"),
                         ("IM", "handle"), ("Relation", "related")):
        columns |= _numbered(9, {
            f"{kind} {{n}} - Type": f"{family}#{{n}}.label",
            f"{kind} {{n}} - Label": f"{family}#{{n}}.label",
            f"{kind} {{n}} - Value": f"{family}#{{n}}.value",
        })
    columns |= _numbered(9, {"IM {n} - Service": "ignore"})
    columns |= _numbered(5, {"Address {n} - Type": "address#{n}.label",
                             "Address {n} - Label": "address#{n}.label"})
    for title, part in _ADDRESS_PARTS_TITLES.items():
        columns |= _numbered(5, {f"Address {{n}} - {title}": f"address#{{n}}.{part}"})
    columns |= _numbered(1, {
        "Organization {n} - Name": "organization_name", "Organization {n} - Title": "job_title",
        "Organization {n} - Department": "department",
    })
    for unused in ("Type", "Yomi Name", "Symbol", "Location", "Job Description"):
        columns |= _numbered(3, {f"Organization {{n}} - {unused}": "ignore"})
    return Preset("google", columns, tag_separator=":::",
                  drop_tags=frozenset({"my contacts", "mycontacts", "starred"}), dayfirst=True)


def _outlook() -> Preset:
    columns = {
        "Title": "prefix", "First Name": "given_name", "Middle Name": "additional_names",
        "Last Name": "family_name", "Suffix": "suffix", "Company": "organization_name",
        "Department": "department", "Job Title": "job_title", "Birthday": "birthday",
        "Categories": "tags", "Notes": "notes", "Nickname": "nickname", "Web Page": "url",
        "Personal Web Page": "url:home", "E-mail Address": "email", "E-mail 2 Address": "email",
        "E-mail 3 Address": "email",
        "Assistant's Phone": "phone:assistant", "Business Fax": "phone:work fax",
        "Business Phone": "phone:work", "Business Phone 2": "phone:work", "Callback":
        "phone:callback", "Car Phone": "phone:car", "Company Main Phone": "phone:main",
        "Home Fax": "phone:home fax", "Home Phone": "phone:home", "Home Phone 2": "phone:home",
        "ISDN": "phone:isdn", "Mobile Phone": "phone:mobile", "Other Fax": "phone:other fax",
        "Other Phone": "phone:other", "Pager": "phone:pager", "Primary Phone": "phone:pref",
        "Radio Phone": "phone:radio", "TTY/TDD Phone": "phone:textphone", "Telex": "phone:telex",
    }
    for prefix, label in (("Business", "work"), ("Home", "home"), ("Other", "other")):
        columns |= {
            f"{prefix} Street": f"address:{label}.street",
            f"{prefix} Street 2": f"address:{label}.extended",
            f"{prefix} Street 3": f"address:{label}.extended",
            f"{prefix} City": f"address:{label}.locality",
            f"{prefix} State": f"address:{label}.region",
            f"{prefix} Postal Code": f"address:{label}.postal_code",
            f"{prefix} Country/Region": f"address:{label}.country",
            f"{prefix} Country": f"address:{label}.country",
            f"{prefix} Address PO Box": f"address:{label}.po_box",
        }
    for unused in (
        "Account", "Anniversary", "Assistant's Name", "Billing Information", "Children",
        "Directory Server", "E-mail Type", "E-mail Display Name", "E-mail 2 Type",
        "E-mail 2 Display Name", "E-mail 3 Type", "E-mail 3 Display Name", "Gender",
        "Government ID Number", "Hobby", "Initials", "Internet Free Busy", "Keywords", "Language",
        "Location", "Manager's Name", "Mileage", "Office Location", "Organizational ID Number",
        "Priority", "Private", "Profession", "Referred By", "Sensitivity", "Spouse",
        "User 1", "User 2", "User 3", "User 4",
    ):
        columns[unused] = "ignore"
    return Preset("outlook", columns, tag_separator=";", dayfirst=False)


def _thunderbird() -> Preset:
    columns = {
        "First Name": "given_name", "Last Name": "family_name", "Display Name": "formatted_name",
        "Nickname": "nickname", "Primary Email": "email:pref", "Secondary Email": "email",
        "Screen Name": "handle", "Work Phone": "phone:work", "Home Phone": "phone:home",
        "Fax Number": "phone:fax", "Pager Number": "phone:pager", "Mobile Number": "phone:mobile",
        "Job Title": "job_title", "Department": "department", "Organization": "organization_name",
        "Web Page 1": "url:work", "Web Page 2": "url:home", "Birth Year": "birthday.year",
        "Birth Month": "birthday.month", "Birth Day": "birthday.day", "Notes": "notes",
        "Custom 1": "custom:custom1", "Custom 2": "custom:custom2",
        "Custom 3": "custom:custom3", "Custom 4": "custom:custom4",
    }
    for prefix, label in (("Home", "home"), ("Work", "work")):
        columns |= {
            f"{prefix} Address": f"address:{label}.street",
            f"{prefix} Address 2": f"address:{label}.extended",
            f"{prefix} City": f"address:{label}.locality",
            f"{prefix} State": f"address:{label}.region",
            f"{prefix} ZipCode": f"address:{label}.postal_code",
            f"{prefix} Country": f"address:{label}.country",
        }
    return Preset("thunderbird", columns, tag_separator=",", dayfirst=True)


#: how many method and address column groups our own export writes
EXPORT_EMAILS, EXPORT_PHONES, EXPORT_URLS, EXPORT_HANDLES, EXPORT_ADDRESSES = 3, 4, 2, 2, 2
#: our export's column for each scalar field, in order
GENERIC_FIELDS = {
    "UID": "uid", "Kind": "kind", "Display Name": "formatted_name", "Prefix": "prefix",
    "First Name": "given_name", "Middle Name": "additional_names", "Last Name": "family_name",
    "Suffix": "suffix", "Nickname": "nickname", "Organization": "organization_name",
    "Department": "department", "Job Title": "job_title", "Birthday": "birthday",
    "Tags": "tags", "Notes": "notes",
}
GENERIC_METHODS = (
    ("E-mail", "email", EXPORT_EMAILS), ("Phone", "phone", EXPORT_PHONES),
    ("Website", "url", EXPORT_URLS), ("Handle", "handle", EXPORT_HANDLES),
)
GENERIC_ADDRESS_PARTS = {
    "Street": "street", "Extended": "extended", "PO Box": "po_box", "City": "locality",
    "Region": "region", "Postal Code": "postal_code", "Country": "country",
}
GENERIC_TAG_SEPARATOR = ";"


def generic_columns() -> dict[str, str]:
    """Our export's header row, in order, with the target each column maps back to."""
    columns = dict(GENERIC_FIELDS)
    for title, family, count in GENERIC_METHODS:
        columns |= _numbered(count, {f"{title} {{n}}": f"{family}#{{n}}.value",
                                     f"{title} {{n}} Type": f"{family}#{{n}}.label"})
    for n in range(1, EXPORT_ADDRESSES + 1):
        columns[f"Address {n} Type"] = f"address#{n}.label"
        for title, part in GENERIC_ADDRESS_PARTS.items():
            columns[f"Address {n} {title}"] = f"address#{n}.{part}"
    return columns


PRESETS: dict[str, Preset] = {
    "generic": Preset("generic", generic_columns(), tag_separator=GENERIC_TAG_SEPARATOR,
                      unescape_formulas=True, custom_prefix="custom:"),
    "google": _google(),
    "outlook": _outlook(),
    "thunderbird": _thunderbird(),
}
#: headers recognised when no preset fits, on top of every preset's own
COMMON_ALIASES = {
    "email": "email", "e-mail": "email", "email address": "email", "mail": "email",
    "phone": "phone", "telephone": "phone", "mobile": "phone:mobile", "name": "formatted_name",
    "full name": "formatted_name", "company": "organization_name", "website": "url",
    "first name": "given_name", "last name": "family_name", "surname": "family_name",
}


def guess_preset(headers: list[str]) -> str | None:
    """Name the preset whose columns match ``headers`` best, or None if none fits.

    A preset fits when it knows at least half of the non-empty headers (and two of them);
    ties go to ``generic``, then to the preset that knows more of the file's columns.
    """
    names = [h for h in headers if h.strip()]
    best, best_score = None, (0.0, 0)
    for name, preset in PRESETS.items():
        known = sum(1 for h in names if preset.target(h) is not None)
        score = (known / len(names) if names else 0.0, known)
        if known >= 2 and score[0] >= 0.5 and score > best_score:
            best, best_score = name, score
    return best


def fallback_target(header: str) -> str | None:
    """The target for a header when no preset was chosen: any preset's, or a common alias."""
    key = norm(header)
    if key in COMMON_ALIASES:
        return COMMON_ALIASES[key]
    for preset in PRESETS.values():
        target = preset.target(header)
        if target is not None:
            return target
    return None
