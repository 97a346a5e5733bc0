"""Contacts from and to CSV files (Google, Outlook, Thunderbird and our own layout).

``read_csv`` detects the encoding and the delimiter, maps columns to record fields with a
mapping (see :mod:`.csv_presets` for the target vocabulary) and yields one
``ContactRecord`` or ``RowError`` per data row. ``write_csv`` streams our own layout, whose
column names the ``generic`` preset maps back, so an export imports again unchanged.

Formula escaping: the writer puts an apostrophe before any cell starting with ``=``, ``+``,
``-``, ``@``, a tab, a carriage return or an apostrophe, so spreadsheets show it as text;
the ``generic`` preset removes that one apostrophe again on import.
"""

from __future__ import annotations

import csv
import datetime
import functools
import io
import operator
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from .csv_presets import (
    EXPORT_ADDRESSES,
    GENERIC_ADDRESS_PARTS,
    GENERIC_FIELDS,
    GENERIC_METHODS,
    GENERIC_TAG_SEPARATOR,
    PRESETS,
    MappingError,
    fallback_target,
    generic_columns,
    guess_preset,
    load_mapping,
    parse_target,
)
from .records import AddressRecord, ContactRecord, Method, Related, RowError, UnreadableFile
from .text import decode

__all__ = [
    "CsvImport", "MappingError", "guess_preset", "load_mapping", "parse_date", "read_csv",
    "write_csv",
]

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r", "'")
#: type words recognised in labels; mobile means cell, business means work
TYPE_WORDS = {
    "home": "home", "work": "work", "business": "work", "cell": "cell", "mobile": "cell",
    "fax": "fax", "pager": "pager", "main": "main", "other": "other", "voice": "voice",
    "text": "text", "video": "video", "textphone": "textphone", "internet": "internet",
}
PRIMARY_WORDS = frozenset({"pref", "primary"})
_MONTHS = {
    name: number
    for number, names in enumerate((
        ("jan", "january"), ("feb", "february"), ("mar", "march"), ("apr", "april"),
        ("may",), ("jun", "june"), ("jul", "july"), ("aug", "august"),
        ("sep", "sept", "september"), ("oct", "october"), ("nov", "november"),
        ("dec", "december"),
    ), start=1)
    for name in names
}
_ISO = re.compile(r"(\d{4})-?(\d{2})-?(\d{2})(?:[T ][\d:.+\-Z]*)?$")
_YMD = re.compile(r"(\d{4})[/.](\d{1,2})[/.](\d{1,2})$")
_NUMERIC = re.compile(r"(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4}|\d{2})$")
_MONTH_FIRST = re.compile(r"([A-Za-z]+)\.? +(\d{1,2})(?:st|nd|rd|th)?,? +(\d{4})$")
_DAY_FIRST = re.compile(r"(\d{1,2})(?:st|nd|rd|th)?\.? +([A-Za-z]+)\.?,? +(\d{4})$")


def parse_date(text: str, dayfirst: bool = True) -> datetime.date | None:
    """Read a date as people and programs write it in CSV files.

    Accepts ISO (``2020-03-04``, ``20200304``), ``d/m/Y`` and ``m/d/Y`` (also with dots or
    dashes and two-digit years; ``dayfirst`` settles 03/04/2020), ``Y/m/d``,
    ``March 4, 2020`` and ``4 March 2020``.

    Returns:
        The date, or None for an empty cell or Outlook's ``0/0/00``.

    Raises:
        ValueError: "not a date: <text>".
    """
    text = text.strip()
    if not text:
        return None
    try:
        if match := _ISO.match(text) or _YMD.match(text):
            year, month, day = (int(g) for g in match.groups())
        elif match := _NUMERIC.match(text):
            a, b, year = (int(g) for g in match.groups())
            if a == b == 0:
                return None
            if len(match.group(3)) == 2:
                year += 2000 if year <= datetime.date.today().year % 100 else 1900
            if a > 12 or (dayfirst and b <= 12):
                day, month = a, b
            else:
                month, day = a, b
        elif match := _MONTH_FIRST.match(text):
            month, day, year = _MONTHS[match.group(1).lower()], int(match[2]), int(match[3])
        elif match := _DAY_FIRST.match(text):
            day, month, year = int(match[1]), _MONTHS[match.group(2).lower()], int(match[3])
        else:
            raise ValueError
        return datetime.date(year, month, day)
    except (ValueError, KeyError):
        raise ValueError(f"not a date: {text}") from None


