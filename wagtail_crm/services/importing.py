"""Import contacts from vCard, CSV, LDIF (and SQL) files: fast, lossless, every row accounted for.

``import_file`` detects the format, reads the file with the parsers of ``wagtail_crm.interop``
and hands the records to ``import_records``, which works in batches: each batch is checked and
converted in Python, matched against stored contacts with a few queries
(:class:`~.matching.Matcher`), then written in ONE transaction: new contacts, methods,
addresses and tags with bulk inserts (through the DB-API cursor on SQLite and PostgreSQL, as
services/demo.py does), changed contacts with one bulk update, and their search index entries
(services/search_index.py). When the database refuses a batch, the batch is rolled back and its
rows are written again one by one, so that only the failing row is reported and the others go
in. See docs/architecture.md, "Importing".
"""

from __future__ import annotations

import csv as csv_module
import gc
import io
import re
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from itertools import islice

from django.core.exceptions import PermissionDenied
from django.db import DatabaseError, connections, router, transaction
from django.utils import timezone
from taggit.models import Tag

from ..conf import crm_settings
from ..interop.records import ContactRecord, RowError, UnreadableFile
from ..interop.text import detect_encoding
from ..models import (
    Address,
    Contact,
    ContactMethod,
    ContactTag,
    Folder,
)
from ..permissions import folders_for
from .demo import DIRECT_VENDORS, _reserve_ids, _sqlite_cache, _Table
from .import_rows import RowFailure, RowPreparer, image_from_photo
from .matching import ADDRESS_PARTS, SCALARS, Incoming, Matcher
from .search_index import ContactIndexer

try:
    import psycopg
except ImportError:  # No PostgreSQL driver.
    psycopg = None

__all__ = [
    "FORMATS", "ImportNotAllowed", "ImportOptions", "ImportReport", "UnreadableFile",
    "check_folder", "detect_format", "import_file", "import_records", "read_records",
]

FORMATS = ("vcard", "csv", "ldif", "sql")
EXTENSIONS = {".vcf": "vcard", ".vcard": "vcard", ".csv": "csv", ".tsv": "csv",
              ".ldif": "ldif", ".ldi": "ldif", ".sql": "sql"}
#: RowError reasons (starts) of entries that are not contacts: counted as skipped, not errors.
NOT_CONTACTS = ("not a contact entry", "change records are not contacts")
#: Errors the database (or its driver, for COPY) raises when it refuses a batch.
DATABASE_ERRORS = (DatabaseError,) + ((psycopg.Error,) if psycopg else ())


class ImportNotAllowed(PermissionDenied, ValueError):
    """The user may not add contacts to the chosen folder."""


def check_folder(folder: Folder, user=None) -> None:
    """Raise :class:`ImportNotAllowed` unless ``user`` (None: no check) may add to ``folder``."""
    if user is not None and not folders_for(user, "add").filter(pk=folder.pk).exists():
        raise ImportNotAllowed(
            f"You may not add contacts to the folder {folder.name!r}: importing needs "
            f"contribute or manage access to it."
        )


# Formats --------------------------------------------------------------------------------------

_SNIFF = (
    ("vcard", re.compile(r"^[ \t\ufeff]*BEGIN:VCARD[ \t\r]*$", re.I | re.M)),
    ("ldif", re.compile(r"^(?:dn::? |version: *1[ \t\r]*$)", re.I | re.M)),
    ("sql", re.compile(r"^(?:CREATE TABLE|INSERT INTO|COPY \S+ .*FROM stdin;|-- MySQL dump|"
                       r"-- PostgreSQL database dump)", re.I | re.M)),
)


