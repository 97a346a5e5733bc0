"""Contacts added to Wagtail's database search index in bulk, a few statements per batch.

The backends of ``modelsearch.backends.database`` index an object by reading its search fields
through the model once per index column and, on PostgreSQL, compiling a Django expression for
every text. For the SQLite FTS5 and PostgreSQL backends, :class:`ContactIndexer` instead takes
the texts of a batch of contacts (read with two queries by :class:`ContactTexts`, or computed by
the caller from values it has) and writes their index entries with one statement, giving the
rows the backend's ``add_bulk`` gives (tests/test_demo_data.py compares them on both
databases). Other backends, and search fields ContactTexts cannot compute from values, go
through ``add_bulk``. :func:`index_contacts` indexes contacts by primary key.
"""

import json
from types import SimpleNamespace

try:
    import psycopg
except ImportError:  # No PostgreSQL driver: PostgresEntries is never used.
    psycopg = None

from django.core.exceptions import FieldDoesNotExist
from django.db import models, router, transaction
from modelsearch.conf import get_app_config
from modelsearch.index import AutocompleteField, FilterField, SearchField
from modelsearch.utils import get_content_type_pk
from wagtail.search.backends import get_search_backends

from ..models import Contact, ContactMethod, MethodScheme
from ..models.contacts import searchable_custom_keys

#: Search fields that are Contact methods, computed here from rows instead of instances.
COMPUTED_FIELDS = ("method_values", "organization_label", "custom_search_text")


class UnsupportedSearchFields(Exception):
    """Contact has a search field whose text :class:`ContactTexts` cannot compute from rows."""


class ContactTexts:
    """The text of every search field of contacts, from plain values instead of instances.

    Texts are those the backends read from model instances: text columns as stored, and the
    methods of :data:`COMPUTED_FIELDS` computed from the same values by the model's own
    ``ContactMethod.search_text`` and ``Contact.custom_search_text``, called on lightweight
    stand-ins holding just the attributes they read.

    Attributes:
        fields: Contact's search and autocomplete fields, in declaration order.
        names: the distinct field names of ``fields``.
        columns: the names among ``names`` that are text columns of the contact table.

    Raises:
        UnsupportedSearchFields: when a search field is neither a plain text column nor one of
            :data:`COMPUTED_FIELDS` (a related field, say).
    """

    def __init__(self):
        self.fields = []
        for field in Contact.get_search_fields():
            if isinstance(field, (SearchField, AutocompleteField)):
                self.fields.append(field)
            elif not isinstance(field, FilterField):
                raise UnsupportedSearchFields(field)
        self.names = list(dict.fromkeys(field.field_name for field in self.fields))
        self.columns = [name for name in self.names if name not in COMPUTED_FIELDS]
        for name in self.columns:
            try:
                model_field = Contact._meta.get_field(name)
            except FieldDoesNotExist:
                raise UnsupportedSearchFields(name) from None
            if type(model_field) not in (models.CharField, models.TextField):
                raise UnsupportedSearchFields(name)
        self.custom_keys = searchable_custom_keys()
        self.phone_texts = {}

    def texts(self, kind, columns, methods, organization_label, custom):
        """The texts of one contact, by search field name.

        Args:
            kind: the contact's kind.
            columns: the values of the text columns of :attr:`columns`, by name.
            methods: ``(scheme, value, normalized)`` of the contact's methods, in the order of
                ContactMethod's Meta.ordering (the order of the prefetched ``methods``).
            organization_label: the display name of the contact's primary organisation, or "".
            custom: the contact's custom field values.
        """
        texts = {name: columns[name] for name in self.columns}
        texts["method_values"] = " ".join(self.method_text(*method) for method in methods)
        texts["organization_label"] = organization_label
        texts["custom_search_text"] = ""
        if self.custom_keys.get(kind):
            stand_in = SimpleNamespace(kind=kind, custom=custom, _searchable_keys=self.custom_keys)
            texts["custom_search_text"] = Contact.custom_search_text(stand_in)
        return texts

    def method_text(self, scheme, value, normalized):
        """``ContactMethod.search_text()`` of one method.

        Phone numbers repeat across contacts and cost a parse each, so their texts are kept.
        """
        phone = scheme == MethodScheme.PHONE
        text = self.phone_texts.get((value, normalized)) if phone else None
        if text is None:
            stand_in = SimpleNamespace(scheme=scheme, value=value, normalized=normalized)
            text = ContactMethod.search_text(stand_in)
            if phone:
                self.phone_texts[value, normalized] = text
        return text

    def read(self, pks):
        """Yield ``(pk, texts)`` for the contacts of ``pks`` that are not in the trash.

        Contacts come in primary key order, as ``Contact.get_indexed_objects()`` gives them;
        two queries read everything.
        """
        methods = {}
        rows = ContactMethod.objects.filter(contact_id__in=pks).order_by(
            "contact_id", *ContactMethod._meta.ordering
        ).values_list("contact_id", "type__scheme", "value", "normalized")
        for contact_id, *method in rows:
            methods.setdefault(contact_id, []).append(method)
        rows = Contact.objects.filter(pk__in=pks).order_by("pk").values_list(
            "pk", "kind", "custom", "primary_organization__display_name", *self.columns
        )
        for pk, kind, custom, organization, *values in rows:
            columns = dict(zip(self.columns, values, strict=True))
            yield pk, self.texts(kind, columns, methods.get(pk, ()), organization or "", custom)


