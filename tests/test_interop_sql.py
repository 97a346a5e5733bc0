"""SQL dumps: written portably, read back only inside the sandbox."""

import dataclasses
import datetime
import os

import pytest

from wagtail_crm.interop import sql
from wagtail_crm.interop.records import (
    AddressRecord,
    ContactRecord,
    Method,
    Photo,
    Related,
    RowError,
    UnreadableFile,
)
from wagtail_crm.interop.sql import (
    RelationshipRow,
    open_sql_dump,
    read_sql_dump,
    split_statements,
    write_sql_dump,
)

TRICKY = "O'Brien; DROP TABLE crm_contact; -- \"quoted\" \\n back\\slash\nnew line ü € 漢字 😀"


def dump(records, relationships=()):
    return "".join(write_sql_dump(records, relationships)).encode()


def without_lines(records):
    return [dataclasses.replace(record, line=0) for record in records]


@pytest.fixture
def records():
    ada = ContactRecord(
        uid="0f8fad5b-d9cb-469f-a165-70867728950e", formatted_name=TRICKY, given_name="Ada",
        family_name="O'Lovelace", prefix="Dr;", nickname="'", organization_name="Acme",
        department="R&D", job_title="=1+1", birthday=datetime.date(1815, 12, 10),
        notes="line 1\r\nline 2; 'quoted'\n/* not a comment */ -- nor this",
        emails=[Method("ada@example.org", ["work"], "", True), Method("a@home.example")],
        phones=[Method("+44 20 7946 0000", ["cell", "voice"], "Mobile; UK")],
        urls=[Method("https://example.org/?a=1;b='2'")],
        handles=[Method("@ada", ["mastodon"], "social")],
        addresses=[AddressRecord(street="1 High St\nFlat 2", locality="Leeds", country="GB",
                                 types=["work"], is_primary=True),
                   AddressRecord(po_box="12", label="holiday;home")],
        tags=["vip", "it's", "漢字"],
        photo=Photo(b"\xff\xd8\xff\xe0" + bytes(range(256)), "image/jpeg"),
        related=[Related("urn:uuid:7c9e6679-7425-40de-944b-e07fc1f90ae7", ["spouse"])],
        custom={"member_no": "42", "note": "a'b;c"},
    )
    acme = ContactRecord(kind="organization", uid="7c9e6679-7425-40de-944b-e07fc1f90ae7",
                         formatted_name="Acme", organization_name="Acme")
    return [ada, acme]


def test_a_dump_reads_back_equal(records):
    relationship = RelationshipRow(
        uid="r-1", type_slug="employee-of", type_name="Employee of",
        start_date=datetime.date(2001, 2, 3), is_primary=True, description=TRICKY,
        custom={"stage": "won", "revenue": 12.5},
        participants=[(records[0].uid, "employee"), (records[1].uid, "employer")],
    )
    data = dump(records, [relationship])

    assert without_lines(read_sql_dump(data)) == records
    opened = open_sql_dump(data)
    (read,) = opened.relationships()
    assert dataclasses.replace(read, line=0) == relationship
    assert read.line > 1
    opened.close()


def test_records_name_the_line_of_their_insert(records):
    data = dump(records)
    lines = data.decode().split("\n")
    (first, second) = read_sql_dump(data)
    assert first.line == second.line
    assert lines[first.line - 1].startswith("INSERT INTO crm_contact (")


def test_many_records_are_cut_into_inserts_of_a_few_hundred_rows():
    many = [ContactRecord(uid=f"u{n}", given_name=f"N{n}") for n in range(1000)]
    data = dump(many)
    assert data.count(b"INSERT INTO crm_contact ") == 5
    assert [r.given_name for r in read_sql_dump(data)] == [f"N{n}" for n in range(1000)]


def test_a_record_without_a_uid_gets_one():
    (read,) = read_sql_dump(dump([ContactRecord(given_name="Anon", tags=["x"])]))
    assert read.uid and read.tags == ["x"]


def test_a_nul_character_is_refused():
    with pytest.raises(ValueError, match="NUL"):
        dump([ContactRecord(uid="u", notes="a\x00b")])


def test_the_dump_runs_on_sqlite_as_a_plain_script(records, tmp_path):
    import sqlite3

    connection = sqlite3.connect(tmp_path / "plain.db")
    connection.executescript(dump(records).decode())
    assert connection.execute("SELECT formatted_name FROM crm_contact").fetchall()[0] == (
        TRICKY,
    )
    connection.close()


@pytest.mark.postgres_only
@pytest.mark.django_db
def test_the_dump_runs_on_postgresql(records):
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("CREATE SCHEMA crm_dump_test; SET LOCAL search_path TO crm_dump_test")
        cursor.execute(dump(records).decode())
        cursor.execute("SELECT formatted_name, birthday, notes FROM crm_contact ORDER BY uid")
        rows = cursor.fetchall()
        cursor.execute("SELECT count(*) FROM crm_contact_method WHERE is_primary")
        primaries = cursor.fetchone()[0]
        cursor.execute("SET LOCAL search_path TO DEFAULT")
    assert rows[0] == (TRICKY, datetime.date(1815, 12, 10), records[0].notes)
    assert primaries == 1


