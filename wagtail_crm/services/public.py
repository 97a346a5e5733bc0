"""Contacts on public pages: which contacts, and which of their fields.

A contact may appear on the public site only while it is live (not in the trash) and its folder
is marked public. What is shown of it is limited to the keys listed in
``WAGTAIL_CRM_PUBLIC_FIELDS``: :func:`public_card` turns a contact into a plain dict holding only
those, and templates render that dict, never the contact itself.

Public pages are governed by ``Folder.is_public`` alone, not by the folder access policy of the
admin: a visitor has no groups.
"""

from urllib.parse import quote, urlsplit

from django.core import checks
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError
from django.db.models import Prefetch
from wagtail.images import get_image_model
from wagtail.images.exceptions import InvalidFilterSpecError
from wagtail.images.models import Filter, SourceImageIOError

from ..conf import crm_settings
from ..models import Contact, ContactMethod, ContactTag, CRMSettings, MethodScheme
from ..phones import format_phone

#: Field keys a site builder may list in WAGTAIL_CRM_PUBLIC_FIELDS (besides "methods:<scheme>").
FIELD_KEYS = (
    "display_name",
    "job_title",
    "organization",
    "organization_type",
    "photo",
    "city",
    "country",
    "website",
    "tags",
    "primary_email",
    "primary_phone",
    "addresses",
)
#: Prefix of the keys that show every method of one scheme, e.g. "methods:email".
METHODS_PREFIX = "methods:"
#: Link schemes a public web address may have.
WEB_SCHEMES = {"http", "https"}


def field_errors(keys):
    """Say what is wrong with a WAGTAIL_CRM_PUBLIC_FIELDS value.

    Args:
        keys: the setting's value.

    Returns:
        A list of messages, empty when every key is known.
    """
    if isinstance(keys, str) or not isinstance(keys, (list, tuple)):
        return [f"WAGTAIL_CRM_PUBLIC_FIELDS must be a list of field keys, not {keys!r}."]
    known = set(FIELD_KEYS) | {METHODS_PREFIX + scheme for scheme in MethodScheme.values}
    unknown = [key for key in keys if not isinstance(key, str) or key not in known]
    if not unknown:
        return []
    return [
        "WAGTAIL_CRM_PUBLIC_FIELDS has unknown keys: {}. Known keys: {}, and {}.".format(
            ", ".join(repr(key) for key in unknown),
            ", ".join(FIELD_KEYS),
            ", ".join(METHODS_PREFIX + scheme for scheme in MethodScheme.values),
        )
    ]


def public_fields():
    """The public field keys from WAGTAIL_CRM_PUBLIC_FIELDS, read on every call.

    Returns:
        A tuple of keys.

    Raises:
        ImproperlyConfigured: when the setting is not a list or names an unknown key.
    """
    keys = crm_settings.PUBLIC_FIELDS
    errors = field_errors(keys)
    if errors:
        raise ImproperlyConfigured(" ".join(errors))
    return tuple(keys)


@checks.register()
def check_public_settings(app_configs=None, **kwargs):
    """Django system check for WAGTAIL_CRM_PUBLIC_FIELDS and WAGTAIL_CRM_PUBLIC_PHOTO_FILTER."""
    errors = [
        checks.Error(message, id="wagtail_crm.E101")
        for message in field_errors(crm_settings.PUBLIC_FIELDS)
    ]
    spec = crm_settings.PUBLIC_PHOTO_FILTER
    try:
        Filter(spec=spec).operations  # noqa: B018 - parsing the spec is the check
    except (InvalidFilterSpecError, ValueError, TypeError, AttributeError) as error:
        errors.append(
            checks.Error(
                f"WAGTAIL_CRM_PUBLIC_PHOTO_FILTER {spec!r} is not a Wagtail image filter: {error}",
                id="wagtail_crm.E102",
            )
        )
    return errors


def public_contacts(queryset=None):
    """Narrow contacts to those a public page may show: live, in a public folder.

    Args:
        queryset: contacts to narrow; every contact when None.

    Returns:
        A queryset of Contact (or of the given queryset's model).
    """
    if queryset is None:
        queryset = Contact.objects.all()
    return queryset.filter(deleted_at__isnull=True, folder__is_public=True)


def is_public(contact):
    """Whether a contact already loaded may be shown on a public page."""
    return contact is not None and contact.deleted_at is None and contact.folder.is_public


def with_public_related(queryset, fields=None):
    """Load along with the contacts what :func:`public_card` reads, in a fixed number of queries.

    Args:
        queryset: contacts.
        fields: public field keys; those of the setting when None.

    Returns:
        The queryset with ``select_related`` and ``prefetch_related`` for those fields.
    """
    fields = public_fields() if fields is None else fields
    related = ["folder"]
    if "organization" in fields:
        related.append("primary_organization__folder")
    queryset = queryset.select_related(*related)
    if "photo" in fields:
        images = get_image_model().objects.prefetch_renditions(crm_settings.PUBLIC_PHOTO_FILTER)
        queryset = queryset.prefetch_related(Prefetch("photo", queryset=images))
    if "website" in fields or any(key.startswith(METHODS_PREFIX) for key in fields):
        methods = ContactMethod.objects.select_related("type")
        queryset = queryset.prefetch_related(Prefetch("methods", queryset=methods))
    if "addresses" in fields:
        queryset = queryset.prefetch_related("addresses")
    if "tags" in fields:
        queryset = queryset.prefetch_related("tags")
    return queryset


