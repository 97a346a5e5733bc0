"""What the benchmarks share: a fresh database, Django configured on it, demo contacts.

Django runs with ``tests.settings`` (DEBUG off, the same apps and admin URLs as the test suite);
``DATABASE_URL`` is set to the fresh database before the settings are read.
"""

import contextlib
import os
import shutil
import sys
import tempfile
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent


@contextlib.contextmanager
def fresh_database(database_url=None):
    """Yield the URL of a new, empty database, and remove the database afterwards.

    Args:
        database_url: None for a SQLite file in a temporary directory, or a ``postgres://`` URL
            naming a database that does not exist yet: it is created, then dropped.
    """
    if not database_url:
        directory = tempfile.mkdtemp(prefix="crm-bench-")
        try:
            yield f"sqlite:///{directory}/bench.sqlite3"
        finally:
            _close_django_connections()
            shutil.rmtree(directory, ignore_errors=True)
        return
    import psycopg
    from psycopg import sql

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if parts.scheme not in ("postgres", "postgresql", "pgsql") or not name:
        raise SystemExit(f"--database-url must be postgres://.../<new database>: {database_url}")
    maintenance = urlunsplit(parts._replace(scheme="postgresql", path="/postgres"))
    with psycopg.connect(maintenance, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if exists:
            raise SystemExit(f"Database {name!r} already exists: choose a new name.")
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield database_url
    finally:
        _close_django_connections()
        with psycopg.connect(maintenance, autocommit=True) as conn:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(name)))


def _close_django_connections():
    if "django.db" in sys.modules:
        from django.db import connections

        connections.close_all()


def setup_django(database_url):
    """Configure Django with tests.settings on ``database_url`` and migrate it."""
    os.environ["DATABASE_URL"] = database_url
    os.environ["DJANGO_SETTINGS_MODULE"] = "tests.settings"
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)


def fill(contacts, seed, analyze=True, batch_size=2000):
    """Create ``contacts`` demo contacts, indexed for search.

    Args:
        contacts: how many contacts.
        seed: seed of the generator.
        analyze: refresh the planner statistics afterwards, as ``crm_demo_data`` does.
        batch_size: contacts per bulk insert.

    Returns:
        The :class:`wagtail_crm.services.demo.DemoResult`.
    """
    from wagtail_crm.services.demo import create_demo_contacts

    return create_demo_contacts(contacts, seed=seed, batch_size=batch_size, analyze=analyze)
