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


@task()
def import_contacts_task(path, fmt, folder_id, user_id, on_duplicate, mapping_json=None):
    """Import a contacts file in the background (see services.importing.import_file).

    Args:
        path: the file's path on this server.
        fmt: ``auto``, ``vcard``, ``csv``, ``ldif`` or ``sql``.
        folder_id: the folder (its id, as a string or number).
        user_id: who imports (None: no folder access check).
        on_duplicate: ``update``, ``skip`` or ``create``.
        mapping_json: for CSV, JSON text: a preset name (``"google"``) or an object mapping
            columns to targets; None to guess the preset.

    Returns:
        The report as a dict (ImportReport.as_dict), or ``{"unreadable": reason}`` when the
        file cannot be read at all.
    """
    import json
    from pathlib import Path

    from django.contrib.auth import get_user_model

    from .interop.records import UnreadableFile
    from .models import Folder
    from .services.importing import ImportOptions, import_file

    mapping = json.loads(mapping_json) if mapping_json else None
    preset = mapping if isinstance(mapping, str) else None
    user = get_user_model().objects.get(pk=user_id) if user_id is not None else None
    options = ImportOptions(folder=Folder.objects.get(pk=folder_id), user=user,
                            on_duplicate=on_duplicate)
    try:
        report = import_file(
            Path(path).read_bytes(), fmt=fmt, filename=str(path), options=options,
            mapping=mapping if isinstance(mapping, dict) else None, preset=preset,
        )
    except (UnreadableFile, ValueError, OSError) as error:
        return {"unreadable": str(error)}
    return report.as_dict()
