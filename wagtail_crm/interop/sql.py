"""Contacts as a portable SQL dump, and reading such a dump back in a sandbox.

``write_sql_dump`` streams a script of CREATE TABLE and INSERT statements in standard SQL
that SQLite and PostgreSQL both run (TEXT, DATE, INTEGER and BOOLEAN columns; string
literals in single quotes with quotes doubled and no backslash escapes; TRUE and FALSE).

``read_sql_dump`` never runs a dump against a real database. It opens a private in-memory
SQLite database and runs the script there statement by statement under an authorizer that
allows creating tables and inserting rows, nothing else: no ATTACH (so no files), no PRAGMA,
no triggers, views, indexes, updates or deletes, no functions but ``char`` and ``replace``
(which SQLite's own ``.dump`` writes). Values, statements, the database and the running time
are bounded (see the ``MAX_*`` constants). Then our own queries, under a read-only
authorizer, read the tables back into records.

Tables (columns in order; every contact row is keyed by ``uid``, which the others refer to):

- ``crm_contact``: uid, kind, formatted_name, prefix, given_name, additional_names,
  family_name, suffix, nickname, organization_name, department, job_title, birthday, notes,
  custom_json, photo_media_type, photo_base64
- ``crm_contact_method``: contact_uid, position, kind (email, phone, url, handle), value,
  label, types (comma-separated), is_primary
- ``crm_address``: contact_uid, position, label, types, po_box, extended, street, locality,
  region, postal_code, country, is_primary
- ``crm_contact_tag``: contact_uid, position, tag
- ``crm_contact_related``: contact_uid, position, value, types (the vCard RELATED links)
- ``crm_relationship``: uid, type_slug, type_name, start_date, end_date, is_primary,
  description, custom_json
- ``crm_relationship_participant``: relationship_uid, position, contact_uid, role_slug
"""

from __future__ import annotations

import base64
import binascii
import bisect
import datetime
import json
import re
import sqlite3
import time
import uuid
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

from .records import AddressRecord, ContactRecord, Method, Photo, Related, RowError, UnreadableFile
from .text import decode

__all__ = [
    "RelationshipRow", "SqlDump", "open_sql_dump", "read_sql_dump", "write_sql_dump",
]

#: Largest script read, in bytes, unless the caller passes ``max_bytes``.
MAX_SCRIPT_BYTES = 200_000_000
#: Longest string or blob a value may hold (room for a 5 MB photo in base64).
MAX_VALUE_BYTES = 8_000_000
#: Longest single statement, in bytes.
MAX_STATEMENT_BYTES = 16_000_000
#: The in-memory database may grow to this many times the script's size (plus 4 MB).
MAX_GROWTH = 3
#: SQLite virtual machine steps allowed per byte of script (plus MIN_STEPS): enough for any
#: INSERT of literals, far too few for a join or a recursion that never ends.
STEPS_PER_BYTE = 40
MIN_STEPS = 20_000_000
#: Wall-clock bound on running the script and reading it back, in seconds.
MAX_SECONDS = 300
#: Largest photo, in decoded bytes.
MAX_PHOTO_BYTES = 5_000_000
#: Functions a dump may call: pure, and what ``sqlite3 .dump`` writes for newlines.
ALLOWED_FUNCTIONS = frozenset({"char", "replace"})
#: Rows per INSERT statement written (and a statement is also cut at about 1 MB).
ROWS_PER_INSERT = 200

METHOD_KINDS = {"email": "emails", "phone": "phones", "url": "urls", "handle": "handles"}

