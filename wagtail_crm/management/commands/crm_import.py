"""``crm_import``: import contacts from a vCard, CSV, LDIF or SQL file.

    python manage.py crm_import PATH [--format auto|vcard|csv|ldif|sql] [--folder NAME]
        [--mapping google|outlook|thunderbird|generic|FILE.json]
        [--on-duplicate update|skip|create] [--dry-run] [--report REPORT.csv]

Prints ``rows=N created=C updated=U skipped=S errors=E``. Exit status 0 when no row failed,
1 when some rows failed (the others were imported), 2 when the file cannot be read at all.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ...conf import crm_settings
from ...interop.csv_presets import PRESETS, MappingError, load_mapping
from ...interop.records import UnreadableFile
from ...models import Folder
from ...services.importing import FORMATS, ImportOptions, import_file

#: Failures printed on stderr; the rest are in the --report file.
SHOWN_FAILURES = 50


class Command(BaseCommand):
    help = (
        "Import contacts from a vCard, CSV, LDIF or SQL file into a folder. Prints "
        "rows=N created=C updated=U skipped=S errors=E; exits 0 when no row failed, 1 when "
        "some rows failed (the others were imported), 2 when the file cannot be read."
    )

    def add_arguments(self, parser):
        parser.add_argument("path", help="The file to import.")
        parser.add_argument("--format", default="auto", choices=("auto", *FORMATS),
                            help="The file's format (default: from its name and content).")
        parser.add_argument("--folder", default=None,
                            help="The folder new contacts go to (default: the default folder, "
                                 "created when missing).")
        parser.add_argument("--mapping", default=None,
                            help="For CSV: a preset (google, outlook, thunderbird, generic) or "
                                 "a JSON file mapping columns to fields (default: guessed).")
        parser.add_argument("--on-duplicate", default="update",
                            choices=("update", "skip", "create"),
                            help="What to do with a record that matches a contact by UID or "
                                 "email (default: update).")
        parser.add_argument("--match-name", action="store_true",
                            help="Also match by name plus organisation.")
        parser.add_argument("--dry-run", action="store_true",
                            help="Read, check and match everything but write nothing.")
        parser.add_argument("--report", default=None,
                            help="Write a CSV with one line per input row: line, status, "
                                 "reason, contact id.")
        parser.add_argument("--batch-size", type=int, default=None,
                            help="Records per transaction (default "
                                 "WAGTAIL_CRM_IMPORT_BATCH_SIZE).")

    def handle(self, *args, path, format, folder, mapping, on_duplicate, match_name, dry_run,
               report, batch_size, **options):
        data = self.read(Path(path))
        preset, columns = None, None
        if mapping in PRESETS:
            preset = mapping
        elif mapping:
            try:
                columns = load_mapping(mapping)
            except MappingError as error:
                raise CommandError(str(error), returncode=2) from error
        name = folder or crm_settings.DEFAULT_FOLDER_NAME
        target, created = Folder.objects.get_or_create(name=name)
        if created:
            self.stdout.write(f"Created the folder {name!r}.")
        options_ = ImportOptions(
            folder=target, on_duplicate=on_duplicate, match_name_and_organization=match_name,
            dry_run=dry_run, batch_size=batch_size,
        )
        progress = None
        if options["verbosity"] > 1:
            def progress(result):
                self.stdout.write(f"... {result.summary_line()}")
        try:
            result = import_file(data, fmt=format, filename=path, mapping=columns,
                                 preset=preset, options=options_, progress=progress)
        except (UnreadableFile, MappingError) as error:
            raise CommandError(f"{path}: {error}", returncode=2) from error
        self.stdout.write(result.summary_line())
        if dry_run:
            self.stdout.write("Dry run: nothing was written.")
        if report:
            with open(report, "w", newline="", encoding="utf-8") as handle:
                result.write_csv(handle)
        for line, message in result.warnings[:SHOWN_FAILURES] if options["verbosity"] > 1 else ():
            self.stderr.write(f"line {line}: warning: {message}")
        for _line, reason in result.failures[:SHOWN_FAILURES]:
            self.stderr.write(reason)
        if result.errors:
            more = result.errors - SHOWN_FAILURES
            extra = f" ({more} more not shown)" if more > 0 else ""
            raise CommandError(f"{result.errors} rows failed{extra}; the others were imported.",
                               returncode=1)

    def read(self, path):
        limit = crm_settings.IMPORT_MAX_BYTES
        try:
            size = path.stat().st_size
            if limit is not None and size > limit:
                raise CommandError(
                    f"{path}: the file is larger than {limit:,} bytes "
                    f"(WAGTAIL_CRM_IMPORT_MAX_BYTES).", returncode=2)
            return path.read_bytes()
        except OSError as error:
            raise CommandError(f"{path}: cannot read the file: {error.strerror or error}",
                               returncode=2) from error