def public_contact_list(kind=None, folder=None, tag="", limit=None, fields=None):
    """Public contacts for a list on a page, ordered by name.

    Args:
        kind: "person" or "organization"; both when empty.
        folder: a Folder or its id; every public folder when empty.
        tag: a tag name (any case); no tag filter when empty.
        limit: the most contacts to return; all when empty.
        fields: public field keys to load; those of the setting when None.

    Returns:
        A queryset of Contact, ready for :func:`public_card`.
    """
    queryset = public_contacts()
    if kind:
        queryset = queryset.filter(kind=kind)
    if folder:
        queryset = queryset.filter(folder=folder)
    if tag:
        tagged = ContactTag.objects.filter(tag__name__iexact=tag).values("content_object_id")
        queryset = queryset.filter(pk__in=tagged)
    queryset = with_public_related(queryset.order_by("sort_name", "pk"), fields)
    return queryset[:limit] if limit else queryset


def phone_display_format(request=None):
    """The phone display format of CRMSettings, read once per request when one is given."""
    try:
        return CRMSettings.load(request_or_site=request).phone_display_format
    except DatabaseError:
        return "international"


def public_card(contact, fields=None, phone_format="international"):
    """A contact as a plain dict of its public fields: what templates may render.

    Args:
        contact: a Contact, best loaded through :func:`with_public_related`.
        fields: public field keys; those of the setting when None.
        phone_format: "international", "national" or "e164".

    Returns:
        A dict with "kind" and one entry for each public field key. Links (email, phone, web)
        are dicts of "value" (to show) and "link" (a URL, possibly empty).
    """
    fields = public_fields() if fields is None else fields
    card = {"kind": contact.kind}
    for key in fields:
        if key.startswith(METHODS_PREFIX):
            card.setdefault("methods", {})[key[len(METHODS_PREFIX):]] = _methods(
                contact, key[len(METHODS_PREFIX):], phone_format
            )
        else:
            card[key] = _FIELD_VALUES[key](contact, phone_format)
    return card


def _organization(contact, phone_format):
    organization = contact.primary_organization if contact.primary_organization_id else None
    return organization.display_name if is_public(organization) else ""


def _photo(contact, phone_format):
    if not contact.photo_id or contact.photo is None:
        return None
    try:
        rendition = contact.photo.get_rendition(crm_settings.PUBLIC_PHOTO_FILTER)
    except SourceImageIOError:
        # The image file is missing: show the card without it rather than fail the page.
        return None
    return {"url": rendition.url, "width": rendition.width, "height": rendition.height}


def _website(contact, phone_format):
    for method in contact.methods.all():
        if method.scheme == MethodScheme.URL and _is_web_address(method.value):
            return {"value": method.value, "link": method.value}
    return None


def _is_web_address(value):
    return urlsplit(value).scheme.lower() in WEB_SCHEMES


def _email(contact, phone_format):
    if not contact.primary_email:
        return None
    return {
        "value": contact.primary_email,
        "link": "mailto:" + quote(contact.primary_email, safe="@+."),
    }


def _phone(contact, phone_format):
    if not contact.primary_phone:
        return None
    return {
        "value": format_phone(contact.primary_phone, phone_format),
        "link": "tel:" + contact.primary_phone,
    }


def _methods(contact, scheme, phone_format):
    return [
        {
            "type": method.type.name,
            "label": method.label,
            "value": method.display_value(phone_format),
            "link": method.link(),
        }
        for method in contact.methods.all()
        if method.scheme == scheme
        and (scheme != MethodScheme.URL or _is_web_address(method.value))
    ]


def _addresses(contact, phone_format):
    return [
        {
            "label": address.label,
            "street": address.street,
            "extended": address.extended,
            "po_box": address.po_box,
            "locality": address.locality,
            "region": address.region,
            "postal_code": address.postal_code,
            "country": str(address.country.name) if address.country else "",
        }
        for address in contact.addresses.all()
    ]


_FIELD_VALUES = {
    "display_name": lambda contact, phone_format: contact.display_name,
    "job_title": lambda contact, phone_format: contact.job_title,
    "organization": _organization,
    "organization_type": lambda contact, phone_format: (
        str(contact.get_organization_type_display()) if contact.organization_type else ""
    ),
    "photo": _photo,
    "city": lambda contact, phone_format: contact.city,
    "country": lambda contact, phone_format: str(contact.country.name) if contact.country else "",
    "website": _website,
    "tags": lambda contact, phone_format: sorted(tag.name for tag in contact.tags.all()),
    "primary_email": _email,
    "primary_phone": _phone,
    "addresses": _addresses,
}