TABLES = {
    "crm_contact": (
        ("uid", "TEXT NOT NULL"), ("kind", "TEXT NOT NULL"), ("formatted_name", "TEXT"),
        ("prefix", "TEXT"), ("given_name", "TEXT"), ("additional_names", "TEXT"),
        ("family_name", "TEXT"), ("suffix", "TEXT"), ("nickname", "TEXT"),
        ("organization_name", "TEXT"), ("department", "TEXT"), ("job_title", "TEXT"),
        ("birthday", "DATE"), ("notes", "TEXT"), ("custom_json", "TEXT"),
        ("photo_media_type", "TEXT"), ("photo_base64", "TEXT"),
    ),
    "crm_contact_method": (
        ("contact_uid", "TEXT NOT NULL"), ("position", "INTEGER"), ("kind", "TEXT NOT NULL"),
        ("value", "TEXT NOT NULL"), ("label", "TEXT"), ("types", "TEXT"),
        ("is_primary", "BOOLEAN"),
    ),
    "crm_address": (
        ("contact_uid", "TEXT NOT NULL"), ("position", "INTEGER"), ("label", "TEXT"),
        ("types", "TEXT"), ("po_box", "TEXT"), ("extended", "TEXT"), ("street", "TEXT"),
        ("locality", "TEXT"), ("region", "TEXT"), ("postal_code", "TEXT"),
        ("country", "TEXT"), ("is_primary", "BOOLEAN"),
    ),
    "crm_contact_tag": (
        ("contact_uid", "TEXT NOT NULL"), ("position", "INTEGER"), ("tag", "TEXT NOT NULL"),
    ),
    "crm_contact_related": (
        ("contact_uid", "TEXT NOT NULL"), ("position", "INTEGER"), ("value", "TEXT NOT NULL"),
        ("types", "TEXT"),
    ),
    "crm_relationship": (
        ("uid", "TEXT NOT NULL"), ("type_slug", "TEXT NOT NULL"), ("type_name", "TEXT"),
        ("start_date", "DATE"), ("end_date", "DATE"), ("is_primary", "BOOLEAN"),
        ("description", "TEXT"), ("custom_json", "TEXT"),
    ),
    "crm_relationship_participant": (
        ("relationship_uid", "TEXT NOT NULL"), ("position", "INTEGER"),
        ("contact_uid", "TEXT NOT NULL"), ("role_slug", "TEXT"),
    ),
}
#: Columns of each table, by name.
COLUMNS = {table: tuple(name for name, _type in columns) for table, columns in TABLES.items()}
_UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$", re.I)


@dataclass
class RelationshipRow:
    """A relationship between contacts, named by their uids (the ``crm_relationship`` tables)."""

    uid: str
    type_slug: str
    type_name: str = ""
    start_date: datetime.date | None = None
    end_date: datetime.date | None = None
    is_primary: bool = False
    description: str = ""
    #: the type's custom field values, as stored (JSON values)
    custom: dict = field(default_factory=dict)
    #: ``(contact uid, role slug)`` of each participant, in order
    participants: list[tuple[str, str]] = field(default_factory=list)
    #: the line of the dump where the relationship's INSERT starts; 0 when written
    line: int = 0


# Writing -------------------------------------------------------------------------------------


def quote(value) -> str:
    """``value`` as an SQL literal: NULL, TRUE/FALSE, a number, or a string in single quotes.

    Raises:
        ValueError: a string holds a NUL character, which no SQL string literal can carry.
    """
    if value is None:
        return "NULL"
    if value is True:
        return "TRUE"
    if value is False:
        return "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime.date):
        return f"'{value.isoformat()}'"
    text = str(value)
    if "\x00" in text:
        raise ValueError("A NUL character cannot be written in an SQL string literal.")
    return "'" + text.replace("'", "''") + "'"


def create_statements() -> Iterator[str]:
    for table, columns in TABLES.items():
        body = ",\n  ".join(f"{name} {kind}" for name, kind in columns)
        yield f"CREATE TABLE {table} (\n  {body}\n);\n"


class _Inserts:
    """Rows per table, written as multi-row INSERT statements of bounded size."""

    def __init__(self):
        self.rows = defaultdict(list)
        self.sizes = defaultdict(int)

    def add(self, table, values) -> str:
        row = "(" + ", ".join(quote(value) for value in values) + ")"
        self.rows[table].append(row)
        self.sizes[table] += len(row)
        if len(self.rows[table]) >= ROWS_PER_INSERT or self.sizes[table] >= 1_000_000:
            return self.flush(table)
        return ""

    def flush(self, table) -> str:
        rows = self.rows.pop(table, None)
        self.sizes.pop(table, None)
        if not rows:
            return ""
        columns = ", ".join(COLUMNS[table])
        return f"INSERT INTO {table} ({columns}) VALUES\n" + ",\n".join(rows) + ";\n"

    def flush_all(self) -> str:
        return "".join(self.flush(table) for table in list(self.rows))


