"""Export contacts: ``crm_export --format vcard3|vcard4|csv|ldif|sql|xlsx [--folder NAME]
[--tag TAG] [--output PATH|-]``.

Runs as the system: every contact outside the trash is exported. With ``--format csv`` and an
``--output`` file, the relationships among the exported contacts go to ``<stem>-relationships.csv``
beside it.
"""

import sys
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from ...models import Contact, ContactTag, Folder
from ...services.exporting import (
    FORMATS,
    export_contacts,
    export_relationships_csv,
    relationships_among,
)


def relationships_path(path):
    """Where the relationships file of a CSV export to ``path`` goes."""
    path = Path(path)
    return path.with_name(f"{path.stem}-relationships.csv")


class Command(BaseCommand):
    help = "Export contacts as vCard 3.0 or 4.0, CSV, LDIF, SQL or XLSX."

    def add_arguments(self, parser):
        parser.add_argument("--format", required=True, choices=sorted(FORMATS), dest="fmt")
        parser.add_argument("--folder", help="Only the contacts in the folder with this name.")
        parser.add_argument("--tag", help="Only the contacts with this tag.")
        parser.add_argument("--base-dn", help="LDIF only: the base DN (default: setting).")
        parser.add_argument(
            "--output", default="-",
            help="The file to write; - (the default) writes to standard output.",
        )

    def handle(self, *args, fmt, folder=None, tag=None, output="-", base_dn=None, **options):
        contacts = Contact.objects.all()
        if folder is not None:
            found = Folder.objects.filter(name=folder).first()
            if found is None:
                names = ", ".join(Folder.objects.order_by("name").values_list("name", flat=True))
                raise CommandError(f"No folder is named {folder!r}. Folders: {names or 'none'}.")
            contacts = contacts.filter(folder=found)
        if tag is not None:
            tagged = ContactTag.objects.filter(tag__name=tag)
            if not tagged.exists():
                raise CommandError(f"No contact has the tag {tag!r}.")
            contacts = contacts.filter(pk__in=tagged.values("content_object_id"))
        chunks, _content_type, _extension = export_contacts(contacts, fmt, base_dn=base_dn)
        if output == "-":
            stream = self.stdout._out if hasattr(self.stdout, "_out") else sys.stdout
            target = getattr(stream, "buffer", None)
            for chunk in chunks:
                if target is not None:
                    target.write(chunk)
                else:
                    stream.write(chunk.decode("utf-8"))
            stream.flush()
            return
        path = Path(output)
        if not path.parent.is_dir():
            raise CommandError(f"The folder of {output!r} does not exist.")
        with path.open("wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
        written = [str(path)]
        if fmt == "csv":
            beside = relationships_path(path)
            with beside.open("wb") as handle:
                for chunk in export_relationships_csv(relationships_among(contacts)):
                    handle.write(chunk)
            written.append(str(beside))
        self.stderr.write(f"Wrote {' and '.join(written)}.")
