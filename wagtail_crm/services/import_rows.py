"""Records to rows for the import (services/importing.py): checks, conversions and photos.

:class:`RowPreparer` turns each :class:`~wagtail_crm.interop.records.ContactRecord` into an
:class:`~.matching.Incoming` row, or raises :class:`RowFailure` with the reason; everything
here is Python, without a query per row. :func:`image_from_photo` turns an imported photo into
a Wagtail image after checking it with Pillow.
"""

from __future__ import annotations

import io
import uuid
import warnings

import phonenumbers
from django.core.exceptions import ValidationError
from django.core.validators import validate_email

from ..conf import crm_settings
from ..interop.records import ContactRecord
from ..models import (
    Address,
    Contact,
    ContactKind,
    ContactMethodType,
    CRMSettings,
    CustomField,
    OrganizationType,
)
from ..models.fields import CustomFieldType, clean_custom_values
from .matching import ADDRESS_PARTS, SCALARS, Incoming

UNSAFE_URL_SCHEMES = ("javascript:", "data:", "vbscript:")
KINDS = frozenset(ContactKind.values)
_FIELD_LABELS = {"given_name": "given name", "family_name": "family name",
                 "additional_names": "additional names", "organization_name": "organisation",
                 "job_title": "job title", "uid": "UID", "po_box": "PO box",
                 "locality": "city", "postal_code": "postal code"}


# Records to rows ------------------------------------------------------------------------------


class RowFailure(Exception):
    """A record that cannot be imported; the message is the reason."""