def detect_format(data: bytes, filename: str = "") -> str:
    """The format of a contacts file: ``vcard``, ``csv``, ``ldif`` or ``sql``.

    The file name's extension decides when it is a known one; otherwise the start of the
    content does (BEGIN:VCARD, ``dn:``, SQL statements, then a delimited header row).

    Raises:
        UnreadableFile: the file is empty, binary, or none of the formats.
    """
    for extension, fmt in EXTENSIONS.items():
        if filename.lower().endswith(extension):
            return fmt
    sample = data[:65536]
    encoding, bom = detect_encoding(sample)
    text = sample[bom:].decode(encoding, errors="replace")
    if not text.strip():
        raise UnreadableFile("The file is empty.")
    head = text[:4096]
    if sum(1 for c in head if c < " " and c not in "\t\r\n") > max(2, len(head) // 50):
        raise UnreadableFile("The file holds binary data, not text.")
    for fmt, pattern in _SNIFF:
        if pattern.search(text):
            return fmt
    first = next(line for line in text.splitlines() if line.strip())
    if any(delimiter in first for delimiter in ",;\t"):
        return "csv"
    raise UnreadableFile("The file is not a vCard, CSV, LDIF or SQL file.")


def read_records(data: bytes, fmt: str, *, mapping=None, preset: str | None = None
                 ) -> Iterator[ContactRecord | RowError]:
    """Read ``data`` as ``fmt`` (see :data:`FORMATS`) into records and row errors.

    Args:
        mapping: for CSV, a column mapping (a dict, or the path of a JSON file).
        preset: for CSV, ``google``, ``outlook``, ``thunderbird`` or ``generic``.

    Raises:
        UnreadableFile: the file cannot be read at all (raised by this call).
        MappingError: the CSV mapping or preset is unknown.
    """
    max_bytes = crm_settings.IMPORT_MAX_BYTES
    if fmt == "vcard":
        from ..interop.vcard import read_vcards

        return read_vcards(data, max_bytes=max_bytes)
    if fmt == "csv":
        from ..interop.csv import read_csv

        return read_csv(data, mapping=mapping, preset=preset, max_bytes=max_bytes).rows()
    if fmt == "ldif":
        from ..interop.ldif import read_ldif

        return read_ldif(data, max_bytes=max_bytes)
    if fmt == "sql":
        try:
            from ..interop.sql import read_sql_dump
        except ImportError:
            raise UnreadableFile("SQL import is not available.") from None
        return read_sql_dump(data, max_bytes=max_bytes)
    raise UnreadableFile(f"Unknown format {fmt!r}: use one of {', '.join(FORMATS)}.")


# Options and report ---------------------------------------------------------------------------


@dataclass
class ImportOptions:
    #: the folder new contacts go to
    folder: Folder
    #: who imports: their folder access decides where they may add and what is matched;
    #: None (the command line) may do everything
    user: object = None
    #: what to do with a record that matches a contact: ``update``, ``skip`` or ``create``
    on_duplicate: str = "update"
    #: also match by name plus organisation (after UID and email)
    match_name_and_organization: bool = False
    #: read, check and match everything, write nothing
    dry_run: bool = False
    #: records per transaction; None for ``WAGTAIL_CRM_IMPORT_BATCH_SIZE``
    batch_size: int | None = None

    def __post_init__(self):
        if self.on_duplicate not in ("update", "skip", "create"):
            raise ValueError(f"on_duplicate must be update, skip or create, not "
                             f"{self.on_duplicate!r}.")


@dataclass
class ImportReport:
    """What an import did with each input item; every item lands in exactly one count."""

    rows: int = 0
    created: int = 0
    updated: int = 0
    #: matched records equal to what is stored: nothing written (counted as skipped in the
    #: summary line)
    unchanged: int = 0
    skipped: int = 0
    errors: int = 0
    #: ``(line, reason)`` of the items that failed
    failures: list = field(default_factory=list)
    #: ``(line, message)``: what was read but not stored (the row itself went in)
    warnings: list = field(default_factory=list)
    #: ``(line, status, reason, contact id)`` per item, in input order
    outcomes: list = field(default_factory=list, repr=False)
    dry_run: bool = False

    def add(self, line, status, reason="", contact_id=None):
        self.rows += 1
        setattr(self, status, getattr(self, status) + 1)
        if status == "errors":
            self.failures.append((line, reason))
        self.outcomes.append((line, status, reason, contact_id))

    def summary_line(self):
        return (f"rows={self.rows} created={self.created} updated={self.updated} "
                f"skipped={self.skipped + self.unchanged} errors={self.errors}")

    def write_csv(self, file):
        """Write one CSV row per input item: line, status, reason, contact id."""
        names = {"errors": "error", "created": "created", "updated": "updated",
                 "unchanged": "unchanged", "skipped": "skipped"}
        writer = csv_module.writer(file)
        writer.writerow(["line", "status", "reason", "contact id"])
        for line, status, reason, contact_id in self.outcomes:
            writer.writerow([line, names[status], reason, contact_id or ""])

    def as_dict(self):
        """The report as JSON values (for a task result)."""
        return {
            "rows": self.rows, "created": self.created, "updated": self.updated,
            "unchanged": self.unchanged, "skipped": self.skipped, "errors": self.errors,
            "summary": self.summary_line(), "dry_run": self.dry_run,
            "failures": [list(f) for f in self.failures],
            "warnings": [list(w) for w in self.warnings],
            "outcomes": [list(o) for o in self.outcomes],
        }

# The import -----------------------------------------------------------------------------------


class _Importer:
    def __init__(self, options, report, progress):
        self.options, self.report, self.progress = options, report, progress
        self.prepare = RowPreparer()
        self.matcher = Matcher(options.user, options.match_name_and_organization)
        self.owner_id = options.user.pk if options.user is not None else None
        self.connection = connections[router.db_for_write(Contact)]
        self.direct = self.connection.vendor in DIRECT_VENDORS
        self.indexer = None if options.dry_run else ContactIndexer()
        if self.indexer is not None and self.indexer.texts is not None:
            self.indexer.texts.phone_texts = self.prepare.phone_texts
        self.tag_ids = {}
        #: contacts in the table when PostgreSQL's planner statistics were last refreshed
        self.stats_rows = None

    # Batches ----------------------------------------------------------------------------------

    def run(self, items):
        """Import ``items`` a batch at a time.

        The next batch is read and prepared (Python only) while the current one's transaction
        is still open: on PostgreSQL its search index entries are being built meanwhile (see
        :class:`~.search_index.PostgresEntries`), and the commit waits for them.
        """
        size = max(1, self.options.batch_size or crm_settings.IMPORT_BATCH_SIZE)
        if self.connection.vendor == "postgresql" and not self.options.dry_run:
            self.initial_rows = Contact.all_objects.count()
            self.stats_rows = max(self.initial_rows, 500)
        iterator = iter(items)
        ahead = [self.prepare_batch(iterator, size)]
        while ahead[0] is not None:
            outcomes, rows = ahead.pop()

            def read_ahead():
                ahead.append(self.prepare_batch(iterator, size))

            self.batch(outcomes, rows, read_ahead)
            if not ahead:
                read_ahead()
            self.refresh_statistics()
            if self.progress:
                self.progress(self.report)
        if self.indexer and self.indexer.writers and self.report.created + self.report.updated:
            with transaction.atomic(using=self.connection.alias):
                self.indexer.finish()

    def prepare_batch(self, iterator, size):
        """``(outcomes, rows)`` of the next ``size`` items, or None at the end.

        ``rows`` are the Incoming rows to write; ``outcomes`` has them in input order, with the
        report entries (line, status, reason, contact id) of items that failed already.
        """
        items = list(islice(iterator, size))
        if not items:
            return None
        outcomes, rows = [], []
        for item in items:
            if isinstance(item, RowError):
                skipped = item.reason.startswith(NOT_CONTACTS)
                outcomes.append((item.line, "skipped" if skipped else "errors",
                                 f"line {item.line}: {item.reason}", None))
                continue
            try:
                incoming = self.prepare.prepare(item)
            except RowFailure as failure:
                outcomes.append((item.line, "errors", f"line {item.line}: {failure}", None))
                continue
            outcomes.append(incoming)
            rows.append(incoming)
        return outcomes, rows

    def refresh_statistics(self):
        """On PostgreSQL, ANALYZE the tables written each time the contacts have doubled.

        Without it, the planner keeps the statistics of the table before the import: with an
        empty table those say "no rows", and the matching queries' plans (nested loops over
        full index scans) grow with the table, taking seconds per batch at 10,000 contacts.
        """
        if self.stats_rows is None:
            return
        total = self.initial_rows + self.report.created
        if total >= 2 * self.stats_rows:
            with self.connection.cursor() as cursor:
                for model in (Contact, ContactMethod, Address, ContactTag):
                    table = self.connection.ops.quote_name(model._meta.db_table)
                    cursor.execute(f"ANALYZE {table}")
            self.stats_rows = total

    def batch(self, outcomes, rows, read_ahead=None):
        """Write one batch; on a database error, its rows one by one. Fill the report."""
        try:
            written = self.write(rows, read_ahead)
        except DATABASE_ERRORS:
            written = {}
            for row in rows:
                self.tag_ids = {}  # tags created by the rolled-back batch are gone
                try:
                    written.update(self.write([row]))
                except DATABASE_ERRORS as error:
                    self.tag_ids = {}
                    reason = str(error).strip().splitlines()[0] if str(error).strip() else (
                        type(error).__name__)
                    written[id(row)] = ("errors", f"line {row.line}: database error: {reason}",
                                        None)
        for outcome in outcomes:
            if isinstance(outcome, Incoming):
                status, reason, pk = written[id(outcome)]
                for warning in outcome.warnings:
                    self.report.warnings.append((outcome.line, warning))
                if outcome.warnings and status != "errors":
                    reason = "; ".join(filter(None, [reason, *outcome.warnings]))
                self.report.add(outcome.line, status, reason, pk)
            else:
                self.report.add(*outcome)

    def write(self, rows, read_ahead=None):
        """Match and write ``rows`` in one transaction; ``{id(row): (status, reason, pk)}``.

        ``read_ahead`` (Python only, no queries) runs after the rows and their index entries
        were sent, before the transaction waits for them and commits.
        """
        if not rows:
            return {}
        indexer = self.indexer
        with transaction.atomic(using=self.connection.alias):
            try:
                result, drafts = self.matcher.decide(
                    rows, self.options.on_duplicate, self.options.folder.pk, self.owner_id)
                self.store(drafts)
                if read_ahead is not None:
                    read_ahead()
                if indexer is not None:
                    indexer.wait()
            except BaseException as error:
                if indexer is not None:
                    indexer.__exit__(type(error), error, error.__traceback__)
                raise
            dry_run = self.options.dry_run
            for key, (status, reason, draft) in result.items():
                known = draft is not None and not (dry_run and draft.is_new)
                result[key] = (status, reason, draft.pk if known else None)
            if dry_run:
                transaction.set_rollback(True, using=self.connection.alias)
        return result

    # Writing ----------------------------------------------------------------------------------

    def store(self, drafts):
        """Write new and changed drafts, their children and tags, and index them."""
        now = timezone.now()
        for draft in drafts:
            if draft.photo is not None:
                self.store_photo(draft)
            draft.finish()
        new = [d for d in drafts if d.is_new]
        changed = [d for d in drafts if not d.is_new]
        self.insert_contacts(new, now)
        if changed:
            self.update_contacts(changed, now)
        tag_ids = self.tag_ids_for({name for d in drafts for name in d.new_tags})
        methods = [(d.pk, m[0], m[2], m[3], m[4], m[5], m[6]) for d in drafts
                   for m in d.new_methods]
        addresses = [(d.pk, *a[:9], a[9]) for d in drafts for a in d.new_addresses]
        tags = [(d.pk, tag_ids[name]) for d in drafts for name in d.new_tags]
        self.insert(ContactMethod, METHOD_COLUMNS, methods, now)
        self.insert(Address, ADDRESS_COLUMNS, addresses, now)
        self.insert(ContactTag, TAG_COLUMNS, tags, now)
        if self.indexer is not None and drafts:
            self.index(new, changed)

    def index(self, new, changed):
        """Index the batch's contacts: new ones from their values, changed ones read back.

        On PostgreSQL the last entries may still be in the making when this returns:
        :meth:`write` waits for them before the commit.
        """
        indexer = self.indexer
        if indexer.writers and new:
            texts = indexer.texts
            items = []
            for draft in new:
                values = draft.values
                methods = [(m[1], m[2], m[3]) for m in sorted(draft.methods, key=_order)]
                columns = {name: values[name] for name in texts.columns}
                items.append((draft.pk, texts.texts(draft.kind, columns, methods, "",
                                                    values["custom"])))
            indexer.write(items)
        if indexer.others and new:
            indexer.add_to_others([d.pk for d in new])
        if changed:
            indexer.add([d.pk for d in changed])

    def insert_contacts(self, drafts, now):
        if not drafts:
            return
        if self.direct:
            ids = _reserve_ids(self.connection, Contact, len(drafts))
            for pk, draft in zip(ids, drafts, strict=True):
                draft.pk = pk
            # Without custom values in the batch, the column gets its default: no JSON to encode.
            columns = CONTACT_COLUMNS if any(d.values["custom"] for d in drafts) else tuple(
                name for name in CONTACT_COLUMNS if name != "custom")
            rows = [(d.pk, d.kind, *(d.values[name] for name in columns[2:])) for d in drafts]
            self.insert(Contact, columns, rows, now)
            return
        contacts = [Contact(kind=d.kind, **{n: d.values[n] for n in CONTACT_COLUMNS[2:]})
                    for d in drafts]
        Contact.objects.bulk_create(contacts)
        for contact, draft in zip(contacts, drafts, strict=True):
            draft.pk = contact.pk

    def update_contacts(self, drafts, now):
        names = set(UPDATED_ALWAYS)
        for draft in drafts:
            names |= draft.changed
        names = sorted(names)
        contacts = []
        for draft in drafts:
            draft.values["updated_at"] = now
            contacts.append(Contact(pk=draft.pk, **{n: draft.values[n] for n in names}))
        Contact.all_objects.bulk_update(contacts, names)

    def insert(self, model, columns, rows, now):
        if not rows:
            return
        if self.direct:
            _Table(model, columns, self.connection, now).write(rows)
        else:
            model.objects.bulk_create([model(**dict(zip(columns, row, strict=True)))
                                       for row in rows])

    def tag_ids_for(self, names):
        """Primary keys of the tags named ``names``, created when missing (a few queries)."""
        missing = names - self.tag_ids.keys()
        if missing:
            self.tag_ids.update(Tag.objects.filter(name__in=missing).values_list("name", "pk"))
            missing -= self.tag_ids.keys()
        if missing:
            tag = Tag()
            slugs = {name: tag.slugify(name) for name in missing}
            used = set(Tag.objects.filter(slug__in=slugs.values()).values_list("slug", flat=True))
            created = []
            for name in sorted(missing):
                slug, n = slugs[name], 0
                while slug in used:  # rare: another tag has this slug ("VIP" and "vip")
                    n += 1
                    slug = tag.slugify(name, n)
                    if Tag.objects.filter(slug=slug).exists():
                        used.add(slug)
                used.add(slug)
                created.append(Tag(name=name, slug=slug))
            Tag.objects.bulk_create(created)
            self.tag_ids.update(Tag.objects.filter(name__in=missing).values_list("name", "pk"))
        return self.tag_ids

    def store_photo(self, draft):
        title = draft.values.get("organization_name") or " ".join(
            filter(None, (draft.values.get("given_name"), draft.values.get("family_name"))))
        image, warning = image_from_photo(draft.photo, title or "Contact photo",
                                          user=self.options.user,
                                          save=not self.options.dry_run)
        if image is not None:
            draft.values["photo_id"] = image.pk
            draft.changed.add("photo_id")
        if warning:
            draft.photo_row.warnings.append(warning)
        draft.photo = draft.photo_row = None


def _order(method):
    # ContactMethod's Meta.ordering (-is_primary, sort_order, pk) for a new contact's methods.
    return (not method[5], method[6])


#: Columns the writers fill, by attribute name (see demo._Table).
CONTACT_COLUMNS = ("id", "kind", "uid", *SCALARS, "display_name", "sort_name", "folder_id",
                   "owner_id", "photo_id", "custom", "primary_email", "primary_phone", "city",
                   "country")
METHOD_COLUMNS = ("contact_id", "type_id", "value", "normalized", "label", "is_primary",
                  "sort_order")
ADDRESS_COLUMNS = ("contact_id", "label", "is_primary", *ADDRESS_PARTS, "sort_order")
TAG_COLUMNS = ("content_object_id", "tag_id")
#: Fields a bulk update of changed contacts always writes.
UPDATED_ALWAYS = ("display_name", "sort_name", "primary_email", "primary_phone", "city",
                  "country", "updated_at")


def import_records(items: Iterable[ContactRecord | RowError], options: ImportOptions,
                   progress: Callable[[ImportReport], None] | None = None) -> ImportReport:
    """Import records (and count row errors) into ``options.folder``, a batch at a time.

    Args:
        items: what a reader yields (see :func:`read_records`).
        options: the folder, the user, what to do with duplicates...
        progress: called with the report after each batch.

    Returns:
        The :class:`ImportReport`; with ``options.dry_run`` nothing was written.

    Raises:
        ImportNotAllowed: the user may not add contacts to the folder.
    """
    check_folder(options.folder, options.user)
    report = ImportReport(dry_run=options.dry_run)
    # The objects that exist before the import (Django, the file's text) are left out of the
    # garbage collector's full passes, which would otherwise walk them again and again while
    # the import allocates its rows (about a fifth of the time).
    gc.freeze()
    try:
        importer = _Importer(options, report, progress)
        # SQLite's default page cache (2 MiB) would read the indexes' pages (UIDs, emails) from
        # the file again for every batch; demo.py's larger cache holds them for the import.
        with _sqlite_cache(importer.connection):
            importer.run(items)
    finally:
        gc.unfreeze()
    return report


def import_file(data: bytes, *, fmt: str = "auto", filename: str = "", mapping=None,
                preset: str | None = None, options: ImportOptions,
                progress: Callable[[ImportReport], None] | None = None) -> ImportReport:
    """Import a contacts file (see :func:`import_records`).

    Args:
        data: the file's bytes.
        fmt: ``auto`` (see :func:`detect_format`) or one of :data:`FORMATS`.
        filename: the file's name, whose extension helps ``auto``.
        mapping, preset: the CSV column mapping or preset (see :func:`read_records`).

    Raises:
        ImportNotAllowed: the user may not add contacts to the folder (checked first).
        UnreadableFile: the file cannot be read at all (too large, empty, binary...).
        MappingError: the CSV mapping or preset is unknown.
    """
    check_folder(options.folder, options.user)
    limit = crm_settings.IMPORT_MAX_BYTES
    if limit is not None and len(data) > limit:
        raise UnreadableFile(f"The file is larger than {limit:,} bytes "
                             f"(WAGTAIL_CRM_IMPORT_MAX_BYTES).")
    if not data.strip():
        raise UnreadableFile("The file is empty.")
    if fmt == "auto":
        fmt = detect_format(data, filename)
    items = read_records(data, fmt, mapping=mapping, preset=preset)
    return import_records(items, options, progress)


def report_csv_text(report: ImportReport) -> str:
    """The report's CSV (see :meth:`ImportReport.write_csv`) as text."""
    buffer = io.StringIO()
    report.write_csv(buffer)
    return buffer.getvalue()
