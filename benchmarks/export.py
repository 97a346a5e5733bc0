"""Speed and memory of the CSV export (``services.exporting.export_contacts``).

    python benchmarks/export.py --contacts 100000 [--database-url postgres://.../crm_bench]
                                [--format csv] [--seed 1]

Fills a fresh database with demo contacts (see benchmarks/README.md), then exports them all to
/dev/null and prints contacts a second and the peak resident memory of the process.
Goals: 20,000 contacts a second, peak RSS at most 300 MB for 1,000,000 contacts.
"""

import argparse
import resource
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _common import fill, fresh_database, setup_django  # noqa: E402

GOAL_PER_SECOND = 20_000
GOAL_RSS_MB = 300


def peak_rss_mb():
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--contacts", type=int, default=100_000)
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--format", default="csv")
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with fresh_database(args.database_url) as url:
        setup_django(url)
        started = time.perf_counter()
        fill(args.contacts, args.seed)
        print(f"filled {args.contacts:,} contacts in {time.perf_counter() - started:.1f} s; "
              f"peak RSS so far {peak_rss_mb():.0f} MB")
        from wagtail_crm.models import Contact
        from wagtail_crm.services.exporting import export_contacts

        started = time.perf_counter()
        size = 0
        chunks, _type, _extension = export_contacts(Contact.objects.all(), args.format)
        with open("/dev/null", "wb") as sink:
            for chunk in chunks:
                size += len(chunk)
                sink.write(chunk)
        seconds = time.perf_counter() - started
        rate = args.contacts / seconds
        rss = peak_rss_mb()
        print(f"{args.format}: {args.contacts:,} contacts in {seconds:.1f} s = {rate:,.0f} "
              f"contacts/s, {size / 1e6:.1f} MB written, peak RSS {rss:.0f} MB")
        verdict = "met" if rate >= GOAL_PER_SECOND and rss <= GOAL_RSS_MB else "NOT met"
        print(f"goal ({GOAL_PER_SECOND:,}/s, {GOAL_RSS_MB} MB): {verdict}")


if __name__ == "__main__":
    main()