class SQLiteEntries:
    """Writes index entries for modelsearch's SQLite FTS5 backend, as its ``add_items`` does.

    The entries' title, body and autocomplete columns hold the texts joined by spaces; the
    table's triggers copy them into the FTS5 table.
    """

    def __init__(self, index, texts):
        self.index = index
        self.connection = index.write_connection
        searched = [f.field_name for f in texts.fields if isinstance(f, SearchField)]
        self.title = [name for name in searched if name == "title"]
        self.body = [name for name in searched if name != "title"]
        self.autocomplete = [f.field_name for f in texts.fields
                             if isinstance(f, AutocompleteField)]
        table = self.connection.ops.quote_name(_index_table())
        self.sql = (
            f"INSERT INTO {table} (content_type_id, object_id, title_norm, title, autocomplete, "
            f"body) VALUES (%s, %s, 1.0, %s, %s, %s) "
            f"ON CONFLICT (content_type_id, object_id) DO UPDATE SET title = excluded.title, "
            f"autocomplete = excluded.autocomplete, body = excluded.body"
        )

    def write(self, content_type, items):
        """Add or update the entries of ``items``, ``(pk, texts)`` pairs from ContactTexts."""
        rows = [
            (
                content_type,
                str(pk),
                " ".join(texts[name] for name in self.title),
                " ".join(texts[name] for name in self.autocomplete),
                " ".join(texts[name] for name in self.body),
            )
            for pk, texts in items
        ]
        with self.connection.cursor() as cursor:
            cursor.executemany(self.sql, rows)

    def wait(self):
        """Nothing to wait for: :meth:`write` returns when the entries are written."""

    def close(self, error=None):
        """Nothing to close."""

    def finish(self):
        """What ``add_items`` does after every batch, done once."""
        self.index._refresh_title_norms()