def _contact_rows(record: ContactRecord, uid: str):
    photo = record.photo
    yield "crm_contact", (
        uid, record.kind, record.formatted_name, record.prefix, record.given_name,
        record.additional_names, record.family_name, record.suffix, record.nickname,
        record.organization_name, record.department, record.job_title, record.birthday,
        record.notes, json.dumps(record.custom, ensure_ascii=False) if record.custom else None,
        photo.media_type if photo else None,
        base64.b64encode(photo.data).decode("ascii") if photo else None,
    )
    for kind, attribute in METHOD_KINDS.items():
        for position, method in enumerate(getattr(record, attribute)):
            yield "crm_contact_method", (
                uid, position, kind, method.value, method.label, ",".join(method.types),
                method.is_primary,
            )
    for position, address in enumerate(record.addresses):
        yield "crm_address", (
            uid, position, address.label, ",".join(address.types), address.po_box,
            address.extended, address.street, address.locality, address.region,
            address.postal_code, address.country, address.is_primary,
        )
    for position, tag in enumerate(record.tags):
        yield "crm_contact_tag", (uid, position, tag)
    for position, related in enumerate(record.related):
        yield "crm_contact_related", (uid, position, related.value, ",".join(related.types))


def write_sql_dump(
    records: Iterable[ContactRecord], relationships: Iterable[RelationshipRow] = ()
) -> Iterator[str]:
    """Stream records and relationships as an SQL script (see the module docstring).

    Args:
        records: the contacts. A record without a uid is given a new one, since the other
            tables refer to contacts by uid.
        relationships: relationships to add, their participants named by contact uid.

    Yields:
        Chunks of text: the CREATE TABLE statements, then INSERT statements of up to
        ``ROWS_PER_INSERT`` rows. Encode them as UTF-8.

    Raises:
        ValueError: a value holds a NUL character.
    """
    yield "-- Contacts exported by wagtail_crm: standard SQL for SQLite and PostgreSQL.\n"
    yield from create_statements()
    inserts = _Inserts()
    for record in records:
        uid = record.uid or str(uuid.uuid4())
        chunk = "".join(inserts.add(table, row) for table, row in _contact_rows(record, uid))
        if chunk:
            yield chunk
    for relationship in relationships:
        chunk = inserts.add("crm_relationship", (
            relationship.uid, relationship.type_slug, relationship.type_name,
            relationship.start_date, relationship.end_date, relationship.is_primary,
            relationship.description,
            json.dumps(relationship.custom, ensure_ascii=False) if relationship.custom else None,
        ))
        for position, (contact_uid, role_slug) in enumerate(relationship.participants):
            chunk += inserts.add(
                "crm_relationship_participant",
                (relationship.uid, position, contact_uid, role_slug),
            )
        if chunk:
            yield chunk
    yield inserts.flush_all()


# Splitting a script into statements ----------------------------------------------------------

_SPECIAL = re.compile(r"['\"`\[;]|--|/\*")
_CLOSING = {
    "'": re.compile(r"'[^']*(?:''[^']*)*'"),
    '"': re.compile(r'"[^"]*(?:""[^"]*)*"'),
    "`": re.compile(r"`[^`]*(?:``[^`]*)*`"),
    "[": re.compile(r"\[[^\]]*\]"),
}
_LEADING = re.compile(r"(?:\s+|--[^\n]*(?:\n|$)|/\*.*?\*/)*", re.S)
#: Statements a dump may hold, by their first words.
_ALLOWED_START = re.compile(
    r"(?:CREATE\s+TABLE|INSERT\s+INTO|BEGIN|COMMIT|END|ROLLBACK)\b", re.I
)
_FIRST_WORDS = re.compile(r"[A-Za-z_]+(?:\s+[A-Za-z_]+)?")


