"""Background tasks (django-tasks). Arguments are JSON values: ids as strings, dates as ISO."""

import datetime

from django_tasks import task

from .services.relationships import refresh_primary_organizations


@task()
def refresh_primary_organizations_task(on=None):
    """Clear the organisation of people whose primary employment ended (run daily).

    Args:
        on: the day, as an ISO date string (default today).

    Returns:
        How many people were looked at.
    """
    day = datetime.date.fromisoformat(on) if on else None
    return refresh_primary_organizations(on=day)
