"""Tree queries over a graph of a million relationships: subtree, ancestor chain, walk.

    python benchmarks/relationships.py [--relationships 1000000]
                                       [--database-url postgres://.../crm_bench_rel]
                                       [--repeat 30] [--seed 1] [--explain]

Builds the graph in a fresh database (see benchmarks/README.md) with bulk inserts, then times
the functions of wagtail_crm.services.relationships and prints a table and a verdict.
"""

import argparse
import gc
import json
import math
import random
import signal
import statistics
import sys
import time
import uuid
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import fresh_database, setup_django  # noqa: E402

#: Goals for the p95 of each query, in milliseconds.
GOALS_MS = {"subtree": 50, "ancestors": 5, "walk": 20}
#: Every LARGE_EVERY-th company is large: 85 units (4 x 4 x 4 below the top), 4,800 people.
LARGE_EVERY = 50
LARGE = (4, 3, 4800)
#: The other companies: 13 units (3 x 3 below the top), 120 people.
SMALL = (3, 2, 120)
TREE_TYPES = ["department-of", "subsidiary-of", "employee-of"]


def percentile(samples, fraction):
    """The nearest-rank percentile of ``samples``."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(fraction * len(ordered)) - 1)]


class Loader:
    """Buffers rows per table and writes them in bulk: COPY on PostgreSQL, executemany else."""

    def __init__(self, connection, batch=20_000):
        self.connection, self.batch, self.buffers, self.columns = connection, batch, {}, {}
        self.counts = {}

    def add(self, model, row):
        table = model._meta.db_table
        if table not in self.columns:
            self.columns[table] = [f.column for f in model._meta.concrete_fields]
            self.buffers[table] = []
        self.buffers[table].append(row)
        if len(self.buffers[table]) >= self.batch:
            self.flush(table)

    def flush(self, table=None):
        for name in [table] if table else list(self.buffers):
            rows, self.buffers[name] = self.buffers[name], []
            if rows:
                self._write(name, self.columns[name], rows)
                self.counts[name] = self.counts.get(name, 0) + len(rows)

    def _write(self, table, columns, rows):
        quote = self.connection.ops.quote_name
        names = ", ".join(quote(c) for c in columns)
        self.connection.ensure_connection()
        raw = self.connection.connection
        if self.connection.vendor == "postgresql":
            with raw.cursor() as cursor:
                with cursor.copy(f"COPY {quote(table)} ({names}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in columns)
            raw.executemany(f"INSERT INTO {quote(table)} ({names}) VALUES ({marks})", rows)


class Graph:
    """Writes the contacts and relationships; remembers the ids the timings start from."""

    def __init__(self, connection, loader, rng):
        from wagtail_crm.models import Contact, Folder, RelationshipRole

        self.connection, self.loader, self.rng = connection, loader, rng
        self.contact_id = self.relationship_id = self.participant_id = 0
        self.relationships = 0
        self.folder_id = Folder.get_default().pk
        self.roles = {
            (r.type.slug, r.slug): (r.pk, r.type_id)
            for r in RelationshipRole.objects.select_related("type")
        }
        now = connection.ops.adapt_datetimefield_value(datetime.now(UTC))
        self.today = date.today()
        self.contact_fields = Contact._meta.concrete_fields
        self.contact_template = {}
        for field in self.contact_fields:
            value = field.get_default()
            if isinstance(value, dict):
                value = json.dumps(value)
            elif isinstance(value, str):
                value = str(value)  # a TextChoices member as its plain value
            self.contact_template[field.attname] = value
        self.contact_template.update(created_at=now, updated_at=now, folder_id=self.folder_id)
        self.now = now

    def contact(self, **values):
        from wagtail_crm.models import Contact

        self.contact_id += 1
        row = {**self.contact_template, "id": self.contact_id, "uid": str(uuid.uuid4()), **values}
        self.loader.add(Contact, [row[f.attname] for f in self.contact_fields])
        return self.contact_id

    def organization(self, name, kind="department"):
        return self.contact(kind="organization", organization_name=name, organization_type=kind,
                            display_name=name, sort_name=name.casefold())

    def person(self, given, family):
        return self.contact(given_name=given, family_name=family, display_name=f"{given} {family}",
                            sort_name=f"{family} {given}".casefold())

    def relate(self, type_slug, participants, start=None, end=None, primary=False):
        """``participants``: (role slug, contact id) pairs."""
        from wagtail_crm.models import Relationship, RelationshipParticipant

        self.relationship_id += 1
        self.relationships += 1
        type_id = self.roles[type_slug, participants[0][0]][1]
        adapt = self.connection.ops.adapt_datefield_value
        self.loader.add(Relationship, [self.relationship_id, type_id, adapt(start), adapt(end),
                                       "", "{}", primary, self.now, self.now])
        for order, (role_slug, contact_id) in enumerate(participants):
            self.participant_id += 1
            role_id = self.roles[type_slug, role_slug][0]
            self.loader.add(RelationshipParticipant, [self.participant_id, order,
                                                      self.relationship_id, contact_id, role_id])

    def company(self, number, shape):
        """A company with its units, people, employment, reporting lines and directors.

        Returns (company id, unit ids, people ids, ids of the people of the deepest units).
        """
        branching, levels, staff = shape
        top = self.organization(f"Company {number}", "company")
        units, parents, depth = [top], [None], [0]
        index = 0
        while index < len(units):
            if depth[index] < levels:
                for child in range(branching):
                    unit = self.organization(f"Company {number} unit {index}.{child}")
                    units.append(unit)
                    parents.append(index)
                    depth.append(depth[index] + 1)
            index += 1
        for unit, parent in zip(units[1:], parents[1:], strict=True):
            self.relate("department-of", [("department", unit), ("parent", units[parent])])
        heads, people, deepest = [None] * len(units), [], []
        for n in range(staff):
            u = n % len(units)
            person = self.person(f"Given{n}", f"Family{number}x{n}")
            people.append(person)
            if depth[u] == levels:
                deepest.append(person)
            start = self.today - timedelta(days=30 + n % 3000)
            self.relate("employee-of", [("employee", person), ("employer", units[u])],
                        start=start, primary=True)
            if heads[u] is None:
                heads[u] = person
                if parents[u] is not None:
                    self.relate("reports-to", [("report", person),
                                               ("manager", heads[parents[u]])])
            else:
                self.relate("reports-to", [("report", person), ("manager", heads[u])])
        for director in people[:3]:
            self.relate("director-of", [("director", director), ("organization", top)])
        return top, units, people, deepest


def build(target, seed):
    """Write a graph of about ``target`` relationships; returns what the timings start from."""
    from django.db import connection

    rng = random.Random(seed)
    loader = Loader(connection)
    graph = Graph(connection, loader, rng)
    companies, large, people = [], [], []
    # Companies take about 88% of the relationships; the rest are spouses, past employments
    # and opportunities between people anywhere.
    number = 0
    while graph.relationships < target * 0.88:
        shape = LARGE if number % LARGE_EVERY == 0 else SMALL
        top, units, staff, deepest = graph.company(number, shape)
        companies.append(top)
        people.extend(staff)
        if shape is LARGE:
            large.append((top, deepest))
        elif number % 10 == 1 and large:
            graph.relate("subsidiary-of", [("subsidiary", top), ("parent", large[-1][0])])
        number += 1
    rest = target - graph.relationships
    for _ in range(rest // 3):
        a, b = rng.sample(people, 2)
        graph.relate("spouse-of", [("spouse", a), ("spouse", b)])
    for _ in range(rest // 3):
        start = graph.today - timedelta(days=4000)
        graph.relate("employee-of", [("employee", rng.choice(people)),
                                     ("employer", rng.choice(companies))],
                     start=start, end=start + timedelta(days=900))
    sales = people[:LARGE[2]]  # the first company is ours: its people sell
    while graph.relationships < target:
        customer = rng.randrange(1, len(companies))
        contacts = [("customer-contact", p) for p in rng.sample(people, rng.randint(1, 2))]
        reps = [("sales-representative", p) for p in rng.sample(sales, rng.randint(1, 2))]
        graph.relate("sales-opportunity", [("customer", companies[customer]), *contacts, *reps])
    loader.flush()
    rng = random.Random(seed + 1)
    top, deepest = large[min(1, len(large) - 1)]
    # Only what the timings need: the big lists would make each garbage collection slow.
    return {"companies": len(companies), "counts": loader.counts, "top": top,
            "person": rng.choice(deepest)}


def finish_load(connection):
    """Move the id sequences past the inserted ids and VACUUM (PostgreSQL); ANALYZE.

    After a bulk load, autovacuum would set the visibility map that index-only scans need;
    VACUUM does it now, so the timings see the database as it settles.
    """
    from wagtail_crm.models import Contact, Relationship, RelationshipParticipant

    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            for model in (Contact, Relationship, RelationshipParticipant):
                table = model._meta.db_table
                cursor.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                               f"(SELECT MAX(id) FROM {table}))")
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")


def time_call(call, repeat):
    """Milliseconds per call, and the result of one call.

    As in :mod:`timeit`, the garbage collector is off while a call is timed and runs between
    calls: a full collection walks every object of the process, which is not the query's cost.
    """
    for _warm_up in range(3):
        result = call()
    samples = []
    for _ in range(repeat):
        gc.collect()
        gc.disable()
        try:
            started = time.perf_counter()
            call()
            samples.append((time.perf_counter() - started) * 1000)
        finally:
            gc.enable()
    return samples, result


def explain(connection, call):
    """The query plan of the SQL ``call`` runs."""
    statements = []

    def capture(execute, sql, params, many, context):
        statements.append((sql, params))
        return execute(sql, params, many, context)

    with connection.execute_wrapper(capture):
        call()
    sql, params = statements[-1]
    prefix = "EXPLAIN QUERY PLAN " if connection.vendor == "sqlite" else "EXPLAIN (ANALYZE) "
    with connection.cursor() as cursor:
        cursor.execute(prefix + sql, params)
        return "\n".join(" ".join(str(c) for c in row) for row in cursor.fetchall())


def run(args):
    from django.db import connection, transaction

    from wagtail_crm.services import relationships as trees

    started = time.perf_counter()
    with transaction.atomic():
        data = build(args.relationships, args.seed)
    loaded = time.perf_counter() - started
    finish_load(connection)
    counts = data["counts"]
    print(f"Data: {sum(v for k, v in counts.items() if k.endswith('relationship'))} "
          f"relationships, {counts.get('wagtail_crm_relationshipparticipant', 0)} participants, "
          f"{counts.get('wagtail_crm_contact', 0)} contacts ({data['companies']} companies) "
          f"in {loaded:.1f} s, (VACUUM) ANALYZE in {time.perf_counter() - started - loaded:.1f} s",
          flush=True)
    top, person = data["top"], data["person"]
    gc.collect()
    chain_types = ["employee-of", "department-of", "subsidiary-of"]
    calls = [
        ("subtree", "subtree of a large company (departments, employees)",
         lambda: trees.subtree(top, types=TREE_TYPES)),
        ("ancestors", "ancestor chain of a person (to the top organisation)",
         lambda: trees.ancestors(person, types=chain_types)),
        ("walk", "walk from the same person, depth 4, all types",
         lambda: trees.walk(person, depth=4)),
        (None, "subtree of the same company, all hierarchical types",
         lambda: trees.subtree(top)),
        (None, "ancestors of the person, all hierarchical types",
         lambda: trees.ancestors(person)),
    ]
    rows, failures = [], []
    for goal, label, call in calls:
        samples, result = time_call(call, args.repeat)
        p95 = percentile(samples, 0.95)
        rows.append((label, statistics.median(samples), p95, len(result), goal))
        if goal and p95 > GOALS_MS[goal]:
            failures.append(label)
        if args.explain:
            print(f"\n-- {label}\n{explain(connection, call)}", flush=True)

    print(f"\n{connection.vendor}, {args.relationships} relationships, {args.repeat} runs each, "
          f"{datetime.now():%Y-%m-%d %H:%M}")
    print(f"{'query':56} {'median ms':>10} {'p95 ms':>8} {'rows':>6} {'goal ms':>8}")
    for label, median, p95, count, goal in rows:
        goal_text = f"<= {GOALS_MS[goal]}" if goal else "-"
        print(f"{label:56} {median:10.1f} {p95:8.1f} {count:6} {goal_text:>8}")
    if failures:
        print(f"VERDICT: FAIL, p95 above its goal: {', '.join(failures)}")
    else:
        print("VERDICT: PASS, every query's p95 within its goal")
    return 1 if failures else 0


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--relationships", type=int, default=1_000_000)
    parser.add_argument("--database-url", default=None,
                        help="postgres://user@host:port/<new database>; default: temporary SQLite")
    parser.add_argument("--repeat", type=int, default=30, help="timed runs per query")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--explain", action="store_true", help="print each query's plan")
    args = parser.parse_args()
    # On SIGTERM, exit through the finally clauses that remove the database.
    signal.signal(signal.SIGTERM, lambda signum, frame: sys.exit(128 + signum))
    with fresh_database(args.database_url) as database_url:
        setup_django(database_url)
        return run(args)


if __name__ == "__main__":
    sys.exit(main())