def split_statements(text: str) -> Iterator[tuple[int, str]]:
    """``(line, statement)`` for each statement of ``text``, comments before it removed.

    A linear scan that knows quoted strings and identifiers and both kinds of comment, so
    that a ``;`` inside them does not end a statement. The line is where the statement's
    first word is (1-based).

    Raises:
        UnreadableFile: a string, identifier or comment does not end.
    """
    position, start, line, counted = 0, 0, 1, 0
    length = len(text)
    while True:
        match = _SPECIAL.search(text, position)
        if match is None:
            end = length
        else:
            token, at = match.group(), match.start()
            if token != ";":
                if token == "--":
                    stop = text.find("\n", at)
                    position = length if stop < 0 else stop + 1
                    continue
                if token == "/*":
                    stop = text.find("*/", at + 2)
                    closed = None if stop < 0 else stop + 2
                else:
                    found = _CLOSING[token].match(text, at)
                    closed = found.end() if found else None
                if closed is None:
                    line += text.count("\n", counted, at)
                    raise UnreadableFile(
                        f"Line {line}: a quoted string, name or comment does not end."
                    )
                position = closed
                continue
            end = at + 1
        statement = text[start:end]
        lead = _LEADING.match(statement).end()
        body = statement[lead:]
        line += text.count("\n", counted, start + lead)
        counted = start + lead
        if body.strip(" \t\r\n;"):
            yield line, body
        if match is None:
            return
        start = position = end


# Reading -------------------------------------------------------------------------------------

_ACTIONS = {
    1: "CREATE INDEX", 2: "CREATE TABLE", 3: "CREATE TEMP INDEX", 4: "CREATE TEMP TABLE",
    5: "CREATE TEMP TRIGGER", 6: "CREATE TEMP VIEW", 7: "CREATE TRIGGER", 8: "CREATE VIEW",
    9: "DELETE", 10: "DROP INDEX", 11: "DROP TABLE", 12: "DROP TEMP INDEX",
    13: "DROP TEMP TABLE", 14: "DROP TEMP TRIGGER", 15: "DROP TEMP VIEW", 16: "DROP TRIGGER",
    17: "DROP VIEW", 18: "INSERT", 19: "PRAGMA", 20: "READ", 21: "SELECT", 22: "TRANSACTION",
    23: "UPDATE", 24: "ATTACH", 25: "DETACH", 26: "ALTER TABLE", 27: "REINDEX", 28: "ANALYZE",
    29: "CREATE VIRTUAL TABLE", 30: "DROP VIRTUAL TABLE", 31: "FUNCTION", 32: "SAVEPOINT",
    33: "RECURSIVE",
}
_SCHEMA = {"sqlite_master", "sqlite_schema"}


class _Sandbox:
    """The authorizer and progress handler of the in-memory database.

    ``mode`` is ``"script"`` while the dump runs (create tables, insert rows), ``"index"``
    while we add our indexes, ``"read"`` while we read (SELECT and READ only).
    """

    def __init__(self, steps, seconds):
        self.mode = "script"
        #: whether the statement being prepared is a CREATE TABLE (which writes the schema)
        self.creating = False
        self.refused = ""
        self.table = ""
        self.steps_left, self.deadline = steps, time.monotonic() + seconds
        self.timed_out = False

    def authorize(self, action, arg1, arg2, database, _trigger):
        allowed = self._allowed(action, arg1, arg2, database)
        if not allowed and not self.refused:
            name = _ACTIONS.get(action, str(action))
            if action == 31:
                name = f"function {arg2}"
            elif action in (9, 18, 20, 23) and arg1:
                name = f"{name} {arg1}"
            elif action in (11, 19, 24) and arg1:
                name = f"{name} {arg1}"
            self.refused = name
        return sqlite3.SQLITE_OK if allowed else sqlite3.SQLITE_DENY

    def _allowed(self, action, arg1, arg2, database):
        if database not in (None, "main"):
            return False
        schema = (arg1 or "").lower() in _SCHEMA
        if self.mode == "read":
            return action in (20, 21)
        if self.mode == "index":
            return action in (1, 27) or (action in (18, 20, 23) and (schema or action == 20))
        if action == 2:  # CREATE TABLE
            self.table = arg1 or ""
            return self.creating and not self.table.lower().startswith("sqlite_")
        if action == 18:  # INSERT
            if schema:
                return self.creating
            self.table = arg1 or ""
            return not self.creating and not self.table.lower().startswith("sqlite_")
        if action in (20, 23):  # READ, UPDATE: only the schema, by CREATE TABLE
            return schema and self.creating
        if action == 31:
            return (arg2 or "").lower() in ALLOWED_FUNCTIONS
        return action in (21, 22)  # SELECT (VALUES lists), TRANSACTION

    def progress(self):
        if self.mode == "read":  # our own queries, on indexes: bounded by the database's size
            return 0
        self.steps_left -= 1000
        if self.steps_left < 0 or time.monotonic() > self.deadline:
            self.timed_out = True
            return 1
        return 0