def parse_label(text: str) -> tuple[list[str], str, bool]:
    """Split a label cell ("* Home", "Work Fax", "Profile") into (types, label, is_primary)."""
    text = text.strip()
    primary = text.startswith("*")
    if primary:
        text = text[1:].strip()
    types, labels = [], []
    for part in text.split(","):
        part = part.strip()
        words = part.lower().split()
        if not words:
            continue
        if all(w in TYPE_WORDS or w in PRIMARY_WORDS for w in words):
            for w in words:
                if w in PRIMARY_WORDS:
                    primary = True
                elif TYPE_WORDS[w] not in types:
                    types.append(TYPE_WORDS[w])
        elif part.islower() and len(words) == 1:
            types.append(part)
        else:
            labels.append(part)
    return types, ", ".join(labels), primary


@functools.lru_cache(maxsize=256)
def _parse_label_cached(text: str) -> tuple[list[str], str, bool]:
    return parse_label(text)


def format_label(types: list[str], label: str, is_primary: bool) -> str:
    """The label cell our writer puts next to a method: the inverse of ``parse_label``."""
    if len(types) == 1 and not label and not is_primary:
        return types[0]
    text = ", ".join([*types, label] if label else types)
    return f"* {text}" if is_primary else text


def _check_email(value):
    if "@" not in value or " " in value.strip():
        return f"not an e-mail address: {value}"


_DIGIT = re.compile(r"\d")
_SPACES = frozenset(" \t\r\n\x0b\x0c\xa0")
_UNCLEAN = _SPACES | {"'"}
_FAMILIES = {"email": "emails", "phone": "phones", "url": "urls", "handle": "handles"}


def _check_phone(value):
    if not _DIGIT.search(value):
        return f"not a phone number: {value}"


_KINDS = {"person": "person", "individual": "person", "organization": "organization",
          "organisation": "organization", "company": "organization", "org": "organization"}


@dataclass
class _Plan:
    """The mapping compiled against one header row."""

    fields: list = field(default_factory=list)  # (index, attribute)
    kind: list = field(default_factory=list)
    birthday: list = field(default_factory=list)
    birthday_parts: dict = field(default_factory=dict)  # part -> index
    tags: list = field(default_factory=list)
    methods: list = field(default_factory=list)  # (index, family, types, label, primary)
    pairs: dict = field(default_factory=dict)  # (family, n) -> {"value": i, "label": i}
    addresses: dict = field(default_factory=dict)  # label or ("#", n) -> [(index, part)]
    custom: list = field(default_factory=list)  # (index, key)
    targets: dict = field(default_factory=dict)  # index -> parsed target
    pair_list: list = field(default_factory=list)  # (family, value index, label index)
    address_list: list = field(default_factory=list)  # (label, [(index, part)])


def _compile(headers: list[str], mapping: dict[str, str]) -> _Plan:
    plan = _Plan()
    for index, header in enumerate(headers):
        target = mapping.get(header)
        if target is None:
            continue
        parsed = parse_target(target)
        if parsed == ("field", "ignore"):
            continue
        plan.targets[index] = parsed
        kind = parsed[0]
        if kind == "field":
            name = parsed[1]
            if name == "kind":
                plan.kind.append(index)
            elif name == "birthday":
                plan.birthday.append(index)
            elif name.startswith("birthday."):
                plan.birthday_parts[name[9:]] = index
            elif name == "tags":
                plan.tags.append(index)
            else:
                plan.fields.append((index, name))
        elif kind == "method":
            types, label, primary = parse_label(parsed[2])
            plan.methods.append((index, parsed[1], types, label, primary))
        elif kind == "pair":
            plan.pairs.setdefault((parsed[1], parsed[2]), {})[parsed[3]] = index
        elif kind == "address":
            plan.addresses.setdefault(parsed[1], []).append((index, parsed[2]))
        elif kind == "address#":
            plan.addresses.setdefault(("#", parsed[1]), []).append((index, parsed[2]))
        else:
            plan.custom.append((index, parsed[1]))
    plan.pair_list = [(family, columns["value"], columns.get("label"))
                      for (family, _n), columns in plan.pairs.items() if "value" in columns]
    plan.address_list = [("" if isinstance(key, tuple) else key, parts)
                         for key, parts in plan.addresses.items()]
    return plan


