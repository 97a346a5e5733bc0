import pytest
from django.conf import settings

from tests.factories import SuperuserFactory

#: Fixtures of a real browser (chromium, browser_page) for the tests that need one.
pytest_plugins = ["tests.browser"]

#: Markers of tests that apply to one database only, and the engine each needs.
DATABASE_MARKERS = {
    "postgres_only": "django.db.backends.postgresql",
    "sqlite_only": "django.db.backends.sqlite3",
}


def check_transactional(item):
    """A test that commits must restore the migrations' rows (seeded types, Wagtail's root
    page) afterwards: ``serialized_rollback=True``. Mixing the two kinds breaks the suite:
    a plain flush re-creates content types that the next restore then inserts twice."""
    for marker in item.iter_markers("django_db"):
        if marker.kwargs.get("transaction") and not marker.kwargs.get("serialized_rollback"):
            raise pytest.UsageError(
                f"{item.nodeid}: django_db(transaction=True) needs serialized_rollback=True"
            )


def pytest_collection_modifyitems(config, items):
    """Leave out (deselect, not skip) the tests written for the other database: the suite runs
    once on each, so every test runs in one of the two runs."""
    engine = settings.DATABASES["default"]["ENGINE"]
    kept, left_out = [], []
    for item in items:
        check_transactional(item)
        markers = (marker.name for marker in item.iter_markers())
        needs = [DATABASE_MARKERS[name] for name in markers if name in DATABASE_MARKERS]
        (left_out if needs and engine not in needs else kept).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = kept


@pytest.fixture
def superuser(db):
    return SuperuserFactory(username="admin")


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client