class SqlDump:
    """A dump run in the sandbox: its contacts and relationships, read on demand.

    Made by :func:`open_sql_dump`. Reading uses the database until :meth:`close`.
    """

    def __init__(self, connection: sqlite3.Connection, sandbox: _Sandbox,
                 lines: dict[str, list[tuple[int, int]]]):
        self.connection = connection
        self.sandbox = sandbox
        #: per table, the last rowid and the line of each INSERT statement, in order
        self.lines = {
            table: ([last for last, _line in pairs], [line for _last, line in pairs])
            for table, pairs in lines.items()
        }
        self.tables = {
            name for (name,) in connection.execute(
                "SELECT name FROM sqlite_master WHERE type = 'table'"
            )
        }

    def close(self):
        self.connection.close()

    def line_of(self, table: str, rowid: int) -> int:
        """The line of the INSERT statement that wrote ``rowid`` of ``table``."""
        lasts, numbers = self.lines.get(table, ((), ()))
        index = bisect.bisect_left(lasts, rowid)
        return numbers[index] if index < len(numbers) else 0

    def _query(self, sql, params=()):
        try:
            return self.connection.execute(sql, params)
        except sqlite3.Error as error:
            raise UnreadableFile(_explain(error, self.sandbox, "")) from None

    def _children(self, table, key, uids):
        """Rows of ``table`` whose ``key`` is one of ``uids``, grouped by it, in order."""
        found = defaultdict(list)
        if table not in self.tables or not uids:
            return found
        columns = ", ".join(c for c in COLUMNS[table] if c != key)
        marks = ", ".join("?" * len(uids))
        rows = self._query(
            f"SELECT {key}, {columns} FROM {table} WHERE {key} IN ({marks}) "
            f"ORDER BY position, rowid", uids,
        )
        for row in rows:
            found[row[0]].append(row[1:])
        return found

    def records(self, chunk_size: int = 500) -> Iterator[ContactRecord | RowError]:
        """One ContactRecord, or a RowError for a row that cannot be read, per contact row.

        Contacts come in the order they were inserted; ``related`` comes from
        ``crm_contact_related`` or, for a dump without that table, from the participants of
        the relationships each contact is in.
        """
        if "crm_contact" not in self.tables:
            raise UnreadableFile("The dump has no crm_contact table: it holds no contacts.")
        columns = ", ".join(COLUMNS["crm_contact"])
        last, seen = 0, set()
        while True:
            rows = self._query(
                f"SELECT rowid, {columns} FROM crm_contact WHERE rowid > ? ORDER BY rowid "
                f"LIMIT {int(chunk_size)}", (last,),
            ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            uids = list({_key(row[1]) for row in rows})
            children = {
                table: self._children(table, "contact_uid", uids)
                for table in ("crm_contact_method", "crm_address", "crm_contact_tag",
                              "crm_contact_related")
            }
            derived = None
            if "crm_contact_related" not in self.tables:
                derived = self._related_from_participants(uids)
            for rowid, *values in rows:
                line = self.line_of("crm_contact", rowid)
                uid = _key(values[0])
                if uid in seen:
                    yield RowError(line, f"A second contact with the uid {uid!r}.", uid[:80])
                    continue
                seen.add(uid)
                try:
                    record = _record(values, children, derived, line)
                except _BadRow as error:
                    yield RowError(line, str(error), uid[:80])
                    continue
                yield record

    def _related_from_participants(self, uids):
        related = defaultdict(list)
        if "crm_relationship_participant" not in self.tables:
            return related
        marks = ", ".join("?" * len(uids))
        rows = self._query(
            "SELECT p.contact_uid, o.contact_uid FROM crm_relationship_participant p "
            "JOIN crm_relationship_participant o ON o.relationship_uid = p.relationship_uid "
            f"WHERE p.contact_uid IN ({marks}) AND o.contact_uid <> p.contact_uid "
            "ORDER BY p.rowid, o.position, o.rowid", uids,
        )
        for uid, other in rows:
            value = _uid_uri(_text(other))
            if all(item.value != value for item in related[uid]):
                related[uid].append(Related(value, ["contact"]))
        return related

    def relationships(self) -> Iterator[RelationshipRow | RowError]:
        """The relationships of the dump, with their participants, in the order inserted."""
        if "crm_relationship" not in self.tables:
            return
        columns = ", ".join(COLUMNS["crm_relationship"])
        last = 0
        while True:
            rows = self._query(
                f"SELECT rowid, {columns} FROM crm_relationship WHERE rowid > ? "
                "ORDER BY rowid LIMIT 500", (last,),
            ).fetchall()
            if not rows:
                return
            last = rows[-1][0]
            participants = self._children(
                "crm_relationship_participant", "relationship_uid",
                list({_key(row[1]) for row in rows}),
            )
            for rowid, uid, slug, name, start, end, primary, description, custom in rows:
                line = self.line_of("crm_relationship", rowid)
                uid = _key(uid)
                try:
                    yield RelationshipRow(
                        uid=uid, type_slug=_text(slug), type_name=_text(name),
                        start_date=_date(start, "start_date"), end_date=_date(end, "end_date"),
                        is_primary=_bool(primary), description=_text(description),
                        custom=_json_object(custom), line=line,
                        participants=[
                            (_text(contact_uid), _text(role))
                            for _position, contact_uid, role in participants.get(uid, ())
                        ],
                    )
                except _BadRow as error:
                    yield RowError(line, str(error), uid[:80])


class _BadRow(Exception):
    pass


def _key(value) -> str:
    """A uid as text, whatever the row holds (an unreadable one matches nothing)."""
    return value if isinstance(value, str) else "" if value is None else repr(value)


def _text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bytes):
        raise _BadRow("A binary value where text was expected.")
    return str(value)