class RowPreparer:
    """Checks records and converts them to :class:`~.matching.Incoming` rows.

    Reads the method types, custom field definitions and phone region once per import.
    """

    def __init__(self):
        types = list(ContactMethodType.objects.all())
        self.types = {t.name: t for t in types}
        by_scheme = {}
        for t in types:
            by_scheme.setdefault(t.scheme, t)
        self.email = self._type("Email", "email", by_scheme)
        self.phone = self._type("Phone", "phone", by_scheme)
        self.mobile = self._type("Mobile", "phone", by_scheme, self.phone)
        self.fax = self._type("Fax", "phone", by_scheme, self.phone)
        self.website = self._type("Website", "url", by_scheme)
        self.services = {}
        for t in types:
            if t.vcard_type and t.vcard_type.lower() not in self.services:
                self.services[t.vcard_type.lower()] = t
        self.definitions = {}
        for definition in CustomField.objects.filter(target__in=ContactKind.values):
            self.definitions.setdefault(definition.target, {})[definition.key] = definition
        self.region = CRMSettings.get_phone_region()
        self.phones, self.countries = {}, _country_names()
        #: ContactMethod.search_text of phones by (value, normalized), for the index
        self.phone_texts = {}
        self.lengths = {f.name: f.max_length for f in Contact._meta.concrete_fields
                        if f.name in SCALARS and f.max_length}

    def _type(self, name, scheme, by_scheme, fallback=None):
        mtype = self.types.get(name)
        if mtype is not None and mtype.scheme == scheme:
            return mtype.pk
        if fallback is not None:
            return fallback
        if scheme in by_scheme:
            return by_scheme[scheme].pk
        mtype = ContactMethodType.objects.create(name=name, scheme=scheme)
        self.types[name] = by_scheme[scheme] = mtype
        return mtype.pk

    def prepare(self, record: ContactRecord) -> Incoming:
        """The record as an Incoming row; raises RowFailure with the reason."""
        warns = list(record.warnings)
        kind = record.kind if record.kind in KINDS else ContactKind.PERSON
        fields = {}
        for name in SCALARS:
            value = getattr(record, name, None)
            if value:
                fields[name] = value.strip() if isinstance(value, str) else value
        if kind == ContactKind.PERSON and not any(
            fields.get(n) for n in ("given_name", "family_name", "nickname", "additional_names")
        ):
            formatted = record.formatted_name.strip()
            if formatted:
                # Only a formatted name: the last word as the family name, the rest as given.
                given, _space, family = formatted.rpartition(" ")
                if given:
                    fields["given_name"], fields["family_name"] = given, family
                else:
                    fields["given_name"] = family
            elif fields.get("organization_name"):
                kind = ContactKind.ORGANIZATION
        if kind == ContactKind.ORGANIZATION and not fields.get("organization_name"):
            name = record.formatted_name.strip() or record.department.strip()
            if name:
                fields["organization_name"] = name
        if record.department:
            if kind == ContactKind.ORGANIZATION:
                fields["organization_name"] = record.department.strip()
                fields["organization_type"] = OrganizationType.DEPARTMENT
                if record.organization_name:
                    warns.append(f"department of {record.organization_name.strip()!r}")
            else:
                warns.append(f"department {record.department.strip()!r} not stored")
        for name, value in fields.items():
            limit = self.lengths.get(name)
            if limit and isinstance(value, str) and len(value) > limit:
                raise RowFailure(f"{_FIELD_LABELS.get(name, name.replace('_', ' '))} is "
                                 f"longer than {limit} characters")
        methods = self.methods(record, warns)
        if not (fields.get("given_name") or fields.get("family_name") or fields.get("nickname")
                or fields.get("organization_name") or any(m[1] == "email" for m in methods)):
            raise RowFailure("no name, organisation or email")
        uid = (record.uid or "").strip()
        if len(uid) > 255:
            raise RowFailure("UID is longer than 255 characters")
        addresses = self.addresses(record, warns)
        if not uid and not any(m[1] == "email" for m in methods):
            uid = derived_uid(kind, fields, methods, addresses)
        return Incoming(
            record.line, kind, uid, fields, self.custom(kind, record.custom),
            methods, addresses, self.tags(record.tags), record.photo, warns,
        )

    def methods(self, record, warns):
        methods = []
        for method in record.emails:
            value = method.value.strip()
            try:
                validate_email(value)
                normalized = value.lower()
            except ValidationError:
                normalized = ""
                warns.append(f"{value!r} is not a valid email address: kept as written")
            methods.append(self._method(self.email, "email", value, normalized, method))
        for method in record.phones:
            value = method.value.strip()
            types = method.types
            type_id = (self.mobile if "cell" in types or "mobile" in types
                       else self.fax if "fax" in types else self.phone)
            methods.append(self._method(type_id, "phone", value, self.normalize_phone(value),
                                        method))
        for method in record.urls:
            value = method.value.strip()
            if value.lower().startswith(UNSAFE_URL_SCHEMES):
                warns.append(f"web address {value[:60]!r} not imported: unsafe scheme")
                continue
            if "://" not in value:
                value = f"https://{value}"
            methods.append(self._method(self.website, "url", value, value, method))
        for method in record.handles:
            value = method.value.strip()
            service = method.types[0].lower() if method.types else ""
            mtype = self.services.get(service)
            if mtype is None:
                warns.append(f"{service or 'handle'} {value!r} not imported: no contact method "
                             f"type for that service")
                continue
            normalized = value if mtype.scheme == "url" else value.lstrip("@").lower()
            methods.append(self._method(mtype.pk, mtype.scheme, value, normalized, method))
        for method in methods:
            if len(method[2]) > 255 or len(method[4]) > 50:
                raise RowFailure(f"the {method[1]} {method[2][:40]!r} or its label is too long")
            if not method[2]:
                raise RowFailure(f"an empty {method[1]}")
        return methods

    def _method(self, type_id, scheme, value, normalized, method):
        label = method.label.strip()
        if not label:
            label = next((t for t in method.types if t in ("home", "work", "other")), "")
        return (type_id, scheme, value, normalized[:255], label, bool(method.is_primary))

    def normalize_phone(self, value):
        """E.164, or "" when phonenumbers cannot read it (the value is kept as written).

        The same as :func:`wagtail_crm.phones.normalize_phone` (read in the default region,
        valid numbers only), without building error messages, and remembered per value. The
        search text of the number (``ContactMethod.search_text``) is remembered with it.
        """
        normalized = self.phones.get(value)
        if normalized is None:
            normalized = ""
            try:
                number = phonenumbers.parse(value, self.region.upper() or None)
            except phonenumbers.NumberParseException:
                number = None
            if number is not None and phonenumbers.is_valid_number(number):
                normalized = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
                if not number.extension:
                    national = phonenumbers.format_number(
                        number, phonenumbers.PhoneNumberFormat.NATIONAL).replace(" ", "")
                    self.phone_texts[value, normalized] = " ".join(
                        p for p in (value, normalized, national) if p)
            if len(self.phones) > 200_000:
                self.phones.clear()
                self.phone_texts.clear()
            self.phones[value] = normalized
        return normalized

    def addresses(self, record, warns):
        rows = []
        for address in record.addresses:
            if address.is_empty():
                continue
            country = address.country.strip()
            code = self.countries.get(country.casefold(), "") if country else ""
            if country and not code:
                warns.append(f"country {country!r} not recognised: address kept without it")
            label = address.label.strip() or next(
                (t for t in address.types if t in ("home", "work", "other")), "")
            parts = (address.street, address.extended, address.po_box, address.locality,
                     address.region, address.postal_code)
            parts = tuple(p.strip() for p in parts)
            for name, value in zip(ADDRESS_PARTS, parts, strict=False):
                limit = _ADDRESS_LENGTHS[name]
                if len(value) > limit:
                    raise RowFailure(f"address {_FIELD_LABELS.get(name, name)} is longer "
                                     f"than {limit} characters")
            if len(label) > 50:
                raise RowFailure("address label is longer than 50 characters")
            rows.append((label, bool(address.is_primary), *parts, code))
        return rows

    def tags(self, names):
        tags = []
        for name in names:
            name = name.strip()
            if name and name not in tags:
                if len(name) > 100:
                    raise RowFailure(f"tag {name[:40]!r}... is longer than 100 characters")
                tags.append(name)
        return tags

    def custom(self, kind, values):
        values = {k: v for k, v in (values or {}).items()
                  if not k.startswith("ldap_") and v not in ("", None)}
        if not values:
            return {}
        definitions = self.definitions.get(kind, {})
        present = []
        for key in values:
            definition = definitions.get(key)
            if definition is None:
                continue
            present.append(definition)
            if definition.field_type == CustomFieldType.MULTICHOICE and isinstance(
                    values[key], str):
                values[key] = [p.strip() for p in values[key].split(",") if p.strip()]
        cleaned, errors = clean_custom_values(present, values)
        if errors:
            messages = [m for key in errors for m in errors[key]]
            raise RowFailure("custom field " + "; ".join(messages))
        return cleaned


