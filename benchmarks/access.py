"""What folder access costs the people listing: a user who sees 3 folders against a superuser.

    python benchmarks/access.py --contacts 100000 [--folders 20] [--repeat 20] [--seed 1]
                                [--database-url postgres://.../crm_bench_access]

Builds the contacts in a fresh database (see benchmarks/README.md) and spreads them evenly over
``--folders`` folders, then times the people listing (first page, a search, page 50) through
Django's test client for both users, taking turns so that both meet the same background load.
Prints median and p95 per user, the ratio user/superuser with a verdict against the goal, and
the SQL of the restricted user's listing (it filters by folder ids: no check per row).
"""

import argparse
import math
import re
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import fill, fresh_database, setup_django  # noqa: E402

#: The restricted user's listing must take at most this many times the superuser's.
GOAL_RATIO = 1.5
#: How many folders the restricted user's group may view.
VIEWED_FOLDERS = 3
PEOPLE = "/admin/crm/people/"


def percentile(samples, fraction):
    """The nearest-rank percentile of ``samples``."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def spread_over_folders(count):
    """Move every contact to one of ``count`` new folders, by id, and drop the emptied ones."""
    from django.db.models import Case, Value, When
    from django.db.models.functions import Mod
    from django.db.models.lookups import Exact

    from wagtail_crm.models import Contact, Folder

    old = list(Folder.objects.values_list("pk", flat=True))
    folders = [Folder.objects.create(name=f"Bench folder {n + 1:02}") for n in range(count)]
    Contact.all_objects.update(folder_id=Case(*[
        When(Exact(Mod("id", count), n), then=Value(folder.pk))
        for n, folder in enumerate(folders)
    ]))
    Folder.objects.filter(pk__in=old, contacts__isnull=True).delete()
    return folders


def restricted_user(folders):
    """A Wagtail admin user whose one group may view ``folders``, and nothing else."""
    from django.contrib.auth import get_user_model
    from django.contrib.auth.models import Group, Permission

    from wagtail_crm.models import AccessLevel, FolderAccess

    user = get_user_model().objects.create_user("viewer", "viewer@example.com", "viewer")
    user.user_permissions.add(
        Permission.objects.get(content_type__app_label="wagtailadmin", codename="access_admin")
    )
    group = Group.objects.create(name="Viewers of three folders")
    for folder in folders:
        FolderAccess.objects.create(folder=folder, group=group, level=AccessLevel.VIEW)
    user.groups.add(group)
    return user


def logged_in(user):
    from django.test import Client

    client = Client()
    client.force_login(user)
    return client


def requests_to_time(viewer):
    """(label, URL) of each request; page 50, or the viewer's last page if they have fewer."""
    from django.db.models import Count

    from wagtail_crm.models import CRMSettings, Person
    from wagtail_crm.permissions import contact_policy

    family = (
        Person.objects.values("family_name").annotate(n=Count("id")).order_by("-n").first()
    )["family_name"]
    seen = contact_policy.filter_queryset(Person.objects.all(), viewer, "view").count()
    page = max(1, min(50, math.ceil(seen / CRMSettings.load().items_per_page)))
    return [
        ("people, first page", PEOPLE),
        (f"people, search ?q={family}", f"{PEOPLE}?q={family}"),
        (f"people, page {page}", f"{PEOPLE}?p={page}"),
    ]


def capture(client, url):
    """Status, and the SQL of each query, of one request."""
    from django.db import connection

    queries = []

    def record(execute, sql, params, many, context):
        result = execute(sql, params, many, context)
        queries.append(connection.ops.last_executed_query(context["cursor"], sql, params))
        return result

    # A wrapper rather than connection.queries: the test client empties it at each request.
    with connection.execute_wrapper(record):
        status = client.get(url).status_code
    return status, queries


def time_in_turns(clients, urls, repeat):
    """{(user, url): [milliseconds]}: each round asks every URL once as each user, in turn."""
    samples = {(user, url): [] for user in clients for _label, url in urls}
    for _round in range(repeat):
        for _label, url in urls:
            for user, client in clients.items():
                started = time.perf_counter()
                client.get(url)
                samples[user, url].append((time.perf_counter() - started) * 1000)
    return samples


def shortened(sql):
    return re.sub(r"^SELECT ((?:(?! FROM ).){100,}) FROM",
                  lambda m: f"SELECT <{m.group(1).count(',') + 1} columns> FROM", sql)