def test_statements_split_outside_strings_and_comments():
    text = (
        "-- a comment; still\nCREATE TABLE t (a TEXT);\n"
        "INSERT INTO t VALUES ('x;y'''), (\"z;\");  /* ; */\n\n"
        "INSERT INTO [t;] VALUES (`a;`)"
    )
    assert [(line, statement[:12]) for line, statement in split_statements(text)] == [
        (2, "CREATE TABLE"), (3, "INSERT INTO "), (5, "INSERT INTO "),
    ]


def test_the_dump_of_the_sqlite_shell_reads_too():
    # sqlite3's .dump writes newlines as replace(..., '\n', char(10))
    script = (
        "BEGIN TRANSACTION;\n"
        "CREATE TABLE crm_contact(uid TEXT NOT NULL, kind TEXT NOT NULL, formatted_name TEXT,"
        " prefix TEXT, given_name TEXT, additional_names TEXT, family_name TEXT, suffix TEXT,"
        " nickname TEXT, organization_name TEXT, department TEXT, job_title TEXT,"
        " birthday DATE, notes TEXT, custom_json TEXT, photo_media_type TEXT,"
        " photo_base64 TEXT);\n"
        "INSERT INTO crm_contact VALUES('u1','person','Ann',NULL,'Ann',NULL,NULL,NULL,NULL,"
        "NULL,NULL,NULL,NULL,replace('a\\nb','\\n',char(10)),NULL,NULL,NULL);\n"
        "COMMIT;\n"
    )
    (record,) = read_sql_dump(script.encode())
    assert record.notes == "a\nb" and record.related == []


def test_related_comes_from_the_participants_without_a_related_table():
    script = (
        "CREATE TABLE crm_contact (uid TEXT, kind TEXT, formatted_name TEXT, prefix TEXT,"
        " given_name TEXT, additional_names TEXT, family_name TEXT, suffix TEXT,"
        " nickname TEXT, organization_name TEXT, department TEXT, job_title TEXT,"
        " birthday DATE, notes TEXT, custom_json TEXT, photo_media_type TEXT,"
        " photo_base64 TEXT);\n"
        "CREATE TABLE crm_relationship_participant (relationship_uid TEXT, position INTEGER,"
        " contact_uid TEXT, role_slug TEXT);\n"
        "INSERT INTO crm_contact (uid, kind) VALUES ('a', 'person'),"
        " ('0f8fad5b-d9cb-469f-a165-70867728950e', 'person');\n"
        "INSERT INTO crm_relationship_participant VALUES ('r', 0, 'a', 'spouse'),"
        " ('r', 1, '0f8fad5b-d9cb-469f-a165-70867728950e', 'spouse');\n"
    )
    first, second = read_sql_dump(script.encode())
    assert first.related == [Related("urn:uuid:0f8fad5b-d9cb-469f-a165-70867728950e",
                                     ["contact"])]
    assert second.related == [Related("a", ["contact"])]


def test_bad_rows_are_row_errors_and_reading_goes_on(records):
    text = dump(records).decode() + (
        "INSERT INTO crm_contact (uid, kind, birthday) VALUES ('x', 'person', 'soon');\n"
        "INSERT INTO crm_contact (uid, kind) VALUES ('y', 'robot');\n"
        "INSERT INTO crm_contact (uid, kind, custom_json) VALUES ('z', 'person', '[1]');\n"
        f"INSERT INTO crm_contact (uid, kind) VALUES ('{records[1].uid}', 'person');\n"
    )
    results = list(read_sql_dump(text.encode()))
    errors = [r for r in results if isinstance(r, RowError)]
    assert [type(r) for r in results[:2]] == [ContactRecord, ContactRecord]
    assert [e.reason.split(" ")[0] for e in errors] == ["birthday", "kind", "custom_json", "A"]
    assert errors[0].line == text.count("\n", 0, text.index("'soon'")) + 1


# Hostile scripts --------------------------------------------------------------------------

TABLE = "CREATE TABLE t (a TEXT);\n"


