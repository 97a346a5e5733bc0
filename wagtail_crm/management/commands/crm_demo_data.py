"""``crm_demo_data``: fill the CRM with realistic demo people and organisations."""

from django.core.management.base import BaseCommand, CommandError

from ...models import Contact
from ...services.demo import create_demo_contacts


class Command(BaseCommand):
    help = (
        "Create demo people and organisations (about one organisation per eight people) with "
        "emails, phones, an address, tags and folders, and add them to the search index."
    )

    def add_arguments(self, parser):
        parser.add_argument("--contacts", type=int, default=2000,
                            help="How many contacts to create (default 2000).")
        parser.add_argument("--seed", type=int, default=None,
                            help="Seed for repeatable output (default: a random seed, printed).")
        parser.add_argument("--if-empty", action="store_true",
                            help="Do nothing when contacts already exist.")
        parser.add_argument("--batch-size", type=int, default=2000,
                            help="Contacts per bulk insert and per index batch (default 2000).")
        parser.add_argument("--no-index", action="store_true",
                            help="Leave the new contacts out of the search index.")

    def handle(self, *args, contacts, seed, if_empty, batch_size, no_index, **options):
        if contacts < 0:
            raise CommandError("--contacts must be zero or more.")
        if batch_size < 1:
            raise CommandError("--batch-size must be at least 1.")
        if if_empty and Contact.all_objects.exists():
            existing = Contact.all_objects.count()
            self.stdout.write(f"{existing} contacts already exist: no demo data created.")
            return
        progress = self.stdout.write if options["verbosity"] > 1 else None
        try:
            result = create_demo_contacts(
                contacts, seed=seed, batch_size=batch_size, index=not no_index, progress=progress
            )
        except ValueError as error:
            raise CommandError(str(error)) from error
        self.stdout.write(self.style.SUCCESS(
            f"Created {result.people + result.organizations} contacts "
            f"({result.people} people, {result.organizations} organisations) "
            f"with {result.methods} contact methods, {result.addresses} addresses and "
            f"{result.tags} tags in {result.create_seconds:.1f} s (seed {result.seed})."
        ))
        if no_index:
            self.stdout.write("Search index not updated (--no-index): run update_index later.")
        else:
            self.stdout.write(
                f"Indexed {result.indexed} contacts for search in {result.index_seconds:.1f} s."
            )
        self.stdout.write(
            f"Refreshed the database's statistics in {result.analyze_seconds:.1f} s."
        )