def reading(queries, *models):
    """The queries that read the tables of ``models``."""
    tables = [model._meta.db_table for model in models]
    return [sql for sql in queries if any(f'FROM "{table}"' in sql for table in tables)]


def query_plan(sql):
    """The database's plan for ``sql`` (as logged, with its parameters in place)."""
    from django.db import connection

    explain = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN "
    with connection.cursor() as cursor:
        cursor.execute(explain + sql)
        return [str(row[-1]) for row in cursor.fetchall()]


def print_restricted_sql(checks, urls):
    """The access policy's queries, then how the first page and the search read contacts."""
    from wagtail_crm.models import Contact, FolderAccess

    (_label, first_page), (_label, search) = urls[:2]
    queries = checks["3 folders", first_page][1]
    print("\nSQL of the restricted user (column lists shortened). Folder levels, once a request:")
    for sql in reading(queries, FolderAccess) + [q for q in queries if "owner_id\" = " in q]:
        print(f"  {shortened(sql)}")
    print(f"{first_page}: count and page")
    contacts = reading(queries, Contact)
    for sql in contacts:
        print(f"  {shortened(sql)}")
    print("  plan of the page:")
    for line in query_plan(contacts[-1]):
        print(f"    {line}")
    print(f"{search}: count")
    for sql in reading(checks["3 folders", search][1], Contact):
        if sql.startswith("SELECT COUNT(*)"):
            print(f"  {shortened(sql)}")


def run(args):
    from django.contrib.auth import get_user_model
    from django.db import connection

    from wagtail_crm.models import Contact, Person

    started = time.perf_counter()
    result = fill(args.contacts, args.seed)
    folders = spread_over_folders(args.folders)
    viewer = restricted_user(folders[:VIEWED_FOLDERS])
    superuser = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench")
    if connection.vendor in ("sqlite", "postgresql"):
        # Moving every contact changed the folder column: refresh the planner's statistics.
        connection.cursor().execute(f"ANALYZE {Contact._meta.db_table}")
    visible = Person.objects.filter(folder__in=folders[:VIEWED_FOLDERS]).count()
    print(
        f"Data: {result.people} people, {result.organizations} organisations over "
        f"{args.folders} folders in {time.perf_counter() - started:.1f} s; the restricted user "
        f"views {VIEWED_FOLDERS} folders ({visible} people)",
        flush=True,
    )
    clients = {"superuser": logged_in(superuser), "3 folders": logged_in(viewer)}
    urls = requests_to_time(viewer)
    checks = {(user, url): capture(client, url) for user, client in clients.items()
              for _label, url in urls}
    samples = time_in_turns(clients, urls, args.repeat)

    print(f"\n{connection.vendor}, {args.contacts} contacts, {args.repeat} requests each per "
          f"user, taking turns, {datetime.now():%Y-%m-%d %H:%M}")
    print(f"{'request':34} {'user':10} {'median ms':>10} {'p95 ms':>8} {'queries':>8} "
          f"{'status':>7} {'ratio':>6}")
    failures = []
    for label, url in urls:
        base = statistics.median(samples["superuser", url])
        for user in clients:
            median = statistics.median(samples[user, url])
            status, queries = checks[user, url]
            ratio = median / base
            print(f"{label:34} {user:10} {median:10.1f} {percentile(samples[user, url], 0.95):8.1f}"
                  f" {len(queries):8} {status:7} {ratio:5.2f}x")
            if status != 200 or ratio > GOAL_RATIO:
                failures.append(f"{label} ({user})")
    if failures:
        print(f"VERDICT: FAIL, not 200 or median above {GOAL_RATIO}x a superuser's: "
              f"{', '.join(failures)}")
    else:
        print(f"VERDICT: PASS, the restricted user's median is within {GOAL_RATIO}x a "
              f"superuser's on every request")

    print_restricted_sql(checks, urls)
    return 1 if failures else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--folders", type=int, default=20)
    parser.add_argument("--database-url", default=None,
                        help="postgres://user@host:port/<new database>; default: temporary SQLite")
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per URL and user")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    if args.folders < VIEWED_FOLDERS:
        parser.error(f"--folders must be at least {VIEWED_FOLDERS}")
    with fresh_database(args.database_url) as database_url:
        setup_django(database_url)
        return run(args)


if __name__ == "__main__":
    sys.exit(main())
