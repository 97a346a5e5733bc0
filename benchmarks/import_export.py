"""Import speed, end to end (parse, match, write, index), against a raw bulk insert of the rows.

    python benchmarks/import_export.py [--contacts 100000] [--database-url postgres://.../db]
                                       [--batch-size 1000] [--seed 1]

Generates N contacts with two emails, two phones and an address each, writes them as CSV (our
own layout, ``interop.csv.write_csv``) and as vCard 3.0 (``interop.vcard.write_vcards``), then
times ``services.importing.import_file`` on each file into an empty database, and the insert of
the same rows through the DB-API cursor (executemany on SQLite, COPY on PostgreSQL, as
services/demo.py writes). Prints a table and a verdict (goals: CSV >= 5,000 contacts/s,
vCard >= 2,000 contacts/s).
"""

import argparse
import random
import sys
import time
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import fresh_database, setup_django  # noqa: E402

#: contacts per second, end to end
GOALS = {"csv": 5000, "vcard": 2000}


def generate(count, seed):
    """``count`` ContactRecords: a name, two emails, two phones and an address each."""
    from wagtail_crm.interop.records import AddressRecord, ContactRecord, Method
    from wagtail_crm.services.demo import COUNTRIES, CULTURES, MOBILES

    rng = random.Random(seed)
    countries = list(COUNTRIES)
    records = []
    for n in range(count):
        code = rng.choice(countries)
        _weight, culture, _suffixes, street_format, streets, cities = COUNTRIES[code]
        givens, families = CULTURES[culture]
        (given, given_ascii), (family, family_ascii) = rng.choice(givens), rng.choice(families)
        city, region, postcodes, (fmt, numbers) = rng.choice(cities)

        def phone(fmt=fmt, numbers=numbers):
            number = rng.choice(numbers)
            return (fmt.format(*divmod(number, 100)) if fmt.count("{") == 2
                    else fmt.format(number))

        mobile_fmt, mobile_numbers = MOBILES.get(code, (fmt, numbers))
        local = f"{given_ascii}.{family_ascii}{n}"
        records.append(ContactRecord(
            uid=str(uuid.UUID(int=rng.getrandbits(128), version=4)),
            given_name=given, family_name=family,
            emails=[Method(f"{local}@example.com", types=["work"]),
                    Method(f"{local}@example.org", types=["home"])],
            phones=[Method(phone(), types=["work"]),
                    Method(phone(mobile_fmt, mobile_numbers), types=["cell"])],
            addresses=[AddressRecord(
                street=street_format.format(n=rng.randint(1, 240), s=rng.choice(streets)),
                locality=city, region=region, postal_code=rng.choice(postcodes).replace(
                    "#", "1").replace("@", "A"), country=code, types=["work"])],
        ))
    return records


def empty_tables():
    """Remove every contact and what hangs off it, with a few plain DELETEs."""
    from django.db import connection, transaction
    from modelsearch.conf import get_app_config

    from wagtail_crm.models import Address, Contact, ContactMethod, ContactTag

    index = get_app_config().get_model("IndexEntry")
    with transaction.atomic(), connection.cursor() as cursor:
        for model in (index, ContactTag, ContactMethod, Address, Contact):
            cursor.execute(f"DELETE FROM {connection.ops.quote_name(model._meta.db_table)}")
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            for model in (index, ContactMethod, Address, Contact):
                cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")


def raw_insert(records):
    """Insert the records' rows through the DB-API cursor, values computed beforehand.

    Returns the seconds the inserts took (the rows are built before the clock starts).
    """
    from django.db import connection, transaction
    from django.utils import timezone

    from wagtail_crm.models import Address, Contact, ContactMethod, ContactMethodType, Folder
    from wagtail_crm.services.demo import _reserve_ids, _sqlite_cache, _Table
    from wagtail_crm.services.importing import (
        ADDRESS_COLUMNS,
        CONTACT_COLUMNS,
        METHOD_COLUMNS,
    )

    types = dict(ContactMethodType.objects.values_list("name", "pk"))
    folder = Folder.get_default()
    now = timezone.now()
    with _sqlite_cache(connection), transaction.atomic():
        ids = _reserve_ids(connection, Contact, len(records))
        contacts, methods, addresses = [], [], []
        for pk, r in zip(ids, records, strict=True):
            values = {"uid": r.uid, "given_name": r.given_name, "family_name": r.family_name,
                      "display_name": f"{r.given_name} {r.family_name}",
                      "sort_name": f"{r.family_name} {r.given_name}".casefold(),
                      "folder_id": folder.pk, "custom": {}, "birthday": None,
                      "primary_email": r.emails[0].value.lower(), "city":
                      r.addresses[0].locality, "country": r.addresses[0].country}
            contacts.append((pk, "person", *(values.get(n, "") if n not in (
                "owner_id", "photo_id", "birthday") else None for n in CONTACT_COLUMNS[2:])))
            for order, m in enumerate(r.emails):
                methods.append((pk, types["Email"], m.value, m.value.lower(), "", False, order))
            for order, m in enumerate(r.phones):
                methods.append((pk, types["Phone"], m.value, m.value, "", False, order + 2))
            a = r.addresses[0]
            addresses.append((pk, "work", False, a.street, "", "", a.locality, a.region,
                              a.postal_code, a.country, 0))
        started = time.perf_counter()
        for start in range(0, len(contacts), 1000):
            end = start + 1000
            _Table(Contact, CONTACT_COLUMNS, connection, now).write(contacts[start:end])
        for start in range(0, len(methods), 4000):
            _Table(ContactMethod, METHOD_COLUMNS, connection, now).write(
                methods[start:start + 4000])
        for start in range(0, len(addresses), 1000):
            _Table(Address, ADDRESS_COLUMNS, connection, now).write(
                addresses[start:start + 1000])
        seconds = time.perf_counter() - started
    return seconds