class PostgresEntries:
    """Writes index entries for modelsearch's PostgreSQL backend, as its ``add_items`` does.

    PostgreSQL builds the vectors from the texts of a whole batch, passed as one JSON array:
    each text becomes ``setweight(to_tsvector(config, text), weight)`` and a column's vectors
    are concatenated in search field order. Texts are stripped and blank ones left out as the
    backend does (an empty vector concatenates to the same result as leaving it out).

    Building the vectors and their GIN index entries is most of the work, so :meth:`write`
    sends the statement in psycopg's pipeline mode and returns at once: PostgreSQL works on it
    while the caller prepares the next batch. The connection must be left alone until
    :meth:`wait` (or the next :meth:`write`) has collected the result; :meth:`close` ends the
    pipeline when the caller fails in between.
    """

    def __init__(self, index, texts):
        from modelsearch.backends.database.postgres.weights import get_weight

        self.index = index
        self.connection = index.write_connection
        self.pipeline = None
        backend = index.backend
        # (column, field name, weight, text search configuration), in search field order.
        parts = []
        for field in texts.fields:
            if isinstance(field, AutocompleteField):
                parts.append(("autocomplete", field.field_name, "D", backend.autocomplete_config))
            elif field.field_name == "title":
                parts.append(("title", field.field_name, get_weight(field.boost), backend.config))
            else:
                parts.append(("body", field.field_name, get_weight(field.boost), backend.config))
        self.names = [name for _column, name, _weight, _config in parts]
        self.title = [i for i, part in enumerate(parts) if part[0] == "title"]
        self.body = [i for i, part in enumerate(parts) if part[0] == "body"]
        # Each column's vector, with the parameters (text search configurations) it takes.
        vectors = {"title": ([], []), "autocomplete": ([], []), "body": ([], [])}
        for position, (column, _name, weight, config) in enumerate(parts):
            text = f"(e->>{position + 3})"
            sql, params = vectors[column]
            regconfig = ""
            if config:
                regconfig = "%s::regconfig, "
                params.append(config)
            sql.append(
                f"CASE WHEN {text} = '' THEN ''::tsvector "
                f"ELSE setweight(to_tsvector({regconfig}{text}), '{weight}') END"
            )
        columns = ("title", "autocomplete", "body")
        title, autocomplete, body = (" || ".join(vectors[c][0]) or "''::tsvector" for c in columns)
        self.params = [param for c in columns for param in vectors[c][1]]
        table = self.connection.ops.quote_name(_index_table())
        self.sql = (
            f"INSERT INTO {table} (content_type_id, object_id, title, autocomplete, body, "
            f"title_norm, title_text, body_text) "
            f"SELECT %s, e->>0, {title}, {autocomplete}, {body}, 1.0, e->>1, e->>2 "
            f"FROM jsonb_array_elements(%s::jsonb) AS e "
            f"ON CONFLICT (content_type_id, object_id) DO UPDATE SET "
            f"title = EXCLUDED.title, title_norm = 1.0, autocomplete = EXCLUDED.autocomplete, "
            f"body = EXCLUDED.body, title_text = EXCLUDED.title_text, "
            f"body_text = EXCLUDED.body_text"
        )

    def write(self, content_type, items):
        """Add or update the entries of ``items``, ``(pk, texts)`` pairs from ContactTexts."""
        rows = []
        for pk, texts in items:
            row = [str(pk), "", ""]
            row.extend(texts[name].strip() for name in self.names)
            row[1] = " ".join(row[i + 3] for i in self.title if row[i + 3])
            row[2] = " ".join(row[i + 3] for i in self.body if row[i + 3])
            rows.append(row)
        data = json.dumps(rows, ensure_ascii=False, separators=(",", ":"))
        self.wait()
        raw = self.connection.connection
        with self.connection.wrap_database_errors:
            self.pipeline = raw.pipeline()
            self.pipeline.__enter__()
            # A cursor binding on the server: the JSON goes as a parameter, not into the SQL.
            psycopg.Cursor(raw).execute(self.sql, [content_type, *self.params, data])

    def wait(self):
        """Wait until the statement sent by :meth:`write` is done; raise its error if it failed."""
        pipeline, self.pipeline = self.pipeline, None
        if pipeline:
            with self.connection.wrap_database_errors:
                pipeline.__exit__(None, None, None)

    def close(self, error=None):
        """End the pipeline, when the caller leaves its block with or without ``error``.

        Without an error this is :meth:`wait`. With one, a failure of the statement is only
        logged by psycopg, so that the caller's ``error`` is the one raised.
        """
        if error is None:
            self.wait()
            return
        pipeline, self.pipeline = self.pipeline, None
        if pipeline:
            pipeline.__exit__(type(error), error, error.__traceback__)

    def finish(self):
        """What ``add_items`` does after every batch, done once."""
        self.index._refresh_title_norms()


def _index_table():
    return get_app_config().get_model("IndexEntry")._meta.db_table


def direct_entries(backend, texts):
    """The writer of index entries for ``backend``, or None when it has none here."""
    index = backend.get_index_for_model(Contact)
    try:
        from modelsearch.backends.database.sqlite.sqlite import SQLiteIndex
    except (ImportError, LookupError):  # Not on SQLite, or SQLite without FTS5.
        SQLiteIndex = None
    if SQLiteIndex and isinstance(index, SQLiteIndex):
        return SQLiteEntries(index, texts)
    try:
        from modelsearch.backends.database.postgres.postgres import PostgresIndex
    except ImportError:  # psycopg is not installed: no PostgreSQL backend.
        PostgresIndex = None
    if PostgresIndex and psycopg and isinstance(index, PostgresIndex):
        return PostgresEntries(index, texts)
    return None