def _bool(value) -> bool:
    if isinstance(value, str):
        return value.strip().lower() in {"1", "t", "true", "y", "yes"}
    return bool(value)


def _date(value, name):
    if value in (None, ""):
        return None
    try:
        return datetime.date.fromisoformat(_text(value)[:10])
    except ValueError:
        raise _BadRow(f"{name} is not a date (YYYY-MM-DD): {_text(value)[:40]!r}.") from None


def _json_object(value) -> dict:
    if value in (None, ""):
        return {}
    try:
        loaded = json.loads(_text(value))
    except (ValueError, RecursionError):
        raise _BadRow("custom_json is not valid JSON.") from None
    if not isinstance(loaded, dict):
        raise _BadRow("custom_json is not a JSON object.")
    return loaded


def _uid_uri(uid: str) -> str:
    return f"urn:uuid:{uid.lower()}" if _UUID.match(uid) else uid


def _types(value) -> list[str]:
    return [word for word in _text(value).split(",") if word]


def _record(values, children, derived, line) -> ContactRecord:
    (uid, kind, formatted_name, prefix, given_name, additional_names, family_name, suffix,
     nickname, organization_name, department, job_title, birthday, notes, custom,
     photo_type, photo_data) = values
    kind = _text(kind)
    if kind not in ("person", "organization"):
        raise _BadRow(f"kind must be person or organization, not {kind[:40]!r}.")
    uid = _text(uid)
    record = ContactRecord(
        kind=kind, uid=uid, formatted_name=_text(formatted_name), prefix=_text(prefix),
        given_name=_text(given_name), additional_names=_text(additional_names),
        family_name=_text(family_name), suffix=_text(suffix), nickname=_text(nickname),
        organization_name=_text(organization_name), department=_text(department),
        job_title=_text(job_title), birthday=_date(birthday, "birthday"), notes=_text(notes),
        line=line,
    )
    record.custom = {str(key): _custom_text(value)
                     for key, value in _json_object(custom).items()}
    if photo_data:
        try:
            data = base64.b64decode(_text(photo_data), validate=True)
        except (binascii.Error, ValueError):
            raise _BadRow("photo_base64 is not base64.") from None
        if len(data) > MAX_PHOTO_BYTES:
            raise _BadRow(f"The photo is larger than {MAX_PHOTO_BYTES:,} bytes.")
        record.photo = Photo(data, _text(photo_type))
    for _position, kind_, value, label, types, primary in children["crm_contact_method"][uid]:
        attribute = METHOD_KINDS.get(_text(kind_))
        if attribute is None:
            record.warnings.append(f"A contact method of unknown kind {_text(kind_)[:40]!r}.")
            continue
        getattr(record, attribute).append(
            Method(_text(value), _types(types), _text(label), _bool(primary))
        )
    for (_position, label, types, po_box, extended, street, locality, region, postal_code,
         country, primary) in children["crm_address"][uid]:
        record.addresses.append(AddressRecord(
            po_box=_text(po_box), extended=_text(extended), street=_text(street),
            locality=_text(locality), region=_text(region), postal_code=_text(postal_code),
            country=_text(country), types=_types(types), label=_text(label),
            is_primary=_bool(primary),
        ))
    record.tags = [_text(tag) for _position, tag in children["crm_contact_tag"][uid]]
    if derived is not None:
        record.related = list(derived.get(uid, ()))
    else:
        record.related = [Related(_text(value), _types(types))
                          for _position, value, types in children["crm_contact_related"][uid]]
    return record