class _Lines:
    """Feeds csv.reader physical lines and counts them (a lone CR counts only in CR files)."""

    def __init__(self, text: str):
        self.lines = io.StringIO(text, newline="")
        self.terminator = "\n" if "\n" in text or "\r" not in text else "\r"
        self.count = 0
        self.eof = False

    def __iter__(self):
        terminator = self.terminator
        for line in self.lines:
            if line.endswith(terminator):
                self.count += 1
            yield line
        self.eof = True


def _detect_delimiter(text: str) -> str:
    """Pick comma, semicolon or tab by counting them outside quotes in the header row."""
    counts = {",": 0, ";": 0, "\t": 0}
    quoted = False
    for char in text[:65536]:
        if char == '"':
            quoted = not quoted
        elif quoted:
            continue
        elif char in counts:
            counts[char] += 1
        elif char in "\r\n":
            break
    best = max(counts, key=lambda c: (counts[c], c == ","))
    return best if counts[best] else ","


@dataclass
class CsvImport:
    """A CSV file whose header has been read; ``rows()`` reads the rest."""

    text: str = field(repr=False)
    encoding: str
    delimiter: str
    headers: list[str]
    #: column -> target actually used
    mapping: dict[str, str]
    #: columns whose values are not imported (no target, or ``ignore``)
    unmapped: list[str]
    preset: str | None = None
    dayfirst: bool = True
    tag_separator: str = ";"
    drop_tags: frozenset = frozenset()
    unescape_formulas: bool = False
    #: (line, reason) for rows skipped without being contacts: empty, repeated header
    skipped: list[tuple[int, str]] = field(default_factory=list)

    def _raw_rows(self) -> Iterator[tuple[int, list[str] | RowError]]:
        lines = _Lines(self.text)
        reader = csv.reader(iter(lines), delimiter=self.delimiter)
        width, header_seen, start = len(self.headers), False, 1
        first_header = self.headers[0]
        self.skipped = []
        while True:
            try:
                row = next(reader)
            except StopIteration:
                return
            except csv.Error as error:
                yield start, RowError(start, f"not a valid CSV row: {error}")
                start = lines.count + 1
                continue
            line, start = start, lines.count + 1
            if not header_seen:
                header_seen = bool(row)
                continue
            if lines.eof:
                cell_line = lines.count + 1 - row[-1].count(lines.terminator)
                yield line, RowError(
                    cell_line, "a quoted cell is not closed before the end of the file",
                    excerpt=row[-1][:80],
                )
                return
            if not any(cell.strip() for cell in row):
                self.skipped.append((line, "empty row"))
                continue
            if len(row) > width and any(cell.strip() for cell in row[width:]):
                yield line, RowError(
                    line, f"the row has {len(row)} cells, the header has {width}",
                    excerpt=self.delimiter.join(row)[:80],
                )
                continue
            if row[0].strip() == first_header and [c.strip() for c in row[:width]] == self.headers:
                self.skipped.append((line, "repeated header row"))
                continue
            yield line, row

    def rows(self) -> Iterator[ContactRecord | RowError]:
        """Yield one record or error per data row, in file order (empty rows are skipped)."""
        plan = _compile(self.headers, self.mapping)
        for line, row in self._raw_rows():
            if isinstance(row, RowError):
                yield row
            else:
                yield self._record(plan, line, row)

    def preview(self, n: int = 10) -> list[tuple[int, dict[str, tuple[str, str | None]]]]:
        """The first ``n`` data rows with a per-cell error for a preview screen.

        Returns:
            ``[(line, {column: (value, error_or_None)})]``; a row that cannot be read at all
            has a single entry under the key ``""`` whose error is the reason.
        """
        plan = _compile(self.headers, self.mapping)
        result = []
        for line, row in self._raw_rows():
            if len(result) >= n:
                break
            if isinstance(row, RowError):
                result.append((line, {"": (row.excerpt, row.reason)}))
                continue
            cells = {}
            for index, header in enumerate(self.headers):
                value = self._clean(row[index]) if index < len(row) else ""
                target = plan.targets.get(index)
                cells[header] = (value, self._check(target, value) if target and value else None)
            result.append((line, cells))
        return result

    def _check(self, target: tuple, value: str) -> str | None:
        family = target[1] if target[0] in ("field", "method", "pair") else None
        if target[0] == "pair" and target[3] == "label":
            return None
        if family == "birthday":
            try:
                parse_date(value, self.dayfirst)
            except ValueError as error:
                return str(error)
        elif family in ("birthday.year", "birthday.month", "birthday.day"):
            if not value.isdigit():
                return f"not a number: {value}"
        elif family == "kind" and value.lower() not in _KINDS:
            return f"not person or organization: {value}"
        elif family == "email":
            return _check_email(value)
        elif family == "phone":
            return _check_phone(value)
        return None

    def _clean(self, value: str) -> str:
        value = value.strip()
        if self.unescape_formulas and value[:1] == "'" and value[1:2] in FORMULA_STARTS:
            value = value[1:]
        return value

    def _record(self, plan: _Plan, line: int, row: list[str]) -> ContactRecord | RowError:
        if len(row) < len(self.headers):
            row = row + [""] * (len(self.headers) - len(row))
        clean = self._clean
        record = ContactRecord(line=line)
        values = record.__dict__
        filled = False
        for index, name in plan.fields:
            value = row[index]
            if value:
                if name == "notes":
                    if self.unescape_formulas and value[0] == "'" and value[1:2] in _FORMULA_SET:
                        value = value[1:]
                elif value[0] in _UNCLEAN or value[-1] in _SPACES:
                    value = clean(value)
                if value:
                    values[name] = f"{values[name]}\n{value}" if values[name] else value
                    filled = True
        if plan.kind or plan.birthday or plan.birthday_parts or plan.tags:
            filled |= self._special(plan, row, record)
        for index, family, types, label, primary in plan.methods:
            value = row[index]
            if value and (value[0] not in _UNCLEAN and value[-1] not in _SPACES
                          or (value := clean(value))):
                self._add_method(record, family, value, list(types), label, primary, index)
        for family, value_index, label_index in plan.pair_list:
            value = row[value_index]
            if value and (value[0] not in _UNCLEAN and value[-1] not in _SPACES
                          or (value := clean(value))):
                text = row[label_index] if label_index is not None else ""
                if text and (text[0] in _UNCLEAN or text[-1] in _SPACES):
                    text = clean(text)
                types, label, primary = _parse_label_cached(text)
                self._add_method(record, family, value, list(types), label, primary,
                                 value_index)
        for label, parts in plan.address_list:
            for index, _part in parts:
                if row[index]:
                    address = self._address(label, parts, row)
                    if address is not None:
                        record.addresses.append(address)
                    break
        for index, key in plan.custom:
            value = row[index]
            if value and (value := clean(value)):
                record.custom[key] = value
        if not (filled or record.emails or record.phones or record.urls or record.handles
                or record.addresses or record.custom or record.related):
            return RowError(line, "nothing to import: no mapped column has a value",
                            excerpt=self.delimiter.join(row)[:80])
        if (
            not plan.kind and record.organization_name and not record.given_name
            and not record.family_name and not record.additional_names
            and record.formatted_name in ("", record.organization_name)
        ):
            record.kind = "organization"
        return record

    def _special(self, plan: _Plan, row: list[str], record: ContactRecord) -> bool:
        """Kind, birthday and tags: the fields that need parsing. Returns whether any is set."""
        clean, warn, filled = self._clean, record.warnings.append, False
        for index in plan.kind:
            value = clean(row[index])
            if value:
                if value.lower() in _KINDS:
                    record.kind = _KINDS[value.lower()]
                else:
                    warn(f"{self.headers[index]}: not person or organization: {value}")
        for index in plan.birthday:
            value = clean(row[index])
            if value:
                filled = True
                try:
                    record.birthday = parse_date(value, self.dayfirst) or record.birthday
                except ValueError as error:
                    warn(f"{self.headers[index]}: {error}")
        if plan.birthday_parts:
            filled |= self._birthday_parts(plan, row, record)
        for index in plan.tags:
            for tag in clean(row[index]).split(self.tag_separator):
                tag = tag.strip().removeprefix("* ").strip()
                if tag and tag.lower() not in self.drop_tags and tag not in record.tags:
                    record.tags.append(tag)
                    filled = True
        return filled

    def _add_method(self, record, family, value, types, label, primary, index):
        if family == "related":
            record.related.append(Related(value, types + ([label.lower()] if label else [])))
            return
        error = (_check_email(value) if family == "email"
                 else _check_phone(value) if family == "phone" else None)
        if error:
            record.warnings.append(f"{self.headers[index]}: {error}")
        getattr(record, _FAMILIES[family]).append(Method(value, types, label, primary))

    def _address(self, label, parts, row) -> AddressRecord | None:
        address, formatted = AddressRecord(), ""
        for index, part in parts:
            value = row[index]
            if not value or not (value := self._clean(value)):
                continue
            if part == "label":
                label = value
            elif part == "formatted":
                formatted = value
            else:
                old = getattr(address, part)
                setattr(address, part, f"{old}\n{value}" if old else value)
        if address.is_empty():
            if not formatted:
                return None
            address.street = formatted
        if label:
            types, address.label, address.is_primary = _parse_label_cached(label)
            address.types = list(types)
        return address

    def _birthday_parts(self, plan, row, record) -> bool:
        parts = {k: self._clean(row[i]) for k, i in plan.birthday_parts.items()}
        if not any(parts.values()):
            return False
        try:
            record.birthday = datetime.date(
                int(parts.get("year") or 0), int(parts.get("month") or 0),
                int(parts.get("day") or 0),
            )
        except ValueError:
            text = "-".join(parts.get(k) or "?" for k in ("year", "month", "day"))
            record.warnings.append(f"Birthday: not a date: {text}")
        return True