@pytest.fixture
def empty_cwd(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    yield tmp_path
    assert os.listdir(tmp_path) == []  # nothing was ever written to disk


@pytest.mark.parametrize("script, message", [
    ("ATTACH DATABASE 'evil.db' AS evil;", "Line 1: only CREATE TABLE and INSERT .* not ATTACH"),
    (TABLE + "PRAGMA writable_schema = ON;", "Line 2: .* not PRAGMA"),
    (TABLE + "VACUUM INTO 'copy.db';", "Line 2: .* not VACUUM"),
    (TABLE + "\n\nDROP TABLE t;", "Line 4: .* not DROP TABLE"),
    (TABLE + "CREATE TRIGGER x AFTER INSERT ON t BEGIN DELETE FROM t; END;", "not CREATE TRIGGER"),
    (TABLE + "CREATE VIEW v AS SELECT 1;", "not CREATE VIEW"),
    (TABLE + "CREATE TEMP TABLE x (a);", "not CREATE TEMP"),
    (TABLE + "UPDATE t SET a = 1;", "not UPDATE"),
    (TABLE + "SELECT load_extension('evil');", "not SELECT"),
    (TABLE + "INSERT INTO t VALUES (load_extension('evil'));",
     r"Line 2: not authorised \(function load_extension\)"),
    (TABLE + "INSERT INTO t VALUES (zeroblob(2000000000));", r"function zeroblob"),
    (TABLE + "INSERT INTO t VALUES (randomblob(1000000000));", r"function randomblob"),
    (TABLE + "INSERT INTO t SELECT name FROM sqlite_master;", r"not authorised \(READ"),
    (TABLE + "INSERT INTO t SELECT * FROM pragma_table_info('t');", r"not authorised"),
    (TABLE + "INSERT INTO t WITH RECURSIVE c(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM c)"
     " SELECT x FROM c;", r"not authorised \(RECURSIVE\)"),
    ("CREATE TABLE t (a TEXT DEFAULT (randomblob(100)));\nINSERT INTO t DEFAULT VALUES;",
     r"Line 1: the default of t.a must be a constant, not randomblob\(100\)"),
    ("CREATE TABLE t (a TEXT CHECK (length(randomblob(10)) > 0));",
     r"Line 1: not authorised \(function length\)"),
    ("CREATE TABLE t (a TEXT, b TEXT AS (load_extension('x')));",
     r"Line 1: not authorised \(function load_extension\)"),
    ("CREATE TABLE sqlite_x (a);", r"Line 1: object name reserved"),
    (TABLE + "INSERT INTO sqlite_master VALUES (1, 2, 3, 4, 5);", "not authorised"),
    (TABLE + "INSERT INTO t VALUES ('a); ATTACH 'x' AS y; --", "does not end"),
    (TABLE + "INSERT INTO t VALUES (1); SAVEPOINT a;", "not SAVEPOINT"),
])
def test_hostile_scripts_are_refused(empty_cwd, script, message):
    with pytest.raises(UnreadableFile, match=message):
        read_sql_dump(script.encode())


def test_a_join_that_never_ends_is_stopped(empty_cwd):
    values = "(VALUES " + ", ".join(f"({n})" for n in range(100)) + ")"
    joined = ", ".join(f"{values} AS v{n}" for n in range(8))  # 10^16 rows
    never = " + ".join(f"v{n}.column1" for n in range(8)) + " < 0"
    script = TABLE + f"INSERT INTO t SELECT 'x' FROM {joined} WHERE {never};"
    with pytest.raises(UnreadableFile, match="Line 2: the script takes too long"):
        read_sql_dump(script.encode())


def test_a_join_that_fills_memory_is_stopped(empty_cwd):
    values = "(VALUES " + ", ".join(f"({n})" for n in range(100)) + ")"
    joined = ", ".join(f"{values} AS v{n}" for n in range(8))
    script = TABLE + f"INSERT INTO t SELECT 'x' FROM {joined};"
    with pytest.raises(UnreadableFile, match="Line 2: database or disk is full"):
        read_sql_dump(script.encode())


def test_a_string_built_beyond_the_value_limit_is_refused(empty_cwd):
    start = "'" + "a" * 100_000 + "'"
    grown = start
    for _ in range(4):
        grown = f"replace({grown}, 'a', 'aaaaaaaaaa')"
    with pytest.raises(UnreadableFile, match="Line 2: string or blob too big"):
        read_sql_dump((TABLE + f"INSERT INTO t VALUES ({grown});").encode())


def test_a_database_cannot_outgrow_the_script(empty_cwd, monkeypatch):
    monkeypatch.setattr(sql, "MAX_GROWTH", 0)
    row = "('" + "x" * 100_000 + "')"
    script = TABLE + "".join(f"INSERT INTO t VALUES {row};\n" for _ in range(80))
    with pytest.raises(UnreadableFile, match="full"):
        read_sql_dump(script.encode())


def test_size_and_emptiness_are_checked_first(empty_cwd):
    with pytest.raises(UnreadableFile, match="larger than 10 bytes"):
        read_sql_dump(b"CREATE TABLE t (a TEXT);", max_bytes=10)
    with pytest.raises(UnreadableFile, match="empty"):
        read_sql_dump(b"  \n")
    with pytest.raises(UnreadableFile, match="no SQL statements"):
        read_sql_dump(b"-- only a comment\n")
    with pytest.raises(UnreadableFile, match="binary"):
        read_sql_dump(b"CREATE TABLE t (a BLOB);\x00\x01\x02")
    with pytest.raises(UnreadableFile, match="no crm_contact table"):
        read_sql_dump(TABLE.encode())


def test_a_table_of_ours_with_other_columns_is_refused(empty_cwd):
    script = (
        "CREATE TABLE crm_contact (uid TEXT, name TEXT);\n"
        "INSERT INTO crm_contact VALUES ('a', 'b');"
    )
    with pytest.raises(UnreadableFile, match="crm_contact cannot be read: no such column"):
        read_sql_dump(script.encode())