def _custom_text(value) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _explain(error, sandbox, where) -> str:
    if sandbox.timed_out:
        reason = "the script takes too long to run (stopped)"
    elif sandbox.refused:
        reason = f"not authorised ({sandbox.refused})"
    else:
        reason = str(error)
    return f"{where}{reason}"


def _limits(connection, size):
    limits = {
        sqlite3.SQLITE_LIMIT_LENGTH: MAX_VALUE_BYTES,
        sqlite3.SQLITE_LIMIT_SQL_LENGTH: MAX_STATEMENT_BYTES,
        sqlite3.SQLITE_LIMIT_ATTACHED: 0,
        sqlite3.SQLITE_LIMIT_COLUMN: 100,
        sqlite3.SQLITE_LIMIT_EXPR_DEPTH: 100,
        sqlite3.SQLITE_LIMIT_FUNCTION_ARG: 8,
        sqlite3.SQLITE_LIMIT_TRIGGER_DEPTH: 1,
        sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER: 1000,
        sqlite3.SQLITE_LIMIT_WORKER_THREADS: 0,
        sqlite3.SQLITE_LIMIT_LIKE_PATTERN_LENGTH: 100,
    }
    for limit, value in limits.items():
        connection.setlimit(limit, value)
    # Before the authorizer: sorts and temporary tables stay in memory (never a temporary
    # file), and the database cannot grow past a multiple of the script.
    connection.execute("PRAGMA temp_store = MEMORY")
    page_size = connection.execute("PRAGMA page_size").fetchone()[0]
    pages = (MAX_GROWTH * size + 4_000_000) // page_size + 1
    connection.execute(f"PRAGMA max_page_count = {int(pages)}")
    connection.execute("PRAGMA trusted_schema = OFF")


_LITERAL = re.compile(
    r"(?:NULL|TRUE|FALSE|CURRENT_(?:DATE|TIME|TIMESTAMP)|[-+]?[0-9][0-9.eE+-]*|'[^']*(?:''[^']*)*')",
    re.I,
)


def _check_defaults(connection, sandbox, table, where):
    """Refuse a column DEFAULT other than a literal: SQLite evaluates it on insert without
    asking the authorizer about its functions."""
    connection.set_authorizer(None)
    try:
        columns = connection.execute(
            "SELECT name, dflt_value FROM pragma_table_xinfo(?)", (table,)
        ).fetchall()
    finally:
        connection.set_authorizer(sandbox.authorize)
    for name, default in columns:
        if default is not None and not _LITERAL.fullmatch(default.strip()):
            raise UnreadableFile(
                f"{where}the default of {table}.{name} must be a constant, not {default[:40]}."
            )