def _looks_binary(text: str) -> bool:
    sample = text[:4096]
    controls = sum(1 for c in sample if c < " " and c not in "\t\r\n")
    return controls > max(2, len(sample) // 100)


def read_csv(
    data: bytes,
    *,
    mapping: dict[str, str] | None = None,
    preset: str | None = None,
    delimiter: str | None = None,
    max_bytes: int | None = None,
    dayfirst: bool | None = None,
) -> CsvImport:
    """Read the header of a CSV file of contacts and prepare to read its rows.

    Args:
        data: the file's bytes, in any encoding ``text.decode`` recognises.
        mapping: column -> target (see :mod:`.csv_presets`); overrides the preset's.
        preset: ``google``, ``outlook``, ``thunderbird`` or ``generic``; guessed from the
            header when neither it nor ``mapping`` is given.
        delimiter: comma, semicolon or tab; detected from the header row when None.
        max_bytes: refuse larger files.
        dayfirst: read 03/04/2020 as 3 April; defaults to the preset's convention.

    Raises:
        UnreadableFile: too large, not text, no header row, or one column that is not
            a contacts table.
        MappingError: ``mapping`` names an unknown target, or ``preset`` is unknown.
    """
    if max_bytes is not None and len(data) > max_bytes:
        raise UnreadableFile(f"The file is larger than {max_bytes} bytes.")
    text, encoding = decode(data)
    text = text.lstrip("\ufeff")
    if _looks_binary(text):
        raise UnreadableFile("The file holds binary data, not text.")
    stripped = text.lstrip("\r\n")
    if not stripped.strip():
        raise UnreadableFile("The file is empty: there is no header row.")
    delimiter = delimiter or _detect_delimiter(stripped)
    try:
        headers = [h.strip() for h in next(csv.reader(io.StringIO(stripped, newline=""),
                                                      delimiter=delimiter))]
    except (csv.Error, StopIteration):
        raise UnreadableFile("The first row is not a CSV header row.") from None
    if any("@" in h or h.replace(".", "").replace(" ", "").isdigit() for h in headers if h):
        raise UnreadableFile("The first row holds data, not column names: no header row.")
    if mapping is not None:
        mapping = load_mapping(mapping)
    if preset is not None and preset not in PRESETS:
        raise MappingError(f"Unknown preset {preset!r}.")
    if preset is None and not mapping:
        preset = guess_preset(headers)
    chosen = PRESETS.get(preset)
    used = {}
    for header in headers:
        target = chosen.target(header) if chosen else None
        if target is None and chosen is None and not mapping:
            target = fallback_target(header)
        if mapping and header in mapping:
            target = mapping[header]
        if target is not None:
            used[header] = target
    unmapped = [h for h in headers if used.get(h, "ignore") == "ignore"]
    if len([h for h in headers if h]) < 2 and not (set(used.values()) - {"ignore"}):
        raise UnreadableFile("The file has a single column that is not a contacts table.")
    return CsvImport(
        text=text, encoding=encoding, delimiter=delimiter, headers=headers, mapping=used,
        unmapped=unmapped, preset=preset,
        dayfirst=dayfirst if dayfirst is not None else (chosen.dayfirst if chosen else True),
        tag_separator=chosen.tag_separator if chosen else ";",
        drop_tags=chosen.drop_tags if chosen else frozenset(),
        unescape_formulas=chosen.unescape_formulas if chosen else False,
    )


_FORMULA_SET = frozenset(FORMULA_STARTS)


def write_csv(records: Iterable[ContactRecord], *, columns: list[str] | None = None
              ) -> Iterator[str]:
    """Stream records as CSV text in our own layout (the ``generic`` preset reads it back).

    The header names the fields in ``csv_presets.GENERIC_FIELDS`` order, then a fixed number
    of e-mail, phone, website, handle and address groups (``EXPORT_*``: methods beyond
    those are not written), then one ``custom:<key>`` column per key in ``columns``. Tags
    are joined with ``;``. Formula-like cells are escaped (see the module docstring).

    Args:
        records: the contacts to write.
        columns: custom field keys to add (``key`` or ``custom:key``).

    Yields:
        Chunks of text; encode them as UTF-8 (a BOM helps Excel).
    """
    keys = [c.removeprefix("custom:") for c in columns or ()]
    header = list(generic_columns()) + [f"custom:{k}" for k in keys]
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(header)
    names = list(GENERIC_FIELDS.values())
    # birthday and tags are not text: read a placeholder and fill them in per row
    special = ("birthday", "tags")
    fields = operator.attrgetter(*(n if n not in special else "uid" for n in names))
    birthday_index, tags_index = names.index("birthday"), names.index("tags")
    parts = operator.attrgetter(*GENERIC_ADDRESS_PARTS.values())
    empty_address = [""] * (len(GENERIC_ADDRESS_PARTS) + 1)
    families = [(_FAMILIES[family], limit) for _title, family, limit in GENERIC_METHODS]
    formula = _FORMULA_SET
    batch = []
    for record in records:
        row = [("'" + v) if v and v[0] in formula else v for v in fields(record)]
        row[birthday_index] = record.birthday.isoformat() if record.birthday else ""
        tags = GENERIC_TAG_SEPARATOR.join(record.tags)
        row[tags_index] = ("'" + tags) if tags and tags[0] in formula else tags
        for attribute, limit in families:
            methods = getattr(record, attribute)
            for method in methods[:limit]:
                value = method.value
                label = format_label(method.types, method.label, method.is_primary)
                row.append(("'" + value) if value and value[0] in formula else value)
                row.append(("'" + label) if label and label[0] in formula else label)
            if len(methods) < limit:
                row += [""] * (2 * (limit - len(methods)))
        for index in range(EXPORT_ADDRESSES):
            if index < len(record.addresses):
                address = record.addresses[index]
                label = format_label(address.types, address.label, address.is_primary)
                row.append(("'" + label) if label and label[0] in formula else label)
                row += [("'" + v) if v and v[0] in formula else v for v in parts(address)]
            else:
                row += empty_address
        if keys:
            row += [("'" + v) if v and v[0] in formula else v
                    for v in (record.custom.get(k, "") for k in keys)]
        batch.append(row)
        if len(batch) == 500:
            writer.writerows(batch)
            batch.clear()
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    writer.writerows(batch)
    yield buffer.getvalue()