#: Namespace of the UIDs given to records that have neither a UID nor an email address.
IMPORT_UID_NAMESPACE = uuid.UUID("6f0b7f0e-2f4c-4a8e-9d53-3a4f3c1d2b10")


def derived_uid(kind, fields, methods, addresses):
    """A UID for a record without UID or email: the same for the same record, every time.

    Made from the kind, names, organisation, birthday, phones and other methods, and the first
    address, so that importing the same file again finds the contacts it created.
    """
    parts = [kind, *(str(fields.get(name) or "") for name in (
        "prefix", "given_name", "additional_names", "family_name", "suffix", "nickname",
        "organization_name", "birthday"))]
    parts += sorted(m[3] or m[2] for m in methods)
    if addresses:
        parts += [str(part) for part in addresses[0][2:]]
    return str(uuid.uuid5(IMPORT_UID_NAMESPACE, "\x1f".join(parts).casefold()))


_ADDRESS_LENGTHS = {f.name: f.max_length for f in Address._meta.concrete_fields
                    if f.name in ADDRESS_PARTS}


def _country_names():
    """Country names, official names, old names and ISO codes (case-folded) to ISO codes."""
    from django.utils import translation
    from django_countries import countries
    from django_countries.data import COUNTRIES

    names = {}
    with translation.override("en"):
        pairs = [*COUNTRIES.items(), *countries.COMMON_NAMES.items()]
        pairs += [(code, name) for code, olds in countries.OLD_NAMES.items() for name in olds]
        for code, name in pairs:
            names.setdefault(str(name).casefold(), code)
    for code, name in countries:  # names in the active language too
        names.setdefault(str(name).casefold(), code)
        names[code.casefold()] = code
        alpha3 = countries.alpha3(code)
        if alpha3:
            names[alpha3.casefold()] = code
    return names


# Photos ---------------------------------------------------------------------------------------

_IMAGE_EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "GIF": "gif", "WEBP": "webp"}


def image_from_photo(photo, title, *, user=None, save=True):
    """A Wagtail image of an imported photo, checked with Pillow first.

    The photo must be at most ``WAGTAIL_CRM_IMPORT_MAX_PHOTO_BYTES`` long, a JPEG, PNG, GIF or
    WebP that Pillow reads, with at most ``WAGTAIL_CRM_IMPORT_MAX_PHOTO_PIXELS`` pixels
    (Pillow's decompression bomb guard is also turned into a refusal).

    Returns:
        ``(image, warning)``: the saved image and "", or None and why the photo was not
        imported. With ``save=False`` the photo is only checked (the image is None).
    """
    from django.core.files.images import ImageFile
    from PIL import Image as PILImage
    from PIL import UnidentifiedImageError
    from wagtail.images import get_image_model

    data = photo.data
    limit = crm_settings.IMPORT_MAX_PHOTO_BYTES
    if limit is not None and len(data) > limit:
        return None, f"photo not imported: larger than {limit:,} bytes"
    bomb = (PILImage.DecompressionBombError, PILImage.DecompressionBombWarning)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("error", PILImage.DecompressionBombWarning)
            with PILImage.open(io.BytesIO(data)) as picture:
                width, height = picture.size
                if width * height > crm_settings.IMPORT_MAX_PHOTO_PIXELS:
                    raise PILImage.DecompressionBombError(f"{width}x{height}")
                kind = picture.format
                picture.verify()
    except bomb:
        return None, "photo not imported: its dimensions are too large (decompression bomb)"
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        return None, "photo not imported: not an image Pillow can read"
    extension = _IMAGE_EXTENSIONS.get(kind)
    if extension is None:
        return None, f"photo not imported: {kind} images are not accepted"
    if not save:
        return None, ""
    image = get_image_model()(
        title=title[:255], file=ImageFile(io.BytesIO(data), name=f"contact-photo.{extension}"),
        uploaded_by_user=user if getattr(user, "pk", None) else None,
    )
    image.save()
    return image, ""
