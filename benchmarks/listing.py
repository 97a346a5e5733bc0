"""Server time of the people listings and the contact page at scale, against a raw-SQL baseline.

    python benchmarks/listing.py --contacts 100000 [--database-url postgres://.../crm_bench]
                                 [--repeat 20] [--budget 60] [--seed 1] [--no-analyze]

Builds the contacts in a fresh database (see benchmarks/README.md), then times requests through
Django's test client logged in as a superuser, and prints a table and a verdict.
"""

import argparse
import math
import signal
import statistics
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import fill, fresh_database, setup_django  # noqa: E402

#: Every listing request must answer within this p95, in milliseconds.
GOAL_P95_MS = 150


def percentile(samples, fraction):
    """The nearest-rank percentile of ``samples``."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


def time_request(client, url, repeat, budget):
    """Return (milliseconds per request, queries of one request, status code).

    After a warm-up request whose queries are counted, requests are timed ``repeat`` times, or
    fewer (at least once) when they have taken ``budget`` seconds in all.
    """
    from django.db import connection

    queries = []

    def count(execute, sql, params, many, context):
        queries.append(sql)
        return execute(sql, params, many, context)

    # Counted with a wrapper: the test client empties connection.queries at each request.
    with connection.execute_wrapper(count):
        status = client.get(url).status_code
    samples = []
    while len(samples) < repeat and (not samples or sum(samples) < budget * 1000):
        started = time.perf_counter()
        client.get(url)
        samples.append((time.perf_counter() - started) * 1000)
    return samples, len(queries), status


def raw_first_page(per_page):
    """The first page of people, its count and tags, hand-written, through the DB-API cursor."""
    from django.db import connection

    from wagtail_crm.models import Contact, ContactTag

    contacts, tagged = Contact._meta.db_table, ContactTag._meta.db_table
    page = (
        f"SELECT c.id, c.display_name, c.primary_email, c.primary_phone, o.display_name, "
        f"c.city, c.country FROM {contacts} c "
        f"LEFT JOIN {contacts} o ON o.id = c.primary_organization_id "
        f"WHERE c.kind = 'person' AND c.deleted_at IS NULL "
        f"ORDER BY c.sort_name, c.id LIMIT {per_page} OFFSET 0"
    )
    count = f"SELECT COUNT(*) FROM {contacts} WHERE kind = 'person' AND deleted_at IS NULL"
    connection.ensure_connection()
    cursor = connection.connection.cursor()

    def run():
        cursor.execute(page)
        ids = ",".join(str(row[0]) for row in cursor.fetchall())
        cursor.execute(count)
        cursor.fetchall()
        cursor.execute(
            f"SELECT t.content_object_id, g.name FROM {tagged} t "
            f"JOIN taggit_tag g ON g.id = t.tag_id WHERE t.content_object_id IN ({ids})"
        )
        cursor.fetchall()

    return run


def time_raw(run, repeat):
    for _warm_up in range(2):
        run()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        run()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def requests_to_time():
    """(label, URL, held to the goal) for each request, with ids and names from the data."""
    from django.db.models import Count

    from wagtail_crm.models import Folder, Person

    family = (
        Person.objects.values("family_name").annotate(n=Count("id")).order_by("-n").first()
    )["family_name"]
    folder = Folder.objects.get(name="Sales")
    people = Person.objects.filter(primary_organization__isnull=False).order_by("pk")
    contact = people[people.count() // 2]
    return [
        ("people, first page (default order)", "/admin/crm/people/", True),
        ("people, first page ?ordering=sort_name", "/admin/crm/people/?ordering=sort_name", True),
        ("people, page 500", "/admin/crm/people/?p=500", True),
        ("people, ?country=FR", "/admin/crm/people/?country=FR", True),
        ("people, ?folder=Sales", f"/admin/crm/people/?folder={folder.pk}", True),
        (f"people, search ?q={family}", f"/admin/crm/people/?q={family}", True),
        ("organisations, first page", "/admin/crm/organisations/", True),
        ("contact page (inspect)", f"/admin/crm/people/inspect/{contact.pk}/", False),
        # Not a goal: what an admin listing that reads no contacts costs on this machine.
        ("floor: custom fields listing (empty)", "/admin/crm/custom-fields/", False),
    ]


def run(args):
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client

    from wagtail_crm.models import CRMSettings

    started = time.perf_counter()
    result = fill(args.contacts, args.seed, analyze=not args.no_analyze)
    print(
        f"Data: {result.people} people, {result.organizations} organisations in "
        f"{result.create_seconds:.1f} s, indexed in {result.index_seconds:.1f} s, "
        f"ANALYZE {'skipped' if args.no_analyze else f'in {result.analyze_seconds:.1f} s'} "
        f"({time.perf_counter() - started:.1f} s in all)",
        flush=True,
    )
    user = get_user_model().objects.create_superuser("bench", "bench@example.com", "bench")
    client = Client()
    client.force_login(user)
    rows, failures = [], []
    for label, url, is_listing in requests_to_time():
        samples, queries, status = time_request(client, url, args.repeat, args.budget)
        rows.append((label, statistics.median(samples), percentile(samples, 0.95), queries,
                     status, len(samples)))
        if is_listing and (status != 200 or rows[-1][2] > GOAL_P95_MS):
            failures.append(label)
    per_page = CRMSettings.load().items_per_page
    raw = time_raw(raw_first_page(per_page), args.repeat)
    raw_row = ("raw SQL first page (DB-API cursor)", statistics.median(raw),
               percentile(raw, 0.95), 3, "", len(raw))

    print(f"\n{connection.vendor}, {args.contacts} contacts, {args.repeat} requests each, "
          f"{datetime.now():%Y-%m-%d %H:%M}")
    print(f"{'request':44} {'median ms':>10} {'p95 ms':>9} {'n':>3} {'queries':>8} {'status':>7}")
    for label, median, p95, queries, status, count in [*rows, raw_row]:
        print(f"{label:44} {median:10.1f} {p95:9.1f} {count:3} {queries:8} {status!s:>7}")
    print(f"ratio listing/raw (first page, median): {rows[0][1] / raw_row[1]:.1f}x")
    if failures:
        print(f"VERDICT: FAIL, p95 above {GOAL_P95_MS} ms or not 200: {', '.join(failures)}")
    else:
        print(f"VERDICT: PASS, every listing request p95 <= {GOAL_P95_MS} ms")
    return 1 if failures else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--database-url", default=None,
                        help="postgres://user@host:port/<new database>; default: temporary SQLite")
    parser.add_argument("--repeat", type=int, default=20, help="timed requests per URL")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--budget", type=float, default=60,
                        help="stop repeating a URL after this many seconds (default 60)")
    parser.add_argument("--no-analyze", action="store_true",
                        help="leave the database without planner statistics after the load")
    args = parser.parse_args()
    # On SIGTERM, exit through the finally clauses that remove the database.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    with fresh_database(args.database_url) as database_url:
        setup_django(database_url)
        return run(args)


if __name__ == "__main__":
    sys.exit(main())
