"""``crm_refresh_relationships``: keep people's organisations in step with ended employments."""

import datetime

from django.core.management.base import BaseCommand, CommandError

from ...services.relationships import refresh_primary_organizations


class Command(BaseCommand):
    help = (
        "Clear or recompute the organisation of people whose primary employment has ended since "
        "it was saved. Run daily (cron), or queue the task "
        "wagtail_crm.tasks.refresh_primary_organizations_task."
    )

    def add_arguments(self, parser):
        parser.add_argument("--on", help="The day to check, as YYYY-MM-DD (default today).")

    def handle(self, *args, on=None, **options):
        try:
            day = datetime.date.fromisoformat(on) if on else None
        except ValueError as error:
            raise CommandError(f"--on must be a date as YYYY-MM-DD, not {on!r}.") from error
        count = refresh_primary_organizations(on=day)
        self.stdout.write(f"Checked {count} people whose primary employment has ended.")
