"""Settings of wagtail_crm, read from ``WAGTAIL_CRM_*`` in Django settings.

Every other module reads settings through :data:`crm_settings`, never from
``django.conf.settings`` directly, so defaults live in one place.
"""

from django.conf import settings

DEFAULTS = {
    #: Name of the folder new contacts go to when none is chosen.
    "DEFAULT_FOLDER_NAME": "Contacts",
    #: Wagtail search backend used by the contact listings.
    "SEARCH_BACKEND": "default",
    #: Rows fetched per database round trip when exporting a listing.
    "EXPORT_CHUNK_SIZE": 2000,
    #: Phone region used when CRMSettings cannot be read (no Site yet, migrations).
    "FALLBACK_PHONE_REGION": "GB",
    #: What public pages may show of a contact in a public folder. Keys: display_name, job_title,
    #: organization, organization_type, photo, city, country, website, tags, primary_email,
    #: primary_phone, addresses, and "methods:<scheme>" (email, phone, url, handle).
    "PUBLIC_FIELDS": (
        "display_name",
        "job_title",
        "organization",
        "photo",
        "city",
        "country",
        "website",
    ),
    #: Wagtail image filter for contact photos on public pages.
    "PUBLIC_PHOTO_FILTER": "fill-160x160",
    #: The vCard 4.0 RELATED type (RFC 6350) written for a participant in a role, keyed
    #: "<relationship type slug>:<role slug>": in Ann's card, her husband's role "spouse" of
    #: "spouse-of" gives RELATED;TYPE=spouse. Roles not listed give TYPE=contact.
    "VCARD_RELATED_TYPES": {
        "spouse-of:spouse": "spouse",
        "parent-of:parent": "parent",
        "parent-of:child": "child",
        "sibling-of:sibling": "sibling",
        "reports-to:manager": "co-worker",
        "reports-to:report": "co-worker",
    },
    #: How far (in minutes) closing a ticket may take a credit account below zero. ``None``
    #: refuses any closing that would overdraw; ``0`` also refuses; ``120`` allows down to -120.
    "CREDIT_OVERDRAFT_LIMIT": None,
    #: A low-balance email goes to the account's contact when a charge takes the balance from
    #: above this many minutes to this or below. ``None`` sends none.
    "CREDIT_LOW_BALANCE_MINUTES": 60,
    #: Email requesters and assignees about replies and status changes of tickets.
    "TICKET_NOTIFICATIONS": True,
    #: Sender of ticket and credit emails; ``None`` uses DEFAULT_FROM_EMAIL.
    "TICKET_FROM_EMAIL": None,
    #: Largest contacts file an import reads, in bytes (``None``: no limit).
    "IMPORT_MAX_BYTES": 200 * 1024 * 1024,
    #: Largest photo an import turns into a Wagtail image, in bytes; larger ones are a warning.
    "IMPORT_MAX_PHOTO_BYTES": 5_000_000,
    #: Most pixels (width times height) of an imported photo: Pillow's decompression bomb guard.
    "IMPORT_MAX_PHOTO_PIXELS": 40_000_000,
    #: Records an import writes per transaction.
    "IMPORT_BATCH_SIZE": 1000,
    #: The base DN that LDIF exports write entries under (``crm_export --format ldif`` and the
    #: admin's "Download LDIF"): people as ``uid=<uid>,ou=people,<base>``.
    "LDIF_BASE_DN": "dc=example,dc=org",
}


class CRMConf:
    """Attribute access to WAGTAIL_CRM_* settings with defaults."""

    prefix = "WAGTAIL_CRM_"

    def __getattr__(self, name):
        if name not in DEFAULTS:
            raise AttributeError(f"Unknown wagtail_crm setting: {name}")
        return getattr(settings, self.prefix + name, DEFAULTS[name])


crm_settings = CRMConf()