def open_sql_dump(data: bytes, *, max_bytes: int | None = None) -> SqlDump:
    """Run a dump in the sandbox (see the module docstring) and return it for reading.

    Args:
        data: the script's bytes (UTF-8, or any encoding ``text.decode`` recognises).
        max_bytes: refuse larger scripts; default :data:`MAX_SCRIPT_BYTES`.

    Raises:
        UnreadableFile: the script is empty, too large, not text, or a statement cannot
            run (``"Line 12: not authorised (ATTACH)"``). Nothing of it is kept.
    """
    limit = MAX_SCRIPT_BYTES if max_bytes is None else max_bytes
    if len(data) > limit:
        raise UnreadableFile(f"The file is larger than {limit:,} bytes.")
    if not data.strip():
        raise UnreadableFile("The file is empty.")
    text, _encoding = decode(data)
    statements = split_statements(text)
    sandbox = _Sandbox(MIN_STEPS + STEPS_PER_BYTE * len(data), MAX_SECONDS)
    connection = sqlite3.connect(":memory:", isolation_level=None, check_same_thread=False)
    try:
        _limits(connection, len(data))
        connection.set_authorizer(sandbox.authorize)
        connection.set_progress_handler(sandbox.progress, 1000)
        lines = defaultdict(list)
        ran = 0
        for line, statement in statements:
            where = f"Line {line}: "
            if not _ALLOWED_START.match(statement):
                words = _FIRST_WORDS.match(statement)
                found = " ".join(words.group().upper().split()) if words else statement[:20]
                raise UnreadableFile(
                    f"{where}only CREATE TABLE and INSERT statements may be in a dump, "
                    f"not {found}."
                )
            sandbox.creating = statement[:6].upper() == "CREATE"
            sandbox.refused = sandbox.table = ""
            try:
                cursor = connection.execute(statement)
            except (sqlite3.Error, OverflowError) as error:
                raise UnreadableFile(_explain(error, sandbox, where)) from None
            except sqlite3.Warning:
                raise UnreadableFile(f"{where}holds more than one statement.") from None
            if sandbox.creating:
                _check_defaults(connection, sandbox, sandbox.table, where)
            elif sandbox.table and cursor.rowcount > 0:
                lines[sandbox.table.lower()].append((cursor.lastrowid, line))
            ran += 1
        if not ran:
            raise UnreadableFile("The file holds no SQL statements.")
        dump = _index(connection, sandbox, lines)
    except BaseException:
        connection.close()
        raise
    return dump


def _index(connection, sandbox, lines) -> SqlDump:
    """Check our tables' columns, add the indexes reading needs, switch to read-only."""
    sandbox.mode = "read"
    sandbox.refused = ""
    dump = SqlDump(connection, sandbox, dict(lines))
    sandbox.mode = "index"
    for table, key in (("crm_contact_method", "contact_uid"), ("crm_address", "contact_uid"),
                       ("crm_contact_tag", "contact_uid"), ("crm_contact_related", "contact_uid"),
                       ("crm_relationship_participant", "relationship_uid"),
                       ("crm_relationship_participant", "contact_uid")):
        if table not in dump.tables:
            continue
        try:
            connection.execute(
                f"CREATE INDEX sandbox_{table}_{key} ON {table} ({key}, position)"
            )
        except sqlite3.Error as error:
            raise UnreadableFile(
                f"The table {table} cannot be read: {_explain(error, sandbox, '')}."
            ) from None
    sandbox.mode = "read"
    for table in dump.tables & set(TABLES):
        try:
            connection.execute(f"SELECT {', '.join(COLUMNS[table])} FROM {table} LIMIT 0")
        except sqlite3.Error as error:
            raise UnreadableFile(
                f"The table {table} cannot be read: {_explain(error, sandbox, '')}."
            ) from None
    return dump


def read_sql_dump(
    data: bytes, *, max_bytes: int | None = None
) -> Iterator[ContactRecord | RowError]:
    """Read the contacts of an SQL dump, run only in the sandbox.

    Args:
        data: the script's bytes.
        max_bytes: refuse larger scripts.

    Returns:
        An iterator with one ContactRecord, or one RowError for a row that cannot be read,
        per ``crm_contact`` row, in the order inserted. Relationships are in
        ``open_sql_dump(data).relationships()``.

    Raises:
        UnreadableFile: raised by this call, before iterating (see :func:`open_sql_dump`).
    """
    dump = open_sql_dump(data, max_bytes=max_bytes)
    if "crm_contact" not in dump.tables:
        dump.close()
        raise UnreadableFile("The dump has no crm_contact table: it holds no contacts.")
    return _records_then_close(dump)


def _records_then_close(dump):
    try:
        yield from dump.records()
    finally:
        dump.close()