class ContactIndexer:
    """Adds contacts to every auto-updated Wagtail search backend, in bulk.

    The database backends of SQLite (FTS5) and PostgreSQL get their entries written directly
    (see :class:`SQLiteEntries` and :class:`PostgresEntries`), from texts read with
    :class:`ContactTexts` or given by the caller. Other backends, or all of them when Contact
    has a search field ContactTexts cannot compute, get the contacts through ``add_bulk``,
    read with ``Contact.get_indexed_objects()``.

    Use it as a context manager around its writes, inside the transaction: PostgreSQL's
    entries are still being written when :meth:`write` returns, and the block's end waits for
    them (see :meth:`wait`).

    Attributes:
        texts: the :class:`ContactTexts`, or None when the direct writers cannot be used.
        writers: the direct writers.
        others: the backends that get ``add_bulk``.
    """

    def __init__(self):
        try:
            self.texts = ContactTexts()
        except UnsupportedSearchFields:
            self.texts = None
        self.writers, self.others = [], []
        for backend in get_search_backends(with_auto_update=True):
            writer = direct_entries(backend, self.texts) if self.texts else None
            if writer:
                self.writers.append(writer)
            else:
                self.others.append(backend)
        self.content_type = get_content_type_pk(Contact)
        self.computed = _computed_search_fields(Contact)

    def __enter__(self):
        return self

    def __exit__(self, error_type, error, traceback):
        for writer in self.writers:
            writer.close(error)

    def write(self, items):
        """Give the direct writers ``items``, ``(pk, texts)`` pairs (see ContactTexts.texts).

        The entries may still be in the making when this returns: call :meth:`wait` before
        using the connection again.
        """
        for writer in self.writers:
            writer.write(self.content_type, items)

    def wait(self):
        """Wait until the entries given to :meth:`write` are written."""
        for writer in self.writers:
            writer.wait()

    def add(self, pks):
        """Index the contacts of ``pks`` that are not in the trash; return how many there were."""
        count = 0
        self.wait()
        if self.writers:
            items = list(self.texts.read(pks))
            self.write(items)
            count = len(items)
        if self.others:
            objects = _indexed_objects(pks, self.computed)
            for backend in self.others:
                backend.add_bulk(Contact, objects)
            count = len(objects)
        return count

    def add_to_others(self, pks, *, batch_size=2000):
        """Give the contacts of ``pks`` to :attr:`others` only, in batches."""
        self.wait()
        for start in range(0, len(pks), batch_size):
            objects = _indexed_objects(pks[start:start + batch_size], self.computed)
            for backend in self.others:
                backend.add_bulk(Contact, objects)

    def finish(self):
        """Refresh what the direct writers' backends refresh after each batch, once."""
        self.wait()
        for writer in self.writers:
            writer.finish()


def index_contacts(pks, *, batch_size=2000, progress=None):
    """Add contacts to every auto-updated Wagtail search backend, in bulk.

    Bulk inserts skip the save signals that normally index a contact, so this does it in
    batches, in one transaction (see :class:`ContactIndexer`). Contacts in the trash are left
    out.

    Args:
        pks: primary keys of the contacts to index.
        batch_size: contacts per batch.
        progress: optional callable receiving a short message after each batch.

    Returns:
        The number of contacts indexed.
    """
    pks = list(pks)
    indexer = ContactIndexer()
    done = 0
    with transaction.atomic(using=router.db_for_write(Contact)), indexer:
        for start in range(0, len(pks), batch_size):
            done += indexer.add(pks[start:start + batch_size])
            if progress:
                progress(f"{done} indexed")
        indexer.finish()
    return done


def _indexed_objects(pks, computed):
    """The contacts of ``pks`` as ``add_bulk`` takes them, with their computed fields pinned."""
    objects = []
    queryset = Contact.get_indexed_objects().order_by("pk")
    for obj in queryset.filter(pk__in=pks):
        if obj.get_indexed_instance() is not None:
            _pin_values(obj, computed)
            objects.append(obj)
    return objects


def _computed_search_fields(model):
    """Names of the search fields of ``model`` that are methods rather than model fields."""
    names = set()
    for search_field in model.get_search_fields():
        try:
            search_field.get_field(model)
        except FieldDoesNotExist:
            names.add(search_field.field_name)
    return names


def _pin_values(obj, names):
    """Replace the methods ``names`` of ``obj`` by their values, computed once.

    The database backends read every search field once per index column (three times on
    SQLite, five on PostgreSQL, and twice more for a field that is both searched and
    autocompleted), so a method such as ``method_values`` would run up to ten times.
    """
    for name in names:
        method = getattr(obj, name, None)
        if callable(method):
            value = method()
            setattr(obj, name, lambda value=value: value)

