"""The crm_import command: the summary line, exit codes, options and the report file."""

import csv
import json
import os
import subprocess
import sys
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from wagtail_crm.models import Contact, Folder

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent


def card(*lines):
    return "\r\n".join(["BEGIN:VCARD", "VERSION:3.0", *lines, "END:VCARD", ""])


GOOD = card("UID:c-1", "N:Ng;Ada", "EMAIL:ada@example.com") + card(
    "UID:c-2", "N:Ox;Bo", "EMAIL:bo@example.com")
ONE_BAD = GOOD + card("NOTE:no name")


def crm_import(*args):
    out, err = StringIO(), StringIO()
    try:
        call_command("crm_import", *map(str, args), stdout=out, stderr=err)
        code = 0
    except CommandError as error:
        code = error.returncode
        err.write(str(error))
    return code, out.getvalue(), err.getvalue()


def write(tmp_path, name, data):
    path = tmp_path / name
    path.write_bytes(data.encode() if isinstance(data, str) else data)
    return path


def test_summary_line_and_default_folder(tmp_path, settings):
    settings.WAGTAIL_CRM_DEFAULT_FOLDER_NAME = "Inbox"
    code, out, _err = crm_import(write(tmp_path, "a.vcf", GOOD))
    assert code == 0
    assert "rows=2 created=2 updated=0 skipped=0 errors=0" in out.splitlines()
    assert set(Contact.objects.values_list("folder__name", flat=True)) == {"Inbox"}
    code, out, _err = crm_import(write(tmp_path, "a.vcf", GOOD))
    assert out.splitlines()[-1] == "rows=2 created=0 updated=0 skipped=2 errors=0"


def test_some_rows_failed_exits_1_and_writes_the_report(tmp_path):
    report = tmp_path / "report.csv"
    code, out, err = crm_import(write(tmp_path, "a.vcf", ONE_BAD), "--folder", "Leads",
                                "--report", report)
    assert code == 1
    assert "rows=3 created=2 updated=0 skipped=0 errors=1" in out
    assert "line 13: no name, organisation or email" in err
    rows = list(csv.reader(report.open(encoding="utf-8")))
    assert rows[0] == ["line", "status", "reason", "contact id"]
    assert [row[1] for row in rows[1:]] == ["created", "created", "error"]
    assert rows[3][:3] == ["13", "error", "line 13: no name, organisation or email"]
    assert Folder.objects.get(name="Leads").contacts.count() == 2


@pytest.mark.parametrize("data, reason", [
    (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)) * 4, "binary"),
    (b"", "empty"),
])
def test_unreadable_files_exit_2(tmp_path, data, reason):
    code, out, err = crm_import(write(tmp_path, "x.bin", data))
    assert code == 2 and reason in err and out == ""


def test_a_file_over_the_size_limit_exits_2(tmp_path, settings):
    settings.WAGTAIL_CRM_IMPORT_MAX_BYTES = 50
    code, _out, err = crm_import(write(tmp_path, "a.vcf", GOOD))
    assert code == 2 and "larger than 50 bytes" in err
    code, _out, err = crm_import(tmp_path / "missing.vcf")
    assert code == 2 and "cannot read" in err


def test_dry_run_and_on_duplicate(tmp_path):
    path = write(tmp_path, "a.vcf", GOOD)
    code, out, _err = crm_import(path, "--dry-run")
    assert code == 0 and "rows=2 created=2" in out and not Contact.objects.exists()
    crm_import(path)
    code, out, _err = crm_import(path, "--on-duplicate", "create")
    assert "created=2" in out and Contact.objects.count() == 4


def test_csv_with_a_preset_and_a_mapping_file(tmp_path):
    data = "First,Last,Mail\r\nAl,Bee,al@example.com\r\n"
    mapping = write(tmp_path, "map.json", json.dumps(
        {"First": "given_name", "Last": "family_name", "Mail": "email"}))
    code, out, _err = crm_import(write(tmp_path, "c.csv", data), "--mapping", mapping)
    assert code == 0 and "created=1" in out
    assert Contact.objects.get().primary_email == "al@example.com"
    google = "Given Name,Family Name,E-mail 1 - Value\r\nCy,Dee,cy@example.com\r\n"
    code, out, _err = crm_import(write(tmp_path, "g.csv", google), "--format", "csv",
                                 "--mapping", "google")
    assert code == 0 and "created=1" in out
    bad = write(tmp_path, "bad.json", json.dumps({"First": "shoe_size"}))
    code, _out, err = crm_import(write(tmp_path, "c.csv", data), "--mapping", bad)
    assert code == 2 and "shoe_size" in err


@pytest.fixture
def own_database_url(tmp_path):
    """A new, migrated database for commands run as processes, removed afterwards.

    The processes cannot see the test database's uncommitted rows, and their rows must not
    reach it: a SQLite file, or a new PostgreSQL database beside the test database.
    """
    from django.db import connection

    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        yield f"sqlite:///{tmp_path / 'db.sqlite3'}"
        return
    import psycopg

    name = f"{settings['NAME']}_commands"[:63]
    server = (f"postgres://{settings['USER']}@{settings['HOST'] or '127.0.0.1'}:"
              f"{settings['PORT'] or 5432}")
    with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"{server}/{name}"
    finally:
        with psycopg.connect(f"{server}/postgres", autocommit=True) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_real_exit_codes(tmp_path, own_database_url):
    """The command run as a process: 0, 1 and 2 as documented (on a database of its own)."""
    env = {**os.environ, "DATABASE_URL": own_database_url,
           "DJANGO_SETTINGS_MODULE": "tests.settings", "PYTHONPATH": str(ROOT)}

    def run(*args):
        return subprocess.run(
            [sys.executable, "-m", "django", *map(str, args)],
            env=env, capture_output=True, text=True, timeout=300, cwd=ROOT,
        )

    migrated = run("migrate", "--verbosity", "0")
    assert migrated.returncode == 0, migrated.stderr

    done = run("crm_import", write(tmp_path, "a.vcf", GOOD))
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "rows=2 created=2 updated=0 skipped=0 errors=0"
    done = run("crm_import", write(tmp_path, "b.vcf", ONE_BAD))
    assert done.returncode == 1
    assert "rows=3 created=0 updated=0 skipped=2 errors=1" in done.stdout
    done = run("crm_import", write(tmp_path, "c.vcf", bytes(range(256)) * 8))
    assert done.returncode == 2 and "binary" in done.stderr
    assert "Traceback" not in done.stderr