def time_import(data, filename, batch_size):
    """``(wall seconds, CPU seconds of this process, report)`` of one import_file."""
    from wagtail_crm.models import Folder
    from wagtail_crm.services.importing import ImportOptions, import_file

    options = ImportOptions(folder=Folder.get_default(), batch_size=batch_size)
    started, cpu = time.perf_counter(), time.process_time()
    report = import_file(data, filename=filename, options=options)
    return time.perf_counter() - started, time.process_time() - cpu, report


def time_parse(data, fmt):
    from wagtail_crm.services.importing import read_records

    started = time.perf_counter()
    count = sum(1 for _item in read_records(data, fmt))
    return time.perf_counter() - started, count


def run(args):
    with fresh_database(args.database_url) as url:
        setup_django(url)
        from django.db import connection

        from wagtail_crm.interop.csv import write_csv
        from wagtail_crm.interop.vcard import write_vcards

        started = time.perf_counter()
        records = generate(args.contacts, args.seed)
        files = {
            "csv": ("contacts.csv", "".join(write_csv(records)).encode()),
            "vcard": ("contacts.vcf", "".join(write_vcards(records, "3.0")).encode()),
        }
        print(f"{connection.vendor}, {args.contacts:,} contacts (two emails, two phones and an "
              f"address each), batches of {args.batch_size}; files made in "
              f"{time.perf_counter() - started:.1f} s: CSV {len(files['csv'][1]) / 1e6:.1f} MB, "
              f"vCard {len(files['vcard'][1]) / 1e6:.1f} MB")
        empty_tables()
        raw = raw_insert(records)
        del records
        rows, passed = [], True
        for fmt, (filename, data) in files.items():
            parse, _count = time_parse(data, fmt)
            empty_tables()
            seconds, cpu, report = time_import(data, filename, args.batch_size)
            speed = args.contacts / seconds
            ok = report.created == args.contacts and speed >= GOALS[fmt]
            passed &= ok
            rows.append((fmt, parse, seconds, cpu, speed, seconds / raw, report.summary_line(),
                         ok))
        print(f"\nraw bulk insert of the same rows: {raw:.2f} s "
              f"({args.contacts / raw:,.0f} contacts/s)\n")
        print(f"{'format':8} {'parse s':>8} {'import s':>9} {'CPU s':>7} {'contacts/s':>11} "
              f"{'x raw':>6}  {'goal':>6}  summary")
        for fmt, parse, seconds, cpu, speed, ratio, summary, ok in rows:
            print(f"{fmt:8} {parse:8.2f} {seconds:9.2f} {cpu:7.2f} {speed:11,.0f} {ratio:6.1f}  "
                  f"{GOALS[fmt]:6,}  {summary} {'ok' if ok else 'SLOW'}")
        print("\nimport s: wall-clock seconds of import_file (detect, parse, match, write, "
              "index);\nCPU s: this process's CPU time in it (on PostgreSQL the server's work "
              "is not included);\nx raw: import time over the raw insert's.")
        print("\nPASS" if passed else "\nFAIL")
        return 0 if passed else 1


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--database-url", default=None,
                        help="postgres://.../<new database> (default: a temporary SQLite file)")
    parser.add_argument("--batch-size", type=int, default=1000)
    parser.add_argument("--seed", type=int, default=1)
    sys.exit(run(parser.parse_args()))


if __name__ == "__main__":
    main()
